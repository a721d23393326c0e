//! `p2p`: peer-to-peer overlays and DHTs from the command line.

mod bench;
mod cli;
mod client;
mod coordination_cli;
mod daemon;
mod demo;
mod loopback;
mod multicast_cli;
mod net_cli;
mod overlays;
mod rss;
mod share_cli;
mod torrent_cli;
mod tracker_cli;
mod transfer_cli;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Bench, Cli, CommonArgs, OverlayArg, Top};

/// The simulator allocates and frees millions of small messages per second; mimalloc does
/// that markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::overlays::Overlay;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    raise_open_file_limit();
    if !matches!(cli.command, Top::Node(_)) {
        quiet_on_closed_pipe();
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Each peer connection holds a file descriptor at both of its ends, and `p2p demo` and
/// `p2p bench net` run hundreds of nodes in this one process (a 256-node Tapestry runs
/// past 20,000 while it forms). So take the most the system allows, as servers do, rather
/// than stop at a soft limit often set to 1,024: where the process may (root), past a low
/// hard limit too; otherwise up to the hard limit.
fn raise_open_file_limit() {
    const WANTED: u64 = 1 << 20;
    let nofile = rlimit::Resource::NOFILE;
    if let Ok((_, hard)) = nofile.get()
        && hard < WANTED
    {
        // Fails without the privilege; then the hard limit is as far as it goes.
        let _ = nofile.set(WANTED, WANTED);
    }
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open file limit"),
        Err(e) => tracing::debug!(error = %e, "cannot raise the open file limit"),
    }
}

/// `p2p status | head` should stop quietly when `head` closes the pipe, as other
/// command-line tools do, rather than fail on a write. Not for `p2p node`, whose output
/// is a log it can live without.
fn quiet_on_closed_pipe() {
    // SAFETY: restoring a signal's default disposition, before any thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logging(cli: &Cli) {
    // A node's log is its record of what happened; the other commands speak only on trouble.
    let default_log = match cli.command {
        Top::Node(_) => "info,libp2p_mdns=warn",
        // libp2p-kad (the `bench net` baseline) warns about its own first node's bootstrap.
        _ => "warn,libp2p_kad=error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_log.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Top::Demo(args) => demo::run(args)?,
        Top::Node(args) => daemon::run(args)?,
        Top::Put(args) => client::put(args)?,
        Top::Get(args) => client::get(args)?,
        Top::Announce(args) => client::announce(args)?,
        Top::Members(args) => client::members(args)?,
        Top::Remove(args) => client::remove(args)?,
        Top::Lookup(args) => client::lookup(args)?,
        Top::Status(args) => client::status(args)?,
        Top::Leave(args) => client::leave(args)?,
        Top::Multicast(cmd) => multicast_cli::run(cmd)?,
        Top::Lock(args) => coordination_cli::lock(args)?,
        Top::Leader(args) => coordination_cli::leader(args)?,
        Top::Clock(args) => coordination_cli::clock(args)?,
        Top::Torrent(cmd) => torrent_cli::run(cmd)?,
        Top::Tracker(args) => tracker_cli::run(args)?,
        Top::Seed(args) => transfer_cli::seed(args)?,
        Top::Download(args) => transfer_cli::download(args)?,
        Top::Share(args) => share_cli::share(args)?,
        Top::Fetch(args) => share_cli::fetch(args)?,
        Top::Bench(Bench::Hops(args)) => {
            let rows = rows(&args.common, &args.nodes, |overlay, n| {
                overlay.with(&args.common, &mut bench::hops::Job { args: &args, n })
            })?;
            if !args.common.json {
                bench::hops::print_table(&rows);
            }
            if let Some(path) = &args.plot {
                bench::plot::hops(&rows, path)?;
                eprintln!("plot written to {}", path.display());
            }
        }
        Top::Bench(Bench::Churn(args)) => {
            let rows = rows(&args.common, &args.replication, |overlay, r| {
                overlay.with(&args.common, &mut bench::churn::Job { args: &args, r })
            })?;
            if !args.common.json {
                bench::churn::print_table(&rows);
            }
        }
        Top::Bench(Bench::Net(args)) => bench::net::run(&args)?,
        Top::Bench(Bench::NetMulticast(args)) => bench::net_multicast::run(&args)?,
        Top::Bench(Bench::Coordination(args)) => bench::coordination::run(&args)?,
        Top::Bench(Bench::Transfer(args)) => bench::transfer::run(&args)?,
        Top::Bench(Bench::Swarm(args)) => bench::swarm::run(&args)?,
        Top::Bench(Bench::Multicast(args)) => {
            let underlay = bench::multicast::underlay(&args);
            let mut rows = Vec::new();
            for overlay in Overlay::selected(&args.common) {
                let mut job = bench::multicast::Job {
                    args: &args,
                    underlay: std::sync::Arc::clone(&underlay),
                };
                let row = overlay.with(&args.common, &mut job);
                if args.common.json {
                    println!("{}", serde_json::to_string(&row)?);
                }
                rows.push(row);
            }
            if !args.common.json {
                bench::multicast::print_table(&rows);
            }
            if let Some(path) = &args.plot {
                bench::plot_multicast::multicast(&rows, path)?;
            }
        }
        Top::Bench(Bench::Locate(args)) => {
            let overlay = args.common.overlay.unwrap_or(OverlayArg::Tapestry);
            if overlay != OverlayArg::Tapestry {
                anyhow::bail!(
                    "object location (publish/locate) is Tapestry's service: \
                     `bench locate` runs with --overlay tapestry only"
                );
            }
            let mut rows = Vec::new();
            for &n in &args.nodes {
                let row = bench::locate::run(&args, n);
                if args.common.json {
                    println!("{}", serde_json::to_string(&row)?);
                }
                rows.push(row);
            }
            if !args.common.json {
                bench::locate::print_table(&rows);
            }
        }
    }
    Ok(())
}

/// Runs `run` for every selected overlay and every value of the swept parameter, printing
/// each row as a JSON line as soon as it is ready when `--json` is given.
fn rows<P: Copy, T: serde::Serialize>(
    common: &CommonArgs,
    sweep: &[P],
    mut run: impl FnMut(Overlay, P) -> T,
) -> Result<Vec<T>> {
    let mut rows = Vec::new();
    for overlay in Overlay::selected(common) {
        for &p in sweep {
            let row = run(overlay, p);
            if common.json {
                println!("{}", serde_json::to_string(&row)?);
            }
            rows.push(row);
        }
    }
    Ok(rows)
}
