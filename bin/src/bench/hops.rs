//! `p2p bench hops`: lookup path lengths against network size.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::overlays::WithOverlay;
use overlay::sim::{SimRouting, Simulator};
use overlay::{Command, Key};
use serde::Serialize;

use crate::bench::build::{build, simulator};
use crate::bench::progress::bar;
use crate::cli::{BuildArg, CommonArgs, HopsArgs};
use crate::rss;

/// Most lookups in flight at once: few enough that their initiators' state (a visited set
/// of hundreds of nodes on CAN's long paths) stays in the cache. 2,000 made CAN d = 2 at
/// 10^6 nodes spend 75% longer on the same lookups.
const IN_FLIGHT: u64 = 50;

/// One line of the hop-count benchmark: one overlay at one network size.
#[derive(Clone, Debug, Serialize)]
pub struct HopsRow {
    /// Always `hops`.
    pub bench: &'static str,
    /// Routing algorithm.
    pub overlay: &'static str,
    /// The overlay with its distinguishing parameters (`can d=4`), as tables and plots
    /// name it.
    pub variant: String,
    /// Network size.
    pub nodes: usize,
    /// Lookups measured.
    pub lookups: usize,
    /// Simulation seed.
    pub seed: u64,
    /// `protocol` or `oracle`.
    pub build: &'static str,
    /// Fraction of nodes whose tables had converged when measuring began.
    pub converged: f64,
    /// Mean hops of successful lookups.
    pub mean_hops: f64,
    /// Median hops.
    pub p50_hops: u32,
    /// 99th percentile of hops.
    pub p99_hops: u32,
    /// Longest lookup.
    pub max_hops: u32,
    /// Lookups that gave up.
    pub failed_lookups: u64,
    /// Lookups that ended at a node other than the key's true root.
    pub wrong_root: u64,
    /// The paper's formula for the mean (½·log2 N for Chord).
    pub theory_hops: f64,
    /// Messages sent by the measured lookups (requests and responses).
    pub messages: u64,
    /// Mean lookup latency in simulated milliseconds.
    pub mean_latency_ms: f64,
    /// 99th percentile of lookup latency in simulated milliseconds.
    pub p99_latency_ms: f64,
    /// `hop_histogram[h]` = lookups that took `h` hops.
    pub hop_histogram: Vec<u64>,
    /// Simulator events processed (messages, timers, commands), build included.
    pub events: u64,
    /// Simulated seconds at the end (build included).
    pub sim_time_s: f64,
    /// Wall-clock seconds for building the network.
    pub build_s: f64,
    /// Wall-clock seconds for the whole row (build and lookups).
    pub wall_s: f64,
    /// Peak resident memory of the process during this row, in MiB.
    pub peak_rss_mb: Option<f64>,
    /// The algorithm's parameters.
    pub params: BTreeMap<&'static str, String>,
}

/// A hops run for one network size, for [`crate::overlays::Overlay::with`].
pub struct Job<'a> {
    /// The command line.
    pub args: &'a HopsArgs,
    /// Network size.
    pub n: usize,
}

impl WithOverlay for Job<'_> {
    type Out = HopsRow;
    fn run<R: SimRouting>(&mut self, config: R::Config, label: String) -> HopsRow {
        run::<R>(&config, self.args, self.n, label)
    }
}

/// Builds an overlay of `n` nodes and measures `args.lookups` lookups on it.
pub fn run<R: SimRouting>(config: &R::Config, args: &HopsArgs, n: usize, label: String) -> HopsRow {
    let common: &CommonArgs = &args.common;
    rss::reset_peak();
    let started = Instant::now();
    let mut sim = simulator::<R>(config, common, 3);
    if common.build == BuildArg::Oracle {
        // Converged by construction: no maintenance timers to arm and then drop.
        sim.stop_maintenance();
    }
    let converged = build(&mut sim, n, common);
    let build_s = started.elapsed().as_secs_f64();

    // Lookups run on the built network as it stands, maintenance paused (a static network,
    // as in the papers' path-length experiments; the tables have converged, so maintenance
    // would change nothing). At most `IN_FLIGHT` lookups run at once, which keeps the
    // simulation's working set small.
    sim.stop_maintenance();
    let pb = bar(args.lookups as u64, "lookups", common.quiet);
    let total = args.lookups as u64;
    let finished = |s: &Simulator<R>| s.lookup_stats.succeeded() + s.lookup_stats.failed;
    let deadline = sim.now() + Duration::from_secs(30 * 24 * 3600);
    let mut issued = 0u64;
    while finished(&sim) < total && sim.now() < deadline {
        while issued < total && issued - finished(&sim) < IN_FLIGHT {
            let from = sim.random_joined().expect("the network has joined nodes");
            let key = Key::random(sim.rng());
            sim.command(from, Command::lookup(issued, key));
            issued += 1;
        }
        let target = if issued == total {
            total
        } else {
            issued - IN_FLIGHT / 2
        };
        sim.run_until_done(deadline, |s| finished(s) >= target);
        pb.set_position(finished(&sim));
    }
    pb.finish_and_clear();

    let events = sim.processed();
    let sim_time_s = sim.now().as_secs_f64();
    let stats = &mut sim.lookup_stats;
    let unfinished = total - (stats.succeeded() + stats.failed);
    HopsRow {
        bench: "hops",
        overlay: R::NAME,
        variant: label,
        nodes: n,
        lookups: args.lookups,
        seed: common.seed,
        build: common.build.name(),
        converged,
        mean_hops: stats.mean_hops(),
        p50_hops: stats.hops_quantile(0.5),
        p99_hops: stats.hops_quantile(0.99),
        max_hops: stats.max_hops(),
        failed_lookups: stats.failed + unfinished,
        wrong_root: stats.wrong,
        theory_hops: R::theory_hops(n, config),
        messages: stats.messages,
        mean_latency_ms: stats.mean_latency_ms(),
        p99_latency_ms: stats.latency_quantile_ms(0.99),
        hop_histogram: stats.hops.clone(),
        events,
        sim_time_s,
        build_s,
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_mb: rss::peak_mb(),
        params: R::params(config).into_iter().collect(),
    }
}

/// Prints rows as a table.
pub fn print_table(rows: &[HopsRow]) {
    let headers = [
        "overlay",
        "nodes",
        "build",
        "lookups",
        "mean",
        "theory",
        "p50",
        "p99",
        "max",
        "failed",
        "wrong",
        "msgs/lookup",
        "lat ms",
        "wall s",
        "rss MiB",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.variant.clone(),
                r.nodes.to_string(),
                r.build.to_string(),
                r.lookups.to_string(),
                format!("{:.2}", r.mean_hops),
                format!("{:.2}", r.theory_hops),
                r.p50_hops.to_string(),
                r.p99_hops.to_string(),
                r.max_hops.to_string(),
                r.failed_lookups.to_string(),
                r.wrong_root.to_string(),
                format!("{:.1}", r.messages as f64 / r.lookups as f64),
                format!("{:.0}", r.mean_latency_ms),
                format!("{:.1}", r.wall_s),
                r.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}")),
            ]
        })
        .collect();
    crate::bench::table::print(&headers, &cells);
}
