//! `p2p bench swarm`: the bandwidth simulation of a BitTorrent swarm
//! ([`filesharing::swarm`]) for each piece picker, set beside Qiu and Srikant's fluid
//! model.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use filesharing::swarm::{Picker, SwarmConfig, SwarmReport, simulate};
use serde::Serialize;

use crate::bench::table;
use crate::cli::non_negative_seconds;
use crate::torrent_cli::size;

/// Which pickers to run.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickerArg {
    /// Rarest first (after four random pieces), as real clients.
    Rarest,
    /// Random pieces throughout.
    Random,
    /// Both, one run each with the same arrivals.
    Both,
}

/// `p2p bench swarm`.
#[derive(Args, Debug, Clone)]
pub struct SwarmArgs {
    /// Downloaders that arrive.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub peers: usize,
    /// Seeds there from the start (they stay, unless --seeds-leave-at).
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub seeds: usize,
    /// Bytes in the file, e.g. 64MiB.
    #[arg(long, default_value = "64MiB", value_parser = size)]
    pub file_size: u64,
    /// Bytes per piece, e.g. 256KiB.
    #[arg(long, default_value = "256KiB", value_parser = size)]
    pub piece_size: u64,
    /// Every peer's upload capacity per second, e.g. 1MiB.
    #[arg(long, default_value = "1MiB", value_parser = size)]
    pub upload: u64,
    /// Every peer's download capacity per second, e.g. 4MiB.
    #[arg(long, default_value = "4MiB", value_parser = size)]
    pub download: u64,
    /// Downloaders arrive as a Poisson process at this many per second.
    #[arg(long, default_value_t = 1.0, value_parser = crate::cli::positive_seconds)]
    pub arrival_rate: f64,
    /// Every downloader arrives at time zero and stays as a seed (a flash crowd) instead.
    #[arg(long, conflicts_with_all = ["arrival_rate", "seed_time"])]
    pub flash_crowd: bool,
    /// Mean seconds a finished downloader stays as a seed (exponentially distributed).
    #[arg(long, default_value_t = 32.0, value_parser = non_negative_seconds)]
    pub seed_time: f64,
    /// The initial seeds leave at this simulated second (a piece nobody else has by then
    /// is lost, and the downloaders missing it never finish).
    #[arg(long, value_parser = non_negative_seconds)]
    pub seeds_leave_at: Option<f64>,
    /// Piece picker(s).
    #[arg(long, value_enum, default_value = "both")]
    pub picker: PickerArg,
    /// Share of downloaders that never upload, from 0 to below 1.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub free_riders: f64,
    /// Seed of the simulation's random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object per picker instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Draw downloaders and seeds against the fluid model, the download times, and the
    /// rarest piece's copies to this file (.svg or .png).
    #[arg(long, value_parser = crate::cli::plot_path)]
    pub plot: Option<PathBuf>,
}

/// One picker's run.
#[derive(Serialize, Debug)]
pub struct SwarmRow {
    /// What was simulated.
    pub config: SwarmConfig,
    /// What it gave.
    #[serde(flatten)]
    pub report: SwarmReport,
    /// Median download time.
    pub p50_s: Option<f64>,
    /// 90th percentile.
    pub p90_s: Option<f64>,
    /// 99th percentile.
    pub p99_s: Option<f64>,
    /// The steady-state mean over the fluid model's, minus one.
    pub steady_gap: Option<f64>,
}

fn share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a share from 0 to below 1")),
    }
}

/// Runs `p2p bench swarm`.
pub fn run(args: &SwarmArgs) -> Result<()> {
    let pickers: &[Picker] = match args.picker {
        PickerArg::Rarest => &[Picker::Rarest],
        PickerArg::Random => &[Picker::Random],
        PickerArg::Both => &[Picker::Rarest, Picker::Random],
    };
    let mut rows = Vec::new();
    for &picker in pickers {
        let config = config(args, picker);
        if let Err(e) = config.check() {
            bail!("{e}");
        }
        if !args.json {
            eprintln!(
                "simulating {} downloaders, {} picker ...",
                config.peers,
                label(picker)
            );
        }
        let report = simulate(&config);
        let row = SwarmRow {
            p50_s: report.quantile(0.5),
            p90_s: report.quantile(0.9),
            p99_s: report.quantile(0.99),
            steady_gap: report.steady_gap(),
            config,
            report,
        };
        if args.json {
            println!("{}", serde_json::to_string(&row)?);
        }
        rows.push(row);
    }
    if !args.json {
        print_table(&rows);
    }
    if let Some(path) = &args.plot {
        crate::bench::plot_swarm::swarm(&rows, path)?;
        if !args.json {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
}

fn config(args: &SwarmArgs, picker: Picker) -> SwarmConfig {
    SwarmConfig {
        peers: args.peers,
        seeds: args.seeds,
        file_size: args.file_size,
        piece_size: args.piece_size,
        upload: args.upload as f64,
        download: args.download as f64,
        arrival_rate: (!args.flash_crowd).then_some(args.arrival_rate),
        seed_time: (!args.flash_crowd).then_some(args.seed_time),
        seeds_leave_at: args.seeds_leave_at,
        picker,
        free_riders: args.free_riders,
        seed: args.seed,
        ..SwarmConfig::default()
    }
}

pub(crate) fn label(p: Picker) -> &'static str {
    match p {
        Picker::Rarest => "rarest",
        Picker::Random => "random",
    }
}

fn print_table(rows: &[SwarmRow]) {
    let secs = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:+.1}%", v * 100.0));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let rep = &r.report;
            vec![
                label(r.config.picker).to_string(),
                format!("{}", rep.download_times.len()),
                format!("{}", rep.unfinished),
                format!("{:.1}", rep.mean_s),
                secs(r.p50_s),
                secs(r.p90_s),
                secs(r.p99_s),
                format!("{:.1}", rep.fluid_mean_s),
                secs(rep.steady_mean_s),
                secs(rep.fluid_steady_state_s),
                pct(r.steady_gap),
                format!("{:.0}%", rep.upload_utilisation * 100.0),
                secs(rep.full_copy_s),
                rep.single_copy_share
                    .map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0)),
            ]
        })
        .collect();
    table::print(
        &[
            "picker",
            "done",
            "unfinished",
            "mean s",
            "p50",
            "p90",
            "p99",
            "fluid mean",
            "steady mean",
            "fluid steady",
            "gap",
            "upload used",
            "full copy at",
            "1-copy after",
        ],
        &cells,
    );
    println!(
        "\nmean: every downloader; fluid mean: Qiu-Srikant's model over the same arrivals \
         and the run's mean seeding time (eta = 1). steady mean: downloaders arriving in the second half, against the \
         model's steady state max(1/c, 1/mu - 1/gamma); gap: steady mean over it. \
         full copy at: when the peers other than the initial seeds first held every piece; \
         1-copy after: share of later moments with a piece held by one of them only."
    );
}
