//! `p2p bench coordination`: the mutual-exclusion, election and clock synchronisation
//! algorithms of crate `coordination` in a seeded cluster (random delays that reorder messages, crashes and
//! joins with views that reach members late), with their checkers' verdicts next to the
//! textbook message counts.

use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use coordination::election::{Bully, RingElection};
use coordination::mutex::{
    Central, Lamport, Maekawa, MutexAlgorithm, RicartAgrawala, TokenRing, grid_quorum,
};
use coordination::{
    ClusterConfig, ClusterReport, ElectionConfig, Member, Starters, View, run_cluster,
    run_elections,
};
use serde::Serialize;

use crate::bench::clock_sync;
use crate::bench::progress::bar;
use crate::bench::table;
use crate::cli::{fraction, positive_count};

/// `p2p bench coordination`.
#[derive(Args, Debug, Clone)]
pub struct CoordinationArgs {
    /// Algorithm(s) to run.
    #[arg(long, value_enum, default_value = "all")]
    pub algorithm: AlgorithmArg,
    /// Group sizes, comma-separated (each is its own row).
    #[arg(long, value_delimiter = ',', default_value = "4,16,64", value_parser = group_size)]
    pub nodes: Vec<u32>,
    /// Critical-section entries each member asks for, one after the other.
    #[arg(long, default_value_t = 20, value_parser = positive_count)]
    pub requests: usize,
    /// Fraction of the members that crash during the run (mutual exclusion).
    #[arg(long, value_parser = fraction)]
    pub fail: Option<f64>,
    /// Members that join during the run (mutual exclusion).
    #[arg(long, default_value_t = 0)]
    pub joins: u32,
    /// Leader crashes, one election each (elections).
    #[arg(long, default_value_t = 5, value_parser = positive_count)]
    pub elections: usize,
    /// One-way message delay in milliseconds, `MIN-MAX` (drawn uniformly per message, so
    /// messages overtake each other).
    #[arg(long, default_value = "1-20", value_parser = delay_range)]
    pub delay: (Duration, Duration),
    /// Largest drift rate of a clock, in parts per million (clock synchronisation).
    #[arg(long = "drift", default_value_t = 10.0, value_parser = drift_ppm)]
    pub drift_ppm: f64,
    /// Seconds between two synchronisations (clock synchronisation; the run lasts 40).
    #[arg(long, default_value_t = 30.0, value_parser = crate::cli::positive_seconds)]
    pub period: f64,
    /// Seed of every random choice: the same seed gives the same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// The algorithms `bench coordination` runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// Every algorithm below.
    All,
    /// Central server (the highest member coordinates).
    Central,
    /// Token ring (a lost token regenerated once).
    TokenRing,
    /// Lamport's queue algorithm.
    Lamport,
    /// Ricart and Agrawala.
    RicartAgrawala,
    /// Maekawa with grid voting sets.
    Maekawa,
    /// Chang and Roberts' ring election.
    RingElection,
    /// The bully algorithm.
    Bully,
    /// Cristian's algorithm against a time server.
    Cristian,
    /// The Berkeley algorithm (the highest member is the master).
    Berkeley,
    /// NTP's four-timestamp offset, least delay of a burst of eight.
    Ntp,
}

impl AlgorithmArg {
    const EACH: [AlgorithmArg; 10] = [
        AlgorithmArg::Central,
        AlgorithmArg::TokenRing,
        AlgorithmArg::Lamport,
        AlgorithmArg::RicartAgrawala,
        AlgorithmArg::Maekawa,
        AlgorithmArg::RingElection,
        AlgorithmArg::Bully,
        AlgorithmArg::Cristian,
        AlgorithmArg::Berkeley,
        AlgorithmArg::Ntp,
    ];

    fn selected(self) -> Vec<AlgorithmArg> {
        match self {
            AlgorithmArg::All => Self::EACH.to_vec(),
            one => vec![one],
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            AlgorithmArg::All => "all",
            AlgorithmArg::Central => "central",
            AlgorithmArg::TokenRing => "token-ring",
            AlgorithmArg::Lamport => "lamport",
            AlgorithmArg::RicartAgrawala => "ricart-agrawala",
            AlgorithmArg::Maekawa => "maekawa",
            AlgorithmArg::RingElection => "ring-election",
            AlgorithmArg::Bully => "bully",
            AlgorithmArg::Cristian => "cristian",
            AlgorithmArg::Berkeley => "berkeley",
            AlgorithmArg::Ntp => "ntp",
        }
    }
}

/// One row of mutual exclusion.
#[derive(Clone, Debug, Serialize)]
pub struct MutexRow {
    /// Always `coordination`.
    pub bench: &'static str,
    /// The algorithm.
    pub algorithm: &'static str,
    /// Members at the start.
    pub nodes: u32,
    /// Members that crashed during the run.
    pub crashes: u32,
    /// Members that joined during the run.
    pub joins: u32,
    /// Critical-section entries.
    pub entries: u64,
    /// Messages per entry.
    pub messages_per_entry: f64,
    /// The textbook's count per entry for a failure-free run.
    pub textbook: String,
    /// Mean time from an exit to the next entry while a request waited, in ms.
    pub sync_delay_ms: f64,
    /// The same in mean one-way message delays (the textbooks count it in messages:
    /// central 2, Ricart–Agrawala and Lamport 1, Maekawa 2, token ring 1 to N).
    pub sync_delay_messages: f64,
    /// Mean time from a request to its entry, in ms.
    pub wait_ms: f64,
    /// Entries while another member was inside (the checker's verdict: must be 0).
    pub safety_violations: u64,
    /// Requests of live members never granted (must be 0).
    pub starved: u64,
    /// Seed.
    pub seed: u64,
}

/// One row of elections.
#[derive(Clone, Debug, Serialize)]
pub struct ElectionRow {
    /// Always `coordination`.
    pub bench: &'static str,
    /// The algorithm.
    pub algorithm: &'static str,
    /// Members before the first leader crash.
    pub nodes: u32,
    /// Who started each election: `highest`, `lowest` (one member) or `all`.
    pub start: &'static str,
    /// Elections run.
    pub elections: u32,
    /// Messages of the first election.
    pub messages_first: u64,
    /// Mean messages per election.
    pub messages_per_election: f64,
    /// The textbook's count for the first election, over its n live members (the bully's
    /// best case, N−2 for N members with the crashed leader, is n−1).
    pub textbook: String,
    /// Mean time from the crash to the election's last message, in ms.
    pub time_ms: f64,
    /// Elections after which live members did not all name the highest live member.
    pub disagreements: u32,
    /// Seed.
    pub seed: u64,
}

/// Runs the benchmark and prints its rows.
pub fn run(args: &CoordinationArgs) -> Result<()> {
    let algorithms = args.algorithm.selected();
    let pb = bar(
        (algorithms.len() * args.nodes.len()) as u64,
        "runs",
        args.quiet || args.json,
    );
    let mut mutex_rows = Vec::new();
    let mut election_rows = Vec::new();
    let mut sync_rows = Vec::new();
    for algorithm in algorithms {
        for &n in &args.nodes {
            pb.set_message(format!("{} n={n}", algorithm.name()));
            match algorithm {
                AlgorithmArg::Cristian | AlgorithmArg::Berkeley | AlgorithmArg::Ntp => {
                    let row = clock_sync::row(args, algorithm, n);
                    if args.json {
                        println!("{}", serde_json::to_string(&row)?);
                    }
                    sync_rows.push(row);
                }
                AlgorithmArg::RingElection | AlgorithmArg::Bully => {
                    for row in elections(args, algorithm, n) {
                        if args.json {
                            println!("{}", serde_json::to_string(&row)?);
                        }
                        election_rows.push(row);
                    }
                }
                _ => {
                    let row = mutex(args, algorithm, n);
                    if args.json {
                        println!("{}", serde_json::to_string(&row)?);
                    }
                    mutex_rows.push(row);
                }
            }
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    if !args.json {
        print_tables(&mutex_rows, &election_rows);
        if !sync_rows.is_empty() {
            if !mutex_rows.is_empty() || !election_rows.is_empty() {
                println!();
            }
            clock_sync::print_table(&sync_rows);
        }
    }
    Ok(())
}

fn mutex(args: &CoordinationArgs, algorithm: AlgorithmArg, n: u32) -> MutexRow {
    let crashes = args
        .fail
        .map_or(0, |f| ((f * f64::from(n)).round() as u32).min(n - 1));
    let cfg = ClusterConfig {
        members: n,
        requests: args.requests as u32,
        delay: args.delay,
        crashes,
        joins: args.joins,
        seed: args.seed,
        ..ClusterConfig::default()
    };
    let (report, textbook) = match algorithm {
        AlgorithmArg::Central => (
            cluster(&cfg, Central::new),
            format!(
                "3; 3(N−1)/N = {:.2} when a member coordinates",
                3.0 * f64::from(n - 1) / f64::from(n)
            ),
        ),
        AlgorithmArg::TokenRing => (cluster(&cfg, TokenRing::new), "1 … ∞".to_owned()),
        AlgorithmArg::Lamport => (
            cluster(&cfg, Lamport::new),
            format!("3(N−1) = {}", 3 * (n - 1)),
        ),
        AlgorithmArg::RicartAgrawala => (
            cluster(&cfg, RicartAgrawala::new),
            format!("2(N−1) = {}", 2 * (n - 1)),
        ),
        AlgorithmArg::Maekawa => {
            let k = grid_quorum(&View::new(1, 0..n), 0).len() as u32;
            (
                cluster(&cfg, Maekawa::new),
                format!(
                    "3(K−1) … 5(K−1) = {} … {}, K = {k}",
                    3 * (k - 1),
                    5 * (k - 1)
                ),
            )
        }
        _ => unreachable!("elections are run by `elections`"),
    };
    MutexRow {
        bench: "coordination",
        algorithm: algorithm.name(),
        nodes: n,
        crashes,
        joins: args.joins,
        entries: report.entries,
        messages_per_entry: report.messages_per_entry,
        textbook,
        sync_delay_ms: report.sync_delay_ms,
        sync_delay_messages: report.sync_delay_ms / (mean_ms(args.delay)),
        wait_ms: report.wait_ms,
        safety_violations: report.safety_violations,
        starved: report.starved,
        seed: args.seed,
    }
}

fn cluster<A: MutexAlgorithm<Member>>(
    cfg: &ClusterConfig,
    make: fn(Member, View<Member>) -> A,
) -> ClusterReport {
    run_cluster(cfg, make)
}

fn elections(args: &CoordinationArgs, algorithm: AlgorithmArg, n: u32) -> Vec<ElectionRow> {
    let starts = [
        (Starters::Highest, "highest"),
        (Starters::Lowest, "lowest"),
        (Starters::All, "all"),
    ];
    starts
        .into_iter()
        .map(|(starters, start)| {
            let cfg = ElectionConfig {
                members: n,
                rounds: args.elections as u32,
                starters,
                delay: args.delay,
                seed: args.seed,
                ..ElectionConfig::default()
            };
            // The first election has n − 1 live members.
            let live = u64::from(n.saturating_sub(1));
            let (report, textbook) = match algorithm {
                AlgorithmArg::Bully => (
                    run_elections(&cfg, Bully::new, Bully::manual),
                    match starters {
                        Starters::Highest => format!("n−1 = {}", live.saturating_sub(1)),
                        Starters::Lowest | Starters::All => {
                            format!("O(n²), n² = {}", live * live)
                        }
                    },
                ),
                _ => (
                    run_elections(&cfg, RingElection::new, RingElection::manual),
                    match starters {
                        Starters::Highest => format!("2n = {}", 2 * live),
                        Starters::Lowest => format!("3n−1 = {}", (3 * live).saturating_sub(1)),
                        Starters::All => format!("O(n²), n² = {}", live * live),
                    },
                ),
            };
            ElectionRow {
                bench: "coordination",
                algorithm: algorithm.name(),
                nodes: n,
                start,
                elections: report.elections,
                messages_first: report.messages.first().copied().unwrap_or(0),
                messages_per_election: report.mean_messages(),
                textbook,
                time_ms: report.duration_ms.iter().sum::<f64>()
                    / report.duration_ms.len().max(1) as f64,
                disagreements: report.disagreements,
                seed: args.seed,
            }
        })
        .collect()
}

fn print_tables(mutex: &[MutexRow], elections: &[ElectionRow]) {
    if !mutex.is_empty() {
        let rows: Vec<Vec<String>> = mutex
            .iter()
            .map(|r| {
                vec![
                    r.algorithm.to_owned(),
                    r.nodes.to_string(),
                    format!("{}/{}", r.crashes, r.joins),
                    r.entries.to_string(),
                    format!("{:.2}", r.messages_per_entry),
                    r.textbook.clone(),
                    format!("{:.1}", r.sync_delay_ms),
                    format!("{:.2}", r.sync_delay_messages),
                    format!("{:.1}", r.wait_ms),
                    r.safety_violations.to_string(),
                    r.starved.to_string(),
                ]
            })
            .collect();
        table::print(
            &[
                "algorithm",
                "N",
                "crash/join",
                "entries",
                "msgs/entry",
                "textbook (failure-free)",
                "sync delay ms",
                "(in delays)",
                "wait ms",
                "violations",
                "starved",
            ],
            &rows,
        );
    }
    if !mutex.is_empty() && !elections.is_empty() {
        println!();
    }
    if !elections.is_empty() {
        let rows: Vec<Vec<String>> = elections
            .iter()
            .map(|r| {
                vec![
                    r.algorithm.to_owned(),
                    r.nodes.to_string(),
                    r.start.to_owned(),
                    r.elections.to_string(),
                    r.messages_first.to_string(),
                    format!("{:.1}", r.messages_per_election),
                    r.textbook.clone(),
                    format!("{:.1}", r.time_ms),
                    r.disagreements.to_string(),
                ]
            })
            .collect();
        table::print(
            &[
                "algorithm",
                "N",
                "start",
                "elections",
                "msgs (1st)",
                "msgs/election",
                "textbook (1st, n live)",
                "time ms",
                "disagreements",
            ],
            &rows,
        );
    }
}

/// The mean of a uniform delay range, in ms.
fn mean_ms((lo, hi): (Duration, Duration)) -> f64 {
    (lo + hi).as_secs_f64() * 1000.0 / 2.0
}

fn drift_ppm(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=10_000.0).contains(&p) => Ok(p),
        _ => Err(format!("drift `{s}` must be between 0 and 10000 ppm")),
    }
}

fn group_size(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (2..=4096).contains(&n) => Ok(n),
        _ => Err(format!("group size `{s}` must be between 2 and 4096")),
    }
}

fn delay_range(s: &str) -> Result<(Duration, Duration), String> {
    let bad = || format!("`{s}` is not a delay range MIN-MAX in milliseconds (e.g. 1-20)");
    let (lo, hi) = s.split_once('-').ok_or_else(bad)?;
    let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
    let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
    if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 60_000.0) {
        return Err(bad());
    }
    Ok((
        Duration::from_secs_f64(lo / 1000.0),
        Duration::from_secs_f64(hi / 1000.0),
    ))
}
