//! `p2p demo`: real libp2p nodes on loopback in one process, put and get through random
//! nodes, some nodes killed, gets again, graceful leaves, and a short report.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use overlay::net::{NetHandle, PeerAddr};
use overlay::{Key, Routing};
use rand::RngExt;

use crate::bench::progress::bar;
use crate::daemon::{dht_config, node_config};
use crate::loopback::{LoopbackNet, idle_timeout};
use crate::net_cli::DemoArgs;
use crate::overlays::{WithNetRouting, with_net_routing};

/// Maintenance rounds between two batches of the kill: time for repair to restore the
/// replicas a batch took before the next one (`--kill-batch`'s help says the same).
const KILL_PAUSE_ROUNDS: u32 = 3;
/// Maintenance rounds after the last batch before the reads.
const AFTER_KILL_ROUNDS: u32 = 6;

/// "1 node", "2 nodes".
fn nodes_count(n: usize) -> String {
    if n == 1 {
        "1 node".into()
    } else {
        format!("{n} nodes")
    }
}

/// Runs the demo and prints its report.
pub fn run(args: DemoArgs) -> Result<()> {
    let runtime = crate::loopback::runtime()?;
    let round = Duration::from_secs_f64(args.maintenance);
    let job = DemoJob {
        args: &args,
        runtime: &runtime,
    };
    with_net_routing(args.overlay, &args.routing, round, job)?
}

struct DemoJob<'a> {
    args: &'a DemoArgs,
    runtime: &'a tokio::runtime::Runtime,
}

impl WithNetRouting for DemoJob<'_> {
    type Out = Result<()>;

    fn run<R: Routing<Addr = PeerAddr>>(self, config: R::Config) -> Result<()> {
        self.runtime.block_on(demo::<R>(self.args, config))
    }
}

/// What one round of reads found.
struct Reads {
    ok: usize,
    hops: Vec<u32>,
    latency_ms: Vec<f64>,
}

impl Reads {
    fn line(&self, total: usize) -> String {
        let mean_hops =
            self.hops.iter().map(|&h| h as f64).sum::<f64>() / self.hops.len().max(1) as f64;
        let mut lat = self.latency_ms.clone();
        lat.sort_by(f64::total_cmp);
        let p50 = lat.get(lat.len() / 2).copied().unwrap_or(f64::NAN);
        format!(
            "{}/{total} values read; lookups {:.2} hops on average, median latency {p50:.2} ms",
            self.ok, mean_hops
        )
    }
}

async fn read_all(
    nodes: &[NetHandle],
    keys: &[(Key, Vec<u8>)],
    what: &str,
    quiet: bool,
) -> Result<Reads> {
    let pb = bar(keys.len() as u64, what, quiet);
    let mut reads = Reads {
        ok: 0,
        hops: Vec::new(),
        latency_ms: Vec::new(),
    };
    for (key, value) in keys {
        let node = &nodes[rand::rng().random_range(0..nodes.len())];
        if let Ok(Some(v)) = node.get(*key).await
            && v == *value
        {
            reads.ok += 1;
        }
        if let Ok(report) = node.lookup(*key).await {
            reads.hops.push(report.hops);
            reads.latency_ms.push(report.latency_ms);
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(reads)
}

/// Kills `count` random nodes without warning, `batch` at a time with `pause` after every
/// batch but the last, and returns how many keys had all `r` of their replicas (as lookups
/// just before the batch named them) in one batch: the keys no repair can bring back.
async fn kill_in_batches(
    nodes: &mut Vec<NetHandle>,
    keys: &[(Key, Vec<u8>)],
    count: usize,
    batch: usize,
    r: usize,
    pause: Duration,
) -> usize {
    let mut lost = 0;
    let mut left = count;
    while left > 0 {
        let mut named: Vec<Vec<String>> = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let node = &nodes[rand::rng().random_range(0..nodes.len())];
            if let Ok(report) = node.lookup(*key).await {
                named.push(report.replicas.into_iter().map(|(_, peer)| peer).collect());
            }
        }
        let mut dead = std::collections::HashSet::new();
        for _ in 0..batch.min(left) {
            let i = rand::rng().random_range(0..nodes.len());
            dead.insert(nodes[i].peer_id().to_string());
            drop(nodes.swap_remove(i));
        }
        left -= dead.len();
        lost += named
            .iter()
            .filter(|replicas| {
                replicas.len() >= r && replicas.iter().take(r).all(|p| dead.contains(p))
            })
            .count();
        if left > 0 {
            tokio::time::sleep(pause).await;
        }
    }
    lost
}

async fn demo<R: Routing<Addr = PeerAddr>>(args: &DemoArgs, config: R::Config) -> Result<()> {
    let round = Duration::from_secs_f64(args.maintenance);
    let n = args.nodes as usize;
    println!(
        "p2p demo: {} with {n} real libp2p nodes on 127.0.0.1 (TCP + Noise + Yamux), replication {}",
        R::NAME,
        args.replication
    );

    let started = Instant::now();
    let net = LoopbackNet::<R> {
        routing: config,
        node: node_config(args.lookup_mode.mode()),
        dht: dht_config(args.replication, round),
        idle_timeout: idle_timeout(n, round),
    };
    let mut nodes = net.start_nodes(n, args.quiet).await?;
    println!(
        "  formed the overlay: {n} nodes joined in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(round * 3).await;

    let keys: Vec<(Key, Vec<u8>)> = (0..args.keys)
        .map(|i| {
            (
                Key::hash(format!("demo-key-{i}")),
                format!("value {i}").into_bytes(),
            )
        })
        .collect();
    let pb = bar(keys.len() as u64, "storing", args.quiet);
    let mut stored = 0;
    for (key, value) in &keys {
        let node = &nodes[rand::rng().random_range(0..nodes.len())];
        if node.put(*key, value.clone()).await.is_ok() {
            stored += 1;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    println!("  stored {stored}/{} keys through random nodes", keys.len());
    let reads = read_all(&nodes, &keys, "reading", args.quiet).await?;
    println!("  {}", reads.line(keys.len()));

    let killed = ((n as f64 * args.kill).round() as usize).min(n - 2);
    let r = usize::from(args.replication);
    let batch = args
        .kill_batch
        .map_or(r.saturating_sub(1), usize::from)
        .max(1);
    if killed == 0 {
        println!(
            "  killed no node (--kill {}); waiting {AFTER_KILL_ROUNDS} maintenance rounds",
            args.kill
        );
    } else {
        let pause = round * KILL_PAUSE_ROUNDS;
        let lost = kill_in_batches(&mut nodes, &keys, killed, batch, r, pause).await;
        println!(
            "  killed {} without warning, {} at a time and {KILL_PAUSE_ROUNDS} \
             maintenance rounds apart ({lost} keys had all {r} of their replicas in one \
             batch); waiting {AFTER_KILL_ROUNDS} maintenance rounds",
            nodes_count(killed),
            batch.min(killed)
        );
    }
    tokio::time::sleep(round * AFTER_KILL_ROUNDS).await;
    let reads = read_all(&nodes, &keys, "reading", args.quiet).await?;
    println!("  after the crash: {}", reads.line(keys.len()));

    let leaving = nodes.len() / 2;
    for node in nodes.drain(..leaving) {
        tokio::time::timeout(Duration::from_secs(60), node.leave())
            .await
            .context("a node did not finish leaving within 60 s")??;
    }
    println!(
        "  {} left gracefully (each handed its keys over)",
        nodes_count(leaving)
    );
    tokio::time::sleep(round * 2).await;
    let reads = read_all(&nodes, &keys, "reading", args.quiet).await?;
    println!("  after the leaves: {}", reads.line(keys.len()));
    for node in nodes.drain(..) {
        let _ = tokio::time::timeout(Duration::from_secs(10), node.leave()).await;
    }
    println!("  done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
