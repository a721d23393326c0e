//! The workload of `bench net --churn`, the same for every network: all nodes join at
//! once; values are written at a steady rate through random nodes while nodes join, crash
//! and leave; each acknowledged write is read through another random node at once, and
//! every one again after repair.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::stream::{self, FuturesUnordered, StreamExt};
use overlay::Key;
use rand::RngExt;
use rand::seq::IndexedRandom;

use crate::bench::progress::bar;

/// A network the workload runs on: how its nodes start, join, read, write and leave.
pub trait ChurnNet {
    /// A running node. Dropping every copy of it crashes it: it says no goodbye.
    type Node: Clone;
    /// Starts a node that joins through `via`; without it the node starts the network.
    fn start(&self, via: Option<&Self::Node>) -> impl Future<Output = Result<Self::Node>>;
    /// Waits until `node` has joined.
    fn joined(&self, node: &Self::Node) -> impl Future<Output = Result<()>>;
    /// Writes `value` under `key` through `node`; whether the write was acknowledged.
    fn put(&self, node: &Self::Node, key: Key, value: Vec<u8>) -> impl Future<Output = bool>;
    /// Reads `key` through `node`: the value found, if any.
    fn get(&self, node: &Self::Node, key: Key) -> impl Future<Output = Option<Vec<u8>>>;
    /// Leaves gracefully (handing over what the node holds, where the network can).
    fn leave(&self, node: Self::Node) -> impl Future<Output = ()>;
    /// What `node` has sent so far, where the network counts it.
    fn traffic(&self, node: &Self::Node) -> impl Future<Output = Option<Traffic>>;
}

/// A node's counters of messages sent and requests unanswered since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages sent (requests and responses).
    pub sent: u64,
    /// Requests that timed out or could not be delivered.
    pub timeouts: u64,
}

impl Traffic {
    /// The counters since `earlier`.
    fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            sent: self.sent.saturating_sub(earlier.sent),
            timeouts: self.timeouts.saturating_sub(earlier.timeouts),
        }
    }
}

/// The workload's sizes and pace.
pub struct Plan {
    /// Nodes started at once.
    pub nodes: usize,
    /// How long the writes and the churn go on.
    pub duration: Duration,
    /// Time between writes.
    pub write_every: Duration,
    /// Time between churn events, which take turns: a join, a crash, a join, a leave.
    pub churn_every: Duration,
    /// Wait between the end of the churn and the last reads.
    pub repair: Duration,
    /// Longest wait for a join.
    pub join_timeout: Duration,
    /// Name on the progress bars.
    pub label: String,
    /// No progress bars.
    pub quiet: bool,
}

/// How reads of acknowledged writes turned out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Returned the last acknowledged value (or a newer one being written).
    pub current: usize,
    /// Returned an older value of the key.
    pub stale: usize,
    /// Returned nothing, or failed.
    pub missing: usize,
}

impl Reads {
    /// Reads made.
    pub fn total(&self) -> usize {
        self.current + self.stale + self.missing
    }

    /// Fraction of reads that returned the current value (1 when there was none).
    pub fn current_fraction(&self) -> f64 {
        match self.total() {
            0 => 1.0,
            t => self.current as f64 / t as f64,
        }
    }

    fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Current => self.current += 1,
            Verdict::Stale => self.stale += 1,
            Verdict::Missing => self.missing += 1,
        }
    }
}

/// What one run measured.
pub struct Outcome {
    /// Seconds from the first start until every node had joined or timed out.
    pub formed_s: f64,
    /// Nodes of the initial set that did not join within the timeout (they are dropped).
    pub join_failed: usize,
    /// Writes made.
    pub writes: usize,
    /// Writes acknowledged.
    pub acked: usize,
    /// Each acknowledged write read through another node right after its acknowledgement.
    pub at_once: Reads,
    /// Every key's last acknowledged write, read once more after repair.
    pub after_repair: Reads,
    /// Latency of the reads made at once, milliseconds.
    pub get_ms: Vec<f64>,
    /// Nodes that joined during the churn.
    pub joins: usize,
    /// Nodes crashed during the churn.
    pub crashes: usize,
    /// Nodes that left during the churn.
    pub leaves: usize,
    /// Messages each node of the first wave still running at the end sent per second
    /// while the writes and the churn went on, on average (`None` where not counted).
    pub sent_per_node_s: Option<f64>,
    /// Requests of those nodes that went unanswered meanwhile, per node.
    pub timeouts_per_node: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Current,
    Stale,
    Missing,
}

/// The key of write slot `slot`.
fn key_of(slot: usize) -> Key {
    Key::hash(format!("churn-{slot}"))
}

/// The value of version `version` of slot `slot`: both numbers, so a read shows which
/// write it found.
fn value_of(slot: usize, version: u32) -> Vec<u8> {
    format!("{slot} {version}").into_bytes()
}

/// How a read of `slot`, whose last acknowledged version is `acked`, turned out.
fn judge(found: Option<&[u8]>, slot: usize, acked: u32) -> Verdict {
    let parsed = found
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|s| s.split_once(' '))
        .and_then(|(s, v)| Some((s.parse::<usize>().ok()?, v.parse::<u32>().ok()?)));
    match parsed {
        Some((s, v)) if s == slot && v >= acked => Verdict::Current,
        Some((s, _)) if s == slot => Verdict::Stale,
        _ => Verdict::Missing,
    }
}

/// Fewest nodes the churn leaves running.
fn min_live(nodes: usize) -> usize {
    (nodes / 2).max(4)
}

/// What a finished operation of the churn phase reports.
enum Done<Node> {
    Write {
        slot: usize,
        version: u32,
        acked: bool,
        read: Option<(Verdict, f64)>,
    },
    Joined(Option<Node>),
    Left,
}

type Op<'a, Node> = Pin<Box<dyn Future<Output = Done<Node>> + 'a>>;

/// Starts the first node, then all the others at once through it, and waits for their
/// joins. Returns the nodes that joined and how many did not.
async fn form<N: ChurnNet>(net: &N, plan: &Plan) -> Result<(Vec<N::Node>, usize)> {
    let first = net.start(None).await?;
    net.joined(&first).await?;
    let started: Vec<Result<N::Node>> =
        futures::future::join_all((1..plan.nodes).map(|_| net.start(Some(&first)))).await;
    let started: Vec<N::Node> = started.into_iter().collect::<Result<_>>()?;
    let pb = bar(
        started.len() as u64,
        &format!("{} join", plan.label),
        plan.quiet,
    );
    let joins = started.iter().map(|node| {
        let pb = pb.clone();
        async move {
            let ok = tokio::time::timeout(plan.join_timeout, net.joined(node))
                .await
                .is_ok_and(|r| r.is_ok());
            pb.inc(1);
            ok
        }
    });
    let joined: Vec<bool> = futures::future::join_all(joins).await;
    pb.finish_and_clear();
    let failed = joined.iter().filter(|ok| !**ok).count();
    let mut live = vec![first];
    live.extend(
        started
            .into_iter()
            .zip(joined)
            .filter_map(|(node, ok)| ok.then_some(node)),
    );
    Ok((live, failed))
}

/// Runs the workload on `net`.
pub async fn run<N: ChurnNet>(net: &N, plan: &Plan) -> Result<Outcome> {
    if plan.nodes < 4 {
        bail!("the churn workload needs at least 4 nodes");
    }
    let formed = Instant::now();
    let (mut live, join_failed) = form(net, plan).await?;
    let formed_s = formed.elapsed().as_secs_f64();
    if live.len() < 2 {
        bail!("only {} node joined", live.len());
    }
    let mut out = Outcome {
        formed_s,
        join_failed,
        writes: 0,
        acked: 0,
        at_once: Reads::default(),
        after_repair: Reads::default(),
        get_ms: Vec::new(),
        joins: 0,
        crashes: 0,
        leaves: 0,
        sent_per_node_s: None,
        timeouts_per_node: None,
    };
    // Beside each live node, its counters when the writes began (`None` for nodes that
    // joined later), to measure the churn phase alone.
    let mut before = Vec::with_capacity(live.len());
    for node in &live {
        before.push(net.traffic(node).await);
    }
    // Per slot: the last acknowledged version and the next version to write.
    let mut acked: Vec<Option<u32>> = Vec::new();
    let mut next: Vec<u32> = Vec::new();
    let mut busy: HashSet<usize> = HashSet::new();
    let mut ops: FuturesUnordered<Op<'_, N::Node>> = FuturesUnordered::new();
    let expected = (plan.duration.as_secs_f64() / plan.write_every.as_secs_f64()).ceil();
    let pb = bar(
        expected as u64,
        &format!("{} writes under churn", plan.label),
        plan.quiet,
    );
    let start = tokio::time::Instant::now();
    let end = start + plan.duration;
    let mut write_tick = tokio::time::interval(plan.write_every);
    write_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut churn_tick = tokio::time::interval_at(start + plan.churn_every, plan.churn_every);
    let mut events = 0usize;
    loop {
        let running = tokio::time::Instant::now() < end;
        if !running && ops.is_empty() {
            break;
        }
        tokio::select! {
            _ = write_tick.tick(), if running => {
                let mut rng = rand::rng();
                // A quarter of the writes overwrite a key written before (one not being
                // written right now), so that stale reads can show.
                let idle: Vec<usize> = (0..acked.len())
                    .filter(|s| acked[*s].is_some() && !busy.contains(s))
                    .collect();
                let slot = match idle.choose(&mut rng) {
                    Some(&s) if rng.random_bool(0.25) => s,
                    _ => {
                        acked.push(None);
                        next.push(1);
                        acked.len() - 1
                    }
                };
                let version = next[slot];
                next[slot] += 1;
                busy.insert(slot);
                // The reader is another node than the writer (there are always two).
                let w = rng.random_range(0..live.len());
                let mut r = rng.random_range(0..live.len() - 1);
                if r >= w {
                    r += 1;
                }
                let (writer, reader) = (live[w].clone(), live[r].clone());
                out.writes += 1;
                ops.push(Box::pin(async move {
                    let key = key_of(slot);
                    let ok = net.put(&writer, key, value_of(slot, version)).await;
                    let read = if ok {
                        let t = Instant::now();
                        let found = net.get(&reader, key).await;
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        let verdict = judge(found.as_deref(), slot, version);
                        if verdict != Verdict::Current {
                            // When in the run the misses come tells convergence from churn.
                            tracing::info!(
                                ?key,
                                slot,
                                version,
                                ?verdict,
                                at_s = start.elapsed().as_secs_f64(),
                                "a read right after an acknowledged write was not current"
                            );
                        }
                        Some((verdict, ms))
                    } else {
                        None
                    };
                    Done::Write { slot, version, acked: ok, read }
                }));
            }
            _ = churn_tick.tick(), if running => {
                let mut rng = rand::rng();
                let can_shrink = live.len() > min_live(plan.nodes);
                match events % 4 {
                    0 | 2 => {
                        let via = live[rng.random_range(0..live.len())].clone();
                        out.joins += 1;
                        ops.push(Box::pin(async move {
                            let Ok(node) = net.start(Some(&via)).await else {
                                return Done::Joined(None);
                            };
                            let ok = tokio::time::timeout(plan.join_timeout, net.joined(&node))
                                .await
                                .is_ok_and(|r| r.is_ok());
                            Done::Joined(ok.then_some(node))
                        }));
                    }
                    1 if can_shrink => {
                        drop(take_random(&mut live, &mut before, &mut rng));
                        out.crashes += 1;
                    }
                    3 if can_shrink => {
                        let node = take_random(&mut live, &mut before, &mut rng);
                        out.leaves += 1;
                        ops.push(Box::pin(async move {
                            let _ = tokio::time::timeout(Duration::from_secs(60), net.leave(node)).await;
                            Done::Left
                        }));
                    }
                    _ => {}
                }
                events += 1;
            }
            Some(done) = ops.next() => match done {
                Done::Write { slot, version, acked: ok, read } => {
                    busy.remove(&slot);
                    pb.inc(1);
                    if ok {
                        out.acked += 1;
                        acked[slot] = Some(acked[slot].map_or(version, |a| a.max(version)));
                    }
                    if let Some((verdict, ms)) = read {
                        out.at_once.count(verdict);
                        out.get_ms.push(ms);
                    }
                }
                Done::Joined(Some(node)) => {
                    live.push(node);
                    before.push(None);
                }
                Done::Joined(None) | Done::Left => {}
            },
            _ = tokio::time::sleep_until(end), if running => {}
        }
    }
    pb.finish_and_clear();
    let churned_s = start.elapsed().as_secs_f64();
    measure_traffic(net, &live, &before, churned_s, &mut out).await;
    tokio::time::sleep(plan.repair).await;

    let written: Vec<(usize, u32)> = acked
        .iter()
        .enumerate()
        .filter_map(|(s, a)| a.map(|a| (s, a)))
        .collect();
    let pb = bar(
        written.len() as u64,
        &format!("{} reads after repair", plan.label),
        plan.quiet,
    );
    let live = &live;
    let verdicts: Vec<Verdict> = stream::iter(written)
        .map(|(slot, version)| {
            let reader = live[rand::rng().random_range(0..live.len())].clone();
            let pb = pb.clone();
            async move {
                let found = net.get(&reader, key_of(slot)).await;
                pb.inc(1);
                judge(found.as_deref(), slot, version)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    pb.finish_and_clear();
    for v in verdicts {
        out.after_repair.count(v);
    }
    Ok(out)
}

/// Takes a random node out of the run, with its counters from `before` (kept at the same
/// index), so that the two vectors stay in step.
fn take_random<T, U>(live: &mut Vec<T>, before: &mut Vec<U>, rng: &mut impl rand::Rng) -> T {
    let at = rng.random_range(0..live.len());
    before.swap_remove(at);
    live.swap_remove(at)
}

/// Fills in `out`'s traffic: what the nodes running since the writes began (those with
/// counters in `before`) sent over the `churned_s` seconds of writes and churn, per node.
async fn measure_traffic<N: ChurnNet>(
    net: &N,
    live: &[N::Node],
    before: &[Option<Traffic>],
    churned_s: f64,
    out: &mut Outcome,
) {
    let mut total = Traffic::default();
    let mut counted = 0usize;
    for (node, earlier) in live.iter().zip(before) {
        let (Some(earlier), Some(now)) = (earlier, net.traffic(node).await) else {
            continue;
        };
        let d = now.since(*earlier);
        total.sent += d.sent;
        total.timeouts += d.timeouts;
        counted += 1;
    }
    if counted > 0 && churned_s > 0.0 {
        out.sent_per_node_s = Some(total.sent as f64 / counted as f64 / churned_s);
        out.timeouts_per_node = Some(total.timeouts as f64 / counted as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_judged_by_the_version_they_found() {
        assert_eq!(judge(Some(&value_of(7, 3)), 7, 3), Verdict::Current);
        assert_eq!(judge(Some(&value_of(7, 4)), 7, 3), Verdict::Current);
        assert_eq!(judge(Some(&value_of(7, 2)), 7, 3), Verdict::Stale);
        assert_eq!(judge(Some(&value_of(8, 3)), 7, 3), Verdict::Missing);
        assert_eq!(judge(Some(b"garbage"), 7, 3), Verdict::Missing);
        assert_eq!(judge(None, 7, 3), Verdict::Missing);
    }

    #[test]
    fn fractions_count_current_reads_only() {
        let r = Reads {
            current: 998,
            stale: 1,
            missing: 1,
        };
        assert_eq!(r.total(), 1000);
        assert!((r.current_fraction() - 0.998).abs() < 1e-12);
        assert_eq!(Reads::default().current_fraction(), 1.0);
    }
}
