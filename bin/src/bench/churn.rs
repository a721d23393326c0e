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
use crate::bench::growth::grow_while_reading;
use crate::bench::progress::bar;
use crate::cli::ChurnArgs;
use crate::rss;

/// Puts are numbered from 0, gets from here on, so one drain of the events tells them apart.
pub const FIRST_GET_OP: u64 = 1 << 40;

/// One line of the failure benchmark: one overlay, one replication factor.
#[derive(Clone, Debug, Serialize)]
pub struct ChurnRow {
    /// Always `churn`.
    pub bench: &'static str,
    /// `fail` (mass crash), `churn` (continuous) or `grow` (growth while writing and
    /// reading).
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
    /// Keys stored (in `grow` mode, those whose put was acknowledged).
    pub keys: usize,
    /// Fraction of nodes crashed at once (`fail` mode).
    pub fail: Option<f64>,
    /// Median session in seconds (`churn` mode).
    pub session_median_s: Option<f64>,
    /// Simulated seconds of churn (`churn` mode).
    pub duration_s: Option<f64>,
    /// Growth per maintenance round (`grow` mode).
    pub grow: Option<f64>,
    /// Puts that failed during growth (`grow` mode; `keys` counts the acknowledged ones).
    pub put_failures: Option<usize>,
    /// Maintenance rounds after the last join until every node's tables had converged
    /// (`grow` mode; none if they had not within 100 rounds).
    pub converge_rounds: Option<u32>,
    /// Fraction of nodes with converged tables at the end of growth mode's wait.
    pub converged_fraction: Option<f64>,
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

/// The value stored under key `i`.
pub fn value_of(i: usize) -> Vec<u8> {
    (i as u64).to_be_bytes().to_vec()
}

/// The `i`-th key the benchmark stores.
pub fn key_of(i: usize) -> Key {
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
pub struct Gets {
    /// op → key index, for gets still running.
    pending: BTreeMap<u64, usize>,
    /// Gets issued and counted.
    pub issued: usize,
    ok: usize,
    counted: usize,
}

impl Gets {
    /// Reads key `i` through a random joined node, and looks the key up there so that the
    /// lookup's root is checked against the truth.
    pub fn issue<R: SimRouting>(&mut self, sim: &mut Simulator<R>, op: u64, i: usize, count: bool) {
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
            if let Some(event) = e.event.app() {
                self.score(event);
            }
        }
    }

    /// Scores `event` if it ends one of these gets.
    pub fn score(&mut self, event: &DhtEvent) {
        if let DhtEvent::GetDone { op, result, .. } = event
            && let Some(i) = self.pending.remove(op)
        {
            self.counted += 1;
            if result.as_ref().ok().and_then(Option::as_deref) == Some(&value_of(i)[..]) {
                self.ok += 1;
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

/// Runs one row: build, store, then the mass crash or the churn, then measure; or, with
/// `--grow`, grow while writing and reading, then measure.
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
    let mut gets = Gets::default();
    let (first_new, mut growth) = match args.grow {
        Some(rate) => {
            let growth = grow_while_reading(&mut sim, args, rate, &mut gets);
            (1, Some(growth))
        }
        None => {
            build(&mut sim, args.nodes, common);
            let put_failures = store_keys(&mut sim, args.keys, common.quiet);
            if put_failures > 0 {
                tracing::warn!(put_failures, "some puts failed before the failures began");
            }
            let until = sim.now() + Duration::from_secs_f64(common.maintenance) * 2;
            sim.run_until(until);
            let first_new = sim.contact_count();
            sim.lookup_stats = Default::default();
            match args.fail {
                Some(p) => crash_and_read(&mut sim, args, p, &mut gets),
                None => churn_and_read(&mut sim, args, &mut gets),
            }
            (first_new, None)
        }
    };
    // Let the last operations finish and the last repairs run.
    let until = sim.now() + Duration::from_secs_f64(common.maintenance) * 2;
    sim.run_until(until);
    gets.collect(&mut sim);

    let written: Vec<usize> = match &mut growth {
        Some(g) => std::mem::take(&mut g.acknowledged),
        None => (0..args.keys).collect(),
    };
    let keys_lost = written.iter().filter(|i| !held(&sim, &key_of(**i))).count();
    let stats = &sim.lookup_stats;
    let lookups = gets.issued;
    ChurnRow {
        bench: "churn",
        mode: match (args.fail, args.grow) {
            (Some(_), _) => "fail",
            (_, Some(_)) => "grow",
            _ => "churn",
        },
        overlay: R::NAME,
        variant: label,
        nodes: args.nodes,
        seed: common.seed,
        build: if growth.is_some() {
            "protocol"
        } else {
            common.build.name()
        },
        replication,
        keys: written.len(),
        fail: args.fail,
        session_median_s: args.session_median,
        duration_s: args.duration,
        grow: args.grow,
        put_failures: growth.as_ref().map(|g| g.put_failures),
        converge_rounds: growth.as_ref().and_then(|g| g.converge_rounds),
        converged_fraction: growth.as_ref().map(|g| g.converged_fraction),
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
        lost_fraction: if written.is_empty() {
            0.0
        } else {
            keys_lost as f64 / written.len() as f64
        },
        theory_lost_fraction: args.fail.map(|p| p.powi(replication as i32)),
        messages: sim.messages(),
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_mb: rss::peak_mb(),
    }
}

/// Crashes the fraction `p` of the nodes at once, lets maintenance run for `--settle`, then
/// reads keys that still have a live replica.
fn crash_and_read<R: SimRouting>(
    sim: &mut Simulator<R>,
    args: &ChurnArgs,
    p: f64,
    gets: &mut Gets,
) {
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
    let survivors: Vec<usize> = (0..args.keys).filter(|i| held(sim, &key_of(*i))).collect();
    let pb = bar(args.lookups as u64, "gets", args.common.quiet);
    let mut op = FIRST_GET_OP;
    for _ in 0..args.lookups {
        if survivors.is_empty() {
            break;
        }
        let i = survivors[sim.rng().random_range(0..survivors.len())];
        op += 1;
        gets.issue(sim, op, i, true);
        if gets.issued % 100 == 0 {
            let next = sim.now() + Duration::from_millis(100);
            sim.run_until(next);
            gets.collect(sim);
            pb.set_position(gets.issued as u64);
        }
    }
}

/// Runs continuous churn for `--duration`, reading random keys at a steady rate.
fn churn_and_read<R: SimRouting>(sim: &mut Simulator<R>, args: &ChurnArgs, gets: &mut Gets) {
    let median = Duration::from_secs_f64(args.session_median.expect("clap requires a mode"));
    let duration =
        Duration::from_secs_f64(args.duration.expect("clap requires --duration with churn"));
    sim.start_churn(ChurnConfig::balanced(args.nodes, median, 0.5));
    let interval = duration.div_f64(args.lookups as f64);
    let end = sim.now() + duration;
    let pb = bar(args.lookups as u64, "churn gets", args.common.quiet);
    let mut op = FIRST_GET_OP;
    for _ in 0..args.lookups {
        let next = sim.now() + interval;
        sim.run_until(next.min(end));
        gets.collect(sim);
        let i = sim.rng().random_range(0..args.keys);
        op += 1;
        gets.issue(sim, op, i, true);
        pb.set_position(gets.issued as u64);
    }
    sim.run_until(end);
    sim.stop_churn();
    pb.finish_and_clear();
}

/// Prints rows as a table.
pub fn print_table(rows: &[ChurnRow]) {
    let mut headers = vec![
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
        "converged",
        "wall s",
    ];
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.variant.clone(),
                match (r.fail, r.session_median_s, r.grow) {
                    (Some(p), _, _) => format!("fail {p}"),
                    (_, Some(m), _) => format!("churn {m}s"),
                    (_, _, Some(g)) => format!("grow {g}"),
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
                match (r.converge_rounds, r.converged_fraction) {
                    (Some(rounds), _) => format!("{rounds} rounds"),
                    (None, Some(f)) => format!("{:.1}% only", 100.0 * f),
                    (None, None) => "-".into(),
                },
                format!("{:.1}", r.wall_s),
            ]
        })
        .collect();
    // Only growth waits for convergence; the other modes leave the column out.
    if rows.iter().all(|r| r.grow.is_none())
        && let Some(column) = headers.iter().position(|h| *h == "converged")
    {
        headers.remove(column);
        for row in &mut cells {
            row.remove(column);
        }
    }
    crate::bench::table::print(&headers, &cells);
}
