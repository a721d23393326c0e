//! The clock synchronisation rows of `p2p bench coordination` (Cristian, Berkeley, NTP):
//! estimate errors against the bounds the algorithms claim, and the clocks' error over a
//! run against what the period and the drift rate allow (δ = 2ρP between two clocks).

use std::time::Duration;

use coordination::sync::{Berkeley, Cristian, Ntp};
use coordination::{Reference, SyncConfig, SyncReport, run_sync};
use serde::Serialize;

use crate::bench::coordination::{AlgorithmArg, CoordinationArgs};
use crate::bench::table;

/// One row of clock synchronisation.
#[derive(Clone, Debug, Serialize)]
pub struct SyncRow {
    /// Always `coordination`.
    pub bench: &'static str,
    /// The algorithm.
    pub algorithm: &'static str,
    /// Members (for Cristian and NTP, one of them is the time server).
    pub nodes: u32,
    /// What the error is measured against: `external` (true time) or `internal` (each
    /// other).
    pub reference: Reference,
    /// Largest drift rate of a clock, in parts per million.
    pub drift_ppm: f64,
    /// Seconds between synchronisations.
    pub period_s: f64,
    /// Messages per synchronisation round.
    pub messages_per_round: f64,
    /// Largest true error of one estimate, in ms (external only: an internal estimate has
    /// no true value to compare with).
    pub estimate_error_max_ms: Option<f64>,
    /// Estimates beyond the bound they claimed (must be 0; external only).
    pub estimate_bound_violations: Option<u64>,
    /// Largest clock error over the second half of the run, in ms.
    pub error_max_ms: f64,
    /// Mean clock error over the second half of the run, in ms.
    pub error_mean_ms: f64,
    /// The bound: one estimate's worst error plus a period's drift (twice for internal).
    pub bound_ms: f64,
    /// Times a clock was set back (must be 0).
    pub backward_steps: u64,
    /// Seed.
    pub seed: u64,
}

/// Runs `algorithm` (one of the synchronisation algorithms) with `n` members.
pub fn row(args: &CoordinationArgs, algorithm: AlgorithmArg, n: u32) -> SyncRow {
    let cfg = SyncConfig {
        members: n,
        drift: args.drift_ppm * 1e-6,
        delay: args.delay,
        period: Duration::from_secs_f64(args.period),
        duration: Duration::from_secs_f64(args.period * 40.0),
        seed: args.seed,
        ..SyncConfig::default()
    };
    let (reference, report): (Reference, SyncReport) = match algorithm {
        AlgorithmArg::Cristian => (
            Reference::External,
            run_sync(&cfg, Reference::External, |p, _, d| Cristian::new(p, 0, d)),
        ),
        AlgorithmArg::Ntp => (
            Reference::External,
            run_sync(&cfg, Reference::External, |p, _, _| Ntp::new(p, 0, 8)),
        ),
        _ => (
            Reference::Internal,
            // Offsets over half a second from the median are outliers.
            run_sync(&cfg, Reference::Internal, |p, v, d| {
                Berkeley::new(p, v, 0.5, d)
            }),
        ),
    };
    let external = reference == Reference::External;
    SyncRow {
        bench: "coordination",
        algorithm: algorithm.name(),
        nodes: n,
        reference,
        drift_ppm: args.drift_ppm,
        period_s: args.period,
        messages_per_round: report.messages_per_round,
        estimate_error_max_ms: external.then_some(report.estimate_error_max_ms),
        estimate_bound_violations: external.then_some(report.estimate_bound_violations),
        error_max_ms: report.error_max_ms,
        error_mean_ms: report.error_mean_ms,
        bound_ms: report.bound_ms,
        backward_steps: report.backward_steps,
        seed: args.seed,
    }
}

/// Prints the synchronisation rows.
pub fn print_table(rows: &[SyncRow]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.algorithm.to_owned(),
                r.nodes.to_string(),
                match r.reference {
                    Reference::External => "true time".to_owned(),
                    Reference::Internal => "each other".to_owned(),
                },
                format!("{:.0}", r.drift_ppm),
                format!("{:.0}", r.period_s),
                format!("{:.0}", r.messages_per_round),
                r.estimate_error_max_ms
                    .map_or("-".to_owned(), |e| format!("{e:.2}")),
                r.estimate_bound_violations
                    .map_or("-".to_owned(), |v| v.to_string()),
                format!("{:.2}", r.error_mean_ms),
                format!("{:.2}", r.error_max_ms),
                format!("{:.2}", r.bound_ms),
                r.backward_steps.to_string(),
            ]
        })
        .collect();
    table::print(
        &[
            "algorithm",
            "N",
            "error from",
            "ρ ppm",
            "period s",
            "msgs/round",
            "estimate max ms",
            "over bound",
            "error mean ms",
            "error max ms",
            "bound ms",
            "set back",
        ],
        &cells,
    );
}
