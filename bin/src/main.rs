//! `p2p`: peer-to-peer overlays and DHTs from the command line.

mod bench;
mod cli;
mod overlays;
mod rss;

use anyhow::Result;
use clap::Parser;
use dht_chord::Chord;

use crate::cli::{Bench, Cli, Top};

/// The simulator allocates and frees millions of small messages per second; mimalloc does
/// that markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::overlays::{Overlay, chord_config};

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Top::Bench(Bench::Hops(args)) => {
            let mut rows = Vec::new();
            for overlay in Overlay::selected(args.common.overlay) {
                for &n in &args.nodes {
                    let row = match overlay {
                        Overlay::Chord => {
                            bench::hops::run::<Chord<u32>>(&chord_config(&args.common), &args, n)
                        }
                    };
                    if args.common.json {
                        println!("{}", serde_json::to_string(&row)?);
                    }
                    rows.push(row);
                }
            }
            if !args.common.json {
                bench::hops::print_table(&rows);
            }
            if let Some(path) = &args.plot {
                bench::plot::hops(&rows, path)?;
                eprintln!("plot written to {}", path.display());
            }
        }
        Top::Bench(Bench::Churn(args)) => {
            let mut rows = Vec::new();
            for overlay in Overlay::selected(args.common.overlay) {
                for &r in &args.replication {
                    let row = match overlay {
                        Overlay::Chord => {
                            bench::churn::run::<Chord<u32>>(&chord_config(&args.common), &args, r)
                        }
                    };
                    if args.common.json {
                        println!("{}", serde_json::to_string(&row)?);
                    }
                    rows.push(row);
                }
            }
            if !args.common.json {
                bench::churn::print_table(&rows);
            }
        }
    }
    Ok(())
}
