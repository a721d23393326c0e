//! `p2p bench net --churn`: consistency of real overlays while nodes join, crash and leave.
//! All nodes join at once, values are written at a steady rate through random nodes during
//! churn, and every acknowledged write is read through another random node at once and
//! again after repair; libp2p-kad runs the same workload beside our overlays.

mod networks;
mod workload;

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use overlay::net::PeerAddr;
use overlay::{LookupMode, Routing};
use serde::Serialize;

use crate::bench::net::selected;
use crate::bench::rows::print_beside_baseline;
use crate::bench::stats::percentile;
use crate::bench::table;
use crate::cli::{NetArgs, positive_rate, positive_seconds};
use crate::daemon::{dht_config, node_config};
use crate::loopback::{LoopbackNet, idle_timeout};
use crate::overlays::{WithNetRouting, with_net_routing};
use networks::KadNet;
use workload::{Outcome, Plan};

/// The settings of `bench net --churn`.
#[derive(Args, Debug, Clone)]
pub struct ChurnArgs {
    /// Measure consistency under churn instead of lookups: all nodes join at once, values
    /// are written at a steady rate through random nodes while nodes join, crash and
    /// leave, and each acknowledged write is read through another random node at once and
    /// again after repair.
    #[arg(id = "churn", long = "churn")]
    pub enabled: bool,
    /// Seconds of writes and churn.
    #[arg(long, default_value_t = 60.0, value_parser = positive_seconds, requires = "churn")]
    pub duration: f64,
    /// Writes per second; a quarter of them overwrite a key written before.
    #[arg(long, default_value_t = 10.0, value_parser = positive_rate, requires = "churn")]
    pub write_rate: f64,
    /// Seconds between churn events, which take turns: a join, a crash, a join, a leave
    /// (a crash or leave is skipped while only half the nodes are left).
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds, requires = "churn")]
    pub churn_interval: f64,
    /// Seconds between the end of the churn and the reads of every acknowledged write.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds, requires = "churn")]
    pub repair: f64,
    /// Seconds a node has to join; nodes of the first wave that miss it are counted and
    /// dropped.
    #[arg(long, default_value_t = 120.0, value_parser = positive_seconds, requires = "churn")]
    pub join_timeout: f64,
}

/// One line of `bench net --churn`.
#[derive(Clone, Debug, Serialize)]
pub struct NetChurnRow {
    /// Always `net-churn`.
    pub bench: &'static str,
    /// The overlay (`chord`, `can d=2`, `libp2p-kad`).
    pub overlay: String,
    /// How its lookups (and so its gets) travelled (`iterative`, `recursive`; `null` for
    /// Kademlia).
    pub mode: Option<&'static str>,
    /// Nodes started at once.
    pub nodes: usize,
    /// Seconds until every one of them had joined (or missed the join timeout).
    pub formed_s: f64,
    /// Nodes of that first wave that did not join in time.
    pub join_failed: usize,
    /// Writes made during the churn.
    pub writes: usize,
    /// Writes acknowledged.
    pub writes_acked: usize,
    /// Fraction of acknowledged writes read back, current, through another node at once.
    pub read_at_once: f64,
    /// Reads at once that returned an older value of the key.
    pub stale_at_once: usize,
    /// Reads at once that found nothing.
    pub missing_at_once: usize,
    /// Fraction of keys whose last acknowledged value was read after repair.
    pub read_after_repair: f64,
    /// Reads after repair that returned an older value.
    pub stale_after_repair: usize,
    /// Reads after repair that found nothing.
    pub missing_after_repair: usize,
    /// Median latency of the reads at once, milliseconds (lookup and fetch, end to end).
    pub get_ms_p50: f64,
    /// 99th percentile of that latency.
    pub get_ms_p99: f64,
    /// Nodes that joined during the churn.
    pub joins: usize,
    /// Nodes crashed without warning during the churn.
    pub crashes: usize,
    /// Nodes that left gracefully during the churn.
    pub leaves: usize,
    /// Messages a node sent per second during the churn, on average over the nodes that
    /// ran throughout (`null` for Kademlia, which does not count them).
    pub sent_per_node_s: Option<f64>,
    /// Requests of such a node that went unanswered during the churn, on average.
    pub timeouts_per_node: Option<f64>,
    /// This overlay's median read latency over libp2p-kad's.
    pub p50_vs_kad: Option<f64>,
    /// Wall-clock seconds of the whole row.
    pub wall_s: f64,
}

fn row(
    args: &NetArgs,
    overlay: String,
    mode: Option<LookupMode>,
    o: Outcome,
    wall_s: f64,
) -> NetChurnRow {
    let mut ms = o.get_ms;
    ms.sort_by(f64::total_cmp);
    NetChurnRow {
        bench: "net-churn",
        overlay,
        mode: mode.map(LookupMode::name),
        nodes: args.nodes,
        formed_s: o.formed_s,
        join_failed: o.join_failed,
        writes: o.writes,
        writes_acked: o.acked,
        read_at_once: o.at_once.current_fraction(),
        stale_at_once: o.at_once.stale,
        missing_at_once: o.at_once.missing,
        read_after_repair: o.after_repair.current_fraction(),
        stale_after_repair: o.after_repair.stale,
        missing_after_repair: o.after_repair.missing,
        get_ms_p50: percentile(&ms, 0.5),
        get_ms_p99: percentile(&ms, 0.99),
        joins: o.joins,
        crashes: o.crashes,
        leaves: o.leaves,
        sent_per_node_s: o.sent_per_node_s,
        timeouts_per_node: o.timeouts_per_node,
        p50_vs_kad: None,
        wall_s,
    }
}

fn plan(args: &NetArgs, label: &str) -> Plan {
    let c = &args.churn;
    Plan {
        nodes: args.nodes,
        duration: Duration::from_secs_f64(c.duration),
        write_every: Duration::from_secs_f64(1.0 / c.write_rate),
        churn_every: Duration::from_secs_f64(c.churn_interval),
        repair: Duration::from_secs_f64(c.repair),
        join_timeout: Duration::from_secs_f64(c.join_timeout),
        label: label.to_string(),
        quiet: args.quiet,
    }
}

struct ChurnJob<'a> {
    args: &'a NetArgs,
    label: &'a str,
    mode: LookupMode,
    runtime: &'a tokio::runtime::Runtime,
}

impl WithNetRouting for ChurnJob<'_> {
    type Out = Result<Outcome>;

    fn run<R: Routing<Addr = PeerAddr>>(self, config: R::Config) -> Result<Outcome> {
        let round = Duration::from_secs_f64(self.args.maintenance);
        let net = LoopbackNet::<R> {
            routing: config,
            node: node_config(self.mode),
            dht: dht_config(self.args.replication, round),
            idle_timeout: idle_timeout(self.args.nodes, round),
        };
        self.runtime
            .block_on(workload::run(&net, &plan(self.args, self.label)))
    }
}

/// Runs `bench net --churn` and prints its rows.
pub fn run(args: &NetArgs) -> Result<()> {
    let runtime = crate::loopback::runtime()?;
    let round = Duration::from_secs_f64(args.maintenance);
    let kad = match args.no_kad {
        true => None,
        false => {
            let started = Instant::now();
            let o = runtime.block_on(workload::run(&KadNet, &plan(args, "libp2p-kad")))?;
            let wall = started.elapsed().as_secs_f64();
            Some(row(args, "libp2p-kad".into(), None, o, wall))
        }
    };
    // Each mode on a network of its own: the DHT's gets travel in the nodes' mode.
    let measured = selected(args.overlay, &args.routing)
        .into_iter()
        .flat_map(|(overlay, routing, label)| {
            args.lookup_mode
                .iter()
                .map(move |m| (overlay, routing.clone(), label.clone(), m.mode()))
        })
        .map(|(overlay, routing, label, mode)| {
            let started = Instant::now();
            let job = ChurnJob {
                args,
                label: &format!("{label} {}", mode.name()),
                mode,
                runtime: &runtime,
            };
            let o = with_net_routing(overlay, &routing, round, job)??;
            let wall = started.elapsed().as_secs_f64();
            Ok(row(args, label, Some(mode), o, wall))
        });
    print_beside_baseline(
        args.json,
        kad,
        measured,
        |r, k| r.p50_vs_kad = Some(r.get_ms_p50 / k.get_ms_p50),
        print_table,
    )
}

fn print_table(rows: &[NetChurnRow]) {
    let headers = [
        "overlay",
        "mode",
        "nodes",
        "formed s",
        "join fails",
        "acked",
        "read at once %",
        "stale",
        "after repair %",
        "stale",
        "get ms p50",
        "get ms p99",
        "joins/crashes/leaves",
        "msgs/node/s",
        "timeouts/node",
        "p50 vs kad",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.overlay.clone(),
                r.mode.unwrap_or("-").to_string(),
                r.nodes.to_string(),
                format!("{:.1}", r.formed_s),
                r.join_failed.to_string(),
                format!("{}/{}", r.writes_acked, r.writes),
                format!("{:.2}", 100.0 * r.read_at_once),
                r.stale_at_once.to_string(),
                format!("{:.2}", 100.0 * r.read_after_repair),
                r.stale_after_repair.to_string(),
                format!("{:.2}", r.get_ms_p50),
                format!("{:.2}", r.get_ms_p99),
                format!("{}/{}/{}", r.joins, r.crashes, r.leaves),
                table::opt(r.sent_per_node_s),
                table::opt(r.timeouts_per_node),
                table::opt(r.p50_vs_kad),
            ]
        })
        .collect();
    table::print(&headers, &cells);
}
