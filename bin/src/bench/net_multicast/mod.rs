//! `p2p bench net-multicast`: Scribe over each overlay and libp2p's gossipsub, real nodes
//! on loopback, one group with every node a member; delivery, publisher-to-member latency
//! and messages per delivery, before and after a fraction of the nodes crash. Each
//! overlay's network runs beside a gossipsub network of its own, publishes alternating
//! between the two, so that both see the same load of the machine.

mod gossipsub;
mod scribe;
mod tally;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use rand::seq::{IndexedRandom, SliceRandom};
use serde::Serialize;
use tokio::time::MissedTickBehavior;

use crate::bench::net::selected;
use crate::bench::progress::bar;
use crate::bench::rows::print_beside_baseline;
use crate::bench::stats::percentile;
use crate::bench::table;
use crate::cli::{
    OverlayArg, RoutingArgs, fraction, positive_count, positive_rate, positive_seconds,
};
use crate::overlays::{WithNetRouting, with_net_routing};
use gossipsub::GossipNet;
use scribe::ScribeNet;
use tally::{Tally, payload};

/// `p2p bench net-multicast`.
#[derive(Args, Debug, Clone)]
pub struct NetMulticastArgs {
    /// Routing algorithm(s) under Scribe.
    #[arg(long, value_enum, default_value = "all")]
    pub overlay: OverlayArg,
    /// Nodes per network, every one a member of the group.
    #[arg(long, default_value_t = 32, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(4..=256))]
    pub nodes: usize,
    /// Messages published before the crash, and as many again after it, each from a
    /// random live member.
    #[arg(long, default_value_t = 500, value_parser = positive_count)]
    pub messages: usize,
    /// Messages published per second to each network (Scribe's and gossipsub's take turns).
    #[arg(long, default_value_t = 50.0, value_parser = positive_rate)]
    pub rate: f64,
    /// Payload bytes per message (the first 8 carry its number).
    #[arg(long, default_value_t = 256, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(8..=60_000))]
    pub size: usize,
    /// Fraction of the nodes that crash, without warning, between the two halves.
    #[arg(long, default_value_t = 0.25, value_parser = fraction)]
    pub crash: f64,
    /// Seconds between the crash and the first message after it, for repair. Scribe's
    /// defaults detect a lost parent within 6 s (two missed heartbeats).
    #[arg(long, default_value_t = 15.0, value_parser = positive_seconds)]
    pub repair: f64,
    /// Seconds to wait once every member is attached (Scribe: subscribed; gossipsub: has
    /// a mesh), before the first message.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    pub settle: f64,
    /// Longest wait, in seconds, after the last message of a half for its deliveries.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub drain: f64,
    /// Seconds between maintenance rounds of our overlays.
    #[arg(long, default_value_t = 1.0, value_parser = positive_seconds)]
    pub maintenance: f64,
    /// Skip the gossipsub networks beside Scribe's.
    #[arg(long)]
    pub no_gossipsub: bool,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// The routing algorithms' parameters.
    #[command(flatten)]
    pub routing: RoutingArgs,
}

/// One line of `bench net-multicast`.
#[derive(Clone, Debug, Serialize)]
pub struct NetMulticastRow {
    /// Always `net-multicast`.
    pub bench: &'static str,
    /// `scribe` or `gossipsub`.
    pub protocol: &'static str,
    /// Scribe's overlay (`chord`, `can d=2`, …); `null` for gossipsub.
    pub overlay: Option<String>,
    /// For gossipsub, the overlay whose Scribe network it ran beside; `null` for Scribe.
    pub beside: Option<String>,
    /// Nodes, every one a member.
    pub nodes: usize,
    /// Messages published before the crash (and as many after it).
    pub messages: usize,
    /// Deliveries made over deliveries due (each message to every member but its
    /// publisher), before the crash.
    pub delivery_ratio: f64,
    /// Median publisher-to-member latency, milliseconds.
    pub latency_p50_ms: f64,
    /// 99th percentile of that latency.
    pub latency_p99_ms: f64,
    /// Messages sent by all nodes while the messages were published and delivered, over
    /// the deliveries. Scribe: every message of the node (routing, tree maintenance and
    /// acknowledgements included); gossipsub: data messages only (its
    /// `topic_msg_sent_counts` metric), its control messages are not counted.
    pub messages_per_delivery: f64,
    /// Nodes crashed between the two halves.
    pub crashed: usize,
    /// Seconds given to repair before the second half.
    pub repair_s: f64,
    /// Delivery ratio of the messages published after the crash, to surviving members.
    pub delivery_after_crash: f64,
    /// Median latency after the crash.
    pub latency_after_crash_p50_ms: f64,
    /// 99th percentile of latency after the crash.
    pub latency_after_crash_p99_ms: f64,
    /// Messages per delivery after the crash.
    pub messages_per_delivery_after_crash: f64,
    /// This row's median latency over that of the gossipsub network beside it (≤ 1 is as
    /// fast).
    pub p50_vs_gossipsub: Option<f64>,
    /// Wall-clock seconds of the whole row.
    pub wall_s: f64,
}

/// A network whose nodes are all members of one group.
trait Group {
    /// The nodes not crashed.
    fn live(&self) -> Vec<usize>;
    /// Node `node` publishes `payload` to the group.
    async fn publish(&self, node: usize, payload: Vec<u8>) -> Result<()>;
    /// Messages sent so far by `nodes`, summed.
    async fn messages_sent(&self, nodes: &[usize]) -> Result<u64>;
    /// Node `node` stops at once: connections closed, no goodbye.
    fn crash(&mut self, node: usize);
}

/// One half of a run, measured.
struct Half {
    delivery_ratio: f64,
    p50: f64,
    p99: f64,
    messages_per_delivery: f64,
}

/// The networks a run measures side by side.
enum Net {
    Scribe(ScribeNet),
    Gossip(GossipNet),
}

impl Group for Net {
    fn live(&self) -> Vec<usize> {
        match self {
            Net::Scribe(n) => n.live(),
            Net::Gossip(n) => n.live(),
        }
    }

    async fn publish(&self, node: usize, payload: Vec<u8>) -> Result<()> {
        match self {
            Net::Scribe(n) => n.publish(node, payload).await,
            Net::Gossip(n) => n.publish(node, payload).await,
        }
    }

    async fn messages_sent(&self, nodes: &[usize]) -> Result<u64> {
        match self {
            Net::Scribe(n) => n.messages_sent(nodes).await,
            Net::Gossip(n) => n.messages_sent(nodes).await,
        }
    }

    fn crash(&mut self, node: usize) {
        match self {
            Net::Scribe(n) => n.crash(node),
            Net::Gossip(n) => n.crash(node),
        }
    }
}

/// One network of a run and what it saw.
struct Arm {
    net: Net,
    tally: Arc<Tally>,
    /// The overlay of the run: Scribe's own, or the one gossipsub runs beside.
    overlay: String,
}

impl Arm {
    fn protocol(&self) -> &'static str {
        match self.net {
            Net::Scribe(_) => "scribe",
            Net::Gossip(_) => "gossipsub",
        }
    }

    fn label(&self) -> String {
        match self.net {
            Net::Scribe(_) => self.overlay.clone(),
            Net::Gossip(_) => self.protocol().to_string(),
        }
    }
}

/// Publishes `args.messages` messages numbered from `first` to each network, each from a
/// random live node, at `args.rate` per second per network (the networks taking turns,
/// evenly spaced), and waits for their deliveries (at most `args.drain`).
async fn half(arms: &[Arm], args: &NetMulticastArgs, first: u64, what: &str) -> Result<Vec<Half>> {
    let live: Vec<Vec<usize>> = arms.iter().map(|a| a.net.live()).collect();
    let mut before = Vec::with_capacity(arms.len());
    for (arm, live) in arms.iter().zip(&live) {
        before.push(arm.net.messages_sent(live).await?);
    }
    let pb = bar(args.messages as u64, what, args.quiet);
    let turn = Duration::from_secs_f64(1.0 / args.rate / arms.len() as f64);
    let mut tick = tokio::time::interval(turn);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ids = first..first + args.messages as u64;
    for id in ids.clone() {
        for (arm, live) in arms.iter().zip(&live) {
            tick.tick().await;
            let from = *live.choose(&mut rand::rng()).expect("a live node");
            arm.tally.published(id, from, live.len() - 1);
            if let Err(e) = arm.net.publish(from, payload(id, args.size)).await {
                // Counted as undelivered: its deliveries are due and never come.
                tracing::debug!("{}: message {id}: {e:#}", arm.label());
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let deadline = Instant::now() + Duration::from_secs_f64(args.drain);
    while !arms.iter().all(|a| a.tally.complete(ids.clone())) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut halves = Vec::with_capacity(arms.len());
    for ((arm, live), before) in arms.iter().zip(&live).zip(before) {
        let sent = arm.net.messages_sent(live).await?.saturating_sub(before);
        let d = arm.tally.delivered(ids.clone());
        halves.push(Half {
            delivery_ratio: d.delivered as f64 / d.expected.max(1) as f64,
            p50: percentile(&d.latency_ms, 0.5),
            p99: percentile(&d.latency_ms, 0.99),
            messages_per_delivery: sent as f64 / d.delivered.max(1) as f64,
        });
    }
    Ok(halves)
}

/// Waits (at most 60 s) for every member of every network to attach, lets the groups
/// settle, measures a half, crashes `args.crash` of each network's nodes, waits
/// `args.repair` and measures the other half: one row per network, Scribe's with its
/// median over gossipsub's.
async fn measure(mut arms: Vec<Arm>, args: &NetMulticastArgs) -> Result<Vec<NetMulticastRow>> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    while arms.iter().any(|a| a.tally.attached_count() < args.nodes) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for arm in &arms {
        let attached = arm.tally.attached_count();
        if attached < args.nodes {
            tracing::warn!(
                "{}: {attached} of {} members attached within 60 s",
                arm.label(),
                args.nodes
            );
        }
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let what = arms.iter().map(Arm::label).collect::<Vec<_>>().join(" + ");
    let stable = half(&arms, args, 0, &what).await?;
    let crashed = ((args.nodes as f64 * args.crash).round() as usize).min(args.nodes - 2);
    for arm in &mut arms {
        let mut victims = arm.net.live();
        victims.shuffle(&mut rand::rng());
        for node in &victims[..crashed] {
            arm.net.crash(*node);
        }
    }
    tokio::time::sleep(Duration::from_secs_f64(args.repair)).await;
    let after = half(
        &arms,
        args,
        args.messages as u64,
        &format!("{what} crashed"),
    )
    .await?;
    let gossip_p50 = arms
        .iter()
        .zip(&stable)
        .find(|(a, _)| matches!(a.net, Net::Gossip(_)))
        .map(|(_, h)| h.p50);
    let wall_s = started.elapsed().as_secs_f64();
    Ok(arms
        .into_iter()
        .zip(stable.into_iter().zip(after))
        .map(|(arm, (stable, after))| {
            let protocol = arm.protocol();
            let (overlay, beside, p50_vs_gossipsub) = match arm.net {
                Net::Scribe(_) => (Some(arm.overlay), None, gossip_p50.map(|g| stable.p50 / g)),
                Net::Gossip(_) => (None, Some(arm.overlay), None),
            };
            NetMulticastRow {
                bench: "net-multicast",
                protocol,
                p50_vs_gossipsub,
                overlay,
                beside,
                nodes: args.nodes,
                messages: args.messages,
                delivery_ratio: stable.delivery_ratio,
                latency_p50_ms: stable.p50,
                latency_p99_ms: stable.p99,
                messages_per_delivery: stable.messages_per_delivery,
                crashed,
                repair_s: args.repair,
                delivery_after_crash: after.delivery_ratio,
                latency_after_crash_p50_ms: after.p50,
                latency_after_crash_p99_ms: after.p99,
                messages_per_delivery_after_crash: after.messages_per_delivery,
                wall_s,
            }
        })
        .collect())
}

struct ScribeJob<'a> {
    args: &'a NetMulticastArgs,
    runtime: &'a tokio::runtime::Runtime,
    label: String,
}

impl WithNetRouting for ScribeJob<'_> {
    type Out = Result<Vec<NetMulticastRow>>;

    fn run<R: overlay::Routing<Addr = overlay::net::PeerAddr>>(
        self,
        config: R::Config,
    ) -> Result<Vec<NetMulticastRow>> {
        let args = self.args;
        self.runtime.block_on(async {
            let tally = Arc::new(Tally::default());
            let net = ScribeNet::start::<R>(args, config, Arc::clone(&tally)).await?;
            let mut arms = vec![Arm {
                net: Net::Scribe(net),
                tally,
                overlay: self.label.clone(),
            }];
            if !args.no_gossipsub {
                let tally = Arc::new(Tally::default());
                let net = GossipNet::start(args.nodes, Arc::clone(&tally), args.quiet).await?;
                arms.push(Arm {
                    net: Net::Gossip(net),
                    tally,
                    overlay: self.label,
                });
            }
            measure(arms, args).await
        })
    }
}

/// Runs `bench net-multicast` and prints its rows.
pub fn run(args: &NetMulticastArgs) -> Result<()> {
    let runtime = crate::loopback::runtime()?;
    let round = Duration::from_secs_f64(args.maintenance);
    // Each overlay's rows come as a pair, its ratio already in: no baseline of its own.
    let measured =
        selected(args.overlay, &args.routing)
            .into_iter()
            .flat_map(|(overlay, routing, label)| {
                let job = ScribeJob {
                    args,
                    runtime: &runtime,
                    label,
                };
                match with_net_routing(overlay, &routing, round, job).and_then(|rows| rows) {
                    Ok(rows) => rows.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                }
            });
    print_beside_baseline(args.json, None, measured, |_, _| {}, print_table)
}

fn print_table(rows: &[NetMulticastRow]) {
    let headers = [
        "protocol",
        "overlay",
        "nodes",
        "delivered %",
        "ms p50",
        "ms p99",
        "msgs/delivery",
        "crashed",
        "delivered % after",
        "ms p50 after",
        "ms p99 after",
        "p50 vs gossipsub",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.protocol.to_string(),
                match (&r.overlay, &r.beside) {
                    (Some(o), _) => o.clone(),
                    (None, Some(b)) => format!("beside {b}"),
                    (None, None) => "-".into(),
                },
                r.nodes.to_string(),
                format!("{:.2}", 100.0 * r.delivery_ratio),
                format!("{:.2}", r.latency_p50_ms),
                format!("{:.2}", r.latency_p99_ms),
                format!("{:.2}", r.messages_per_delivery),
                r.crashed.to_string(),
                format!("{:.2}", 100.0 * r.delivery_after_crash),
                format!("{:.2}", r.latency_after_crash_p50_ms),
                format!("{:.2}", r.latency_after_crash_p99_ms),
                table::opt(r.p50_vs_gossipsub),
            ]
        })
        .collect();
    table::print(&headers, &cells);
}
