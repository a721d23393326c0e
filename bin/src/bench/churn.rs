//! `p2p bench churn`: lookups and stored keys under failures, as in Chord's Fig. 11
//! (many nodes crash at once) and under continuous churn.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::overlays::WithOverlay;
use overlay::sim::{ChurnConfig, SimRouting, Simulator};
use overlay::{Command, DhtCommand, DhtEvent, Key};
use rand::RngExt;
use serde::Serialize;

use crate::bench::build::{build, simulator};
use crate::bench::progress::bar;
use crate::cli::ChurnArgs;
use crate::rss;

/// One line of the failure benchmark: one overlay, one replication factor.
#[derive(Clone, Debug, Serialize)]
pub struct ChurnRow {
    /// Always `churn`.
    pub bench: &'static str,
    /// `fail` (mass crash) or `churn` (continuous).
    pub mode: &'static str,
    /// Routing algorithm.
    pub overlay: &'static str,
    /// The overlay with its distinguishing parameters (`can d=4`), as tables and plots
    /// name it.
    pub variant: String,
    /// Network size at the start.
    pub nodes: usize,
    /// Simulation seed.
    pub seed: u64,
    /// `protocol` or `oracle`.
    pub build: &'static str,
    /// Replication factor `r`.
    pub replication: usize,
    /// Keys stored.
    pub keys: usize,
    /// Fraction of nodes crashed at once (`fail` mode).
    pub fail: Option<f64>,
    /// Median session in seconds (`churn` mode).
    pub session_median_s: Option<f64>,
    /// Simulated seconds of churn (`churn` mode).
    pub duration_s: Option<f64>,
    /// Nodes that joined during the run.
    pub joins: usize,
    /// Live nodes at the end.
    pub nodes_at_end: usize,
    /// Gets measured.
    pub gets: usize,
    /// Gets that returned the stored value, over gets of keys that still had a live replica.
    pub get_success: f64,
    /// Lookups measured (random keys, checked against the true root).
    pub lookups: usize,
    /// Lookups that gave up.
    pub failed_lookups: u64,
    /// Lookups that ended at a node other than the key's true root.
    pub wrong_root: u64,
    /// Keys no live node holds at the end.
    pub keys_lost: usize,
    /// `keys_lost / keys`.
    pub lost_fraction: f64,
    /// The theory's loss for a mass crash: `fail^r` (each replica dies independently).
    pub theory_lost_fraction: Option<f64>,
    /// Messages sent in the whole run.
    pub messages: u64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Peak resident memory during this row, in MiB.
    pub peak_rss_mb: Option<f64>,
}

fn value_of(i: usize) -> Vec<u8> {
    (i as u64).to_be_bytes().to_vec()
}

fn key_of(i: usize) -> Key {
    Key::hash(format!("bench-key-{i}"))
}

/// Whether some live node holds `key`.
fn held<R: SimRouting>(sim: &Simulator<R>, key: &Key) -> bool {
    sim.live().iter().any(|a| {
        sim.node(*a).is_some_and(|n| {
            n.apps()
                .0
                .store()
                .get(key)
                .is_some_and(|r| r.value.is_some())
        })
    })
}

/// Outcome of gets, by op.
#[derive(Default)]
struct Gets {
    /// op → key index, for gets still running.
    pending: BTreeMap<u64, usize>,
    issued: usize,
    ok: usize,
    counted: usize,
}

impl Gets {
    fn issue<R: SimRouting>(&mut self, sim: &mut Simulator<R>, op: u64, i: usize, count: bool) {
        let Some(from) = sim.random_joined() else {
            return;
        };
        sim.command(from, Command::app(DhtCommand::Get { op, key: key_of(i) }));
        sim.command(from, Command::lookup(op, key_of(i)));
        self.pending.insert(op, i);
        if count {
            self.issued += 1;
        }
    }

    /// Scores the finished gets among `sim.events`.
    fn collect<R: SimRouting>(&mut self, sim: &mut Simulator<R>) {
        for e in sim.events.drain(..) {
            if let Some(DhtEvent::GetDone { op, result, .. }) = e.event.app()
                && let Some(i) = self.pending.remove(op)
            {
                self.counted += 1;
                if result.as_ref().ok().and_then(Option::as_deref) == Some(&value_of(i)[..]) {
                    self.ok += 1;
                }
            }
        }
    }
}

/// Stores `keys` keys from random nodes and waits until every put is done.
fn store_keys<R: SimRouting>(sim: &mut Simulator<R>, keys: usize, quiet: bool) -> usize {
    let pb = bar(keys as u64, "puts", quiet);
    let mut failed = 0;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1000) {
        for &i in chunk {
            let from = sim.random_joined().expect("joined nodes");
            sim.command(
                from,
                Command::app(DhtCommand::Put {
                    op: i as u64,
                    key: key_of(i),
                    value: value_of(i),
                }),
            );
        }
        let mut done = 0;
        let deadline = sim.now() + Duration::from_secs(600);
        while done < chunk.len() && sim.now() < deadline {
            let next = sim.now() + Duration::from_millis(500);
            sim.run_until(next);
            for e in sim.events.drain(..) {
                if let Some(DhtEvent::PutDone { result, .. }) = e.event.app() {
                    done += 1;
                    failed += usize::from(result.is_err());
                }
            }
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    failed
}

/// A churn run for one replication factor, for [`crate::overlays::Overlay::with`].
pub struct Job<'a> {
    /// The command line.
    pub args: &'a ChurnArgs,
    /// Replication factor.
    pub r: usize,
}

impl WithOverlay for Job<'_> {
    type Out = ChurnRow;
    fn run<R: SimRouting>(&mut self, config: R::Config, label: String) -> ChurnRow {
        run::<R>(&config, self.args, self.r, label)
    }
}

/// Runs one row: build, store, then the mass crash or the churn, then measure.
pub fn run<R: SimRouting>(
    config: &R::Config,
    args: &ChurnArgs,
    replication: usize,
    label: String,
) -> ChurnRow {
    let common = &args.common;
    rss::reset_peak();
    let started = Instant::now();
    let mut sim = simulator::<R>(config, common, replication);
    build(&mut sim, args.nodes, common);
    let put_failures = store_keys(&mut sim, args.keys, common.quiet);
    if put_failures > 0 {
        tracing::warn!(put_failures, "some puts failed before the failures began");
    }
    let round = Duration::from_secs_f64(common.maintenance);
    let until = sim.now() + round * 2;
    sim.run_until(until);
    let first_new = sim.contact_count();
    sim.lookup_stats = Default::default();
    let mut gets = Gets::default();
    let mut op = 1u64 << 40;

    if let Some(p) = args.fail {
        let mut victims = sim.live().to_vec();
        let count = (victims.len() as f64 * p).round() as usize;
        for i in 0..count.min(victims.len().saturating_sub(1)) {
            let j = sim.rng().random_range(i..victims.len());
            victims.swap(i, j);
        }
        for v in &victims[..count] {
            sim.crash(*v);
        }
        let until = sim.now() + Duration::from_secs_f64(args.settle);
        sim.run_until(until);
        let survivors: Vec<usize> = (0..args.keys).filter(|i| held(&sim, &key_of(*i))).collect();
        let pb = bar(args.lookups as u64, "gets", common.quiet);
        for _ in 0..args.lookups {
            if survivors.is_empty() {
                break;
            }
            let i = survivors[sim.rng().random_range(0..survivors.len())];
            op += 1;
            gets.issue(&mut sim, op, i, true);
            if gets.issued % 100 == 0 {
                let next = sim.now() + Duration::from_millis(100);
                sim.run_until(next);
                gets.collect(&mut sim);
                pb.set_position(gets.issued as u64);
            }
        }
    } else {
        let median = Duration::from_secs_f64(args.session_median.expect("clap requires a mode"));
        let duration =
            Duration::from_secs_f64(args.duration.expect("clap requires --duration with churn"));
        sim.start_churn(ChurnConfig::balanced(args.nodes, median, 0.5));
        let interval = duration.div_f64(args.lookups as f64);
        let end = sim.now() + duration;
        let pb = bar(args.lookups as u64, "churn gets", common.quiet);
        for _ in 0..args.lookups {
            let next = sim.now() + interval;
            sim.run_until(next.min(end));
            gets.collect(&mut sim);
            let i = sim.rng().random_range(0..args.keys);
            op += 1;
            gets.issue(&mut sim, op, i, true);
            pb.set_position(gets.issued as u64);
        }
        sim.run_until(end);
        sim.stop_churn();
        pb.finish_and_clear();
    }
    // Let the last operations finish and the last repairs run.
    let until = sim.now() + round * 2;
    sim.run_until(until);
    gets.collect(&mut sim);

    let keys_lost = (0..args.keys).filter(|i| !held(&sim, &key_of(*i))).count();
    let stats = &sim.lookup_stats;
    let lookups = gets.issued;
    ChurnRow {
        bench: "churn",
        mode: if args.fail.is_some() { "fail" } else { "churn" },
        overlay: R::NAME,
        variant: label,
        nodes: args.nodes,
        seed: common.seed,
        build: common.build.name(),
        replication,
        keys: args.keys,
        fail: args.fail,
        session_median_s: args.session_median,
        duration_s: args.duration,
        joins: sim.contact_count() - first_new,
        nodes_at_end: sim.live().len(),
        gets: gets.issued,
        get_success: if gets.issued == 0 {
            1.0
        } else {
            gets.ok as f64 / gets.issued as f64
        },
        lookups,
        failed_lookups: stats.failed
            + (lookups as u64).saturating_sub(stats.succeeded() + stats.failed),
        wrong_root: stats.wrong,
        keys_lost,
        lost_fraction: keys_lost as f64 / args.keys as f64,
        theory_lost_fraction: args.fail.map(|p| p.powi(replication as i32)),
        messages: sim.messages(),
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_mb: rss::peak_mb(),
    }
}

/// Prints rows as a table.
pub fn print_table(rows: &[ChurnRow]) {
    let headers = [
        "overlay",
        "mode",
        "nodes",
        "r",
        "keys",
        "lost",
        "lost %",
        "theory %",
        "gets",
        "get ok %",
        "lookups",
        "failed",
        "wrong",
        "joins",
        "end nodes",
        "wall s",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.variant.clone(),
                match (r.fail, r.session_median_s) {
                    (Some(p), _) => format!("fail {p}"),
                    (_, Some(m)) => format!("churn {m}s"),
                    _ => r.mode.to_string(),
                },
                r.nodes.to_string(),
                r.replication.to_string(),
                r.keys.to_string(),
                r.keys_lost.to_string(),
                format!("{:.2}", 100.0 * r.lost_fraction),
                r.theory_lost_fraction
                    .map_or("-".into(), |t| format!("{:.2}", 100.0 * t)),
                r.gets.to_string(),
                format!("{:.2}", 100.0 * r.get_success),
                r.lookups.to_string(),
                r.failed_lookups.to_string(),
                r.wrong_root.to_string(),
                r.joins.to_string(),
                r.nodes_at_end.to_string(),
                format!("{:.1}", r.wall_s),
            ]
        })
        .collect();
    crate::bench::table::print(&headers, &cells);
}
