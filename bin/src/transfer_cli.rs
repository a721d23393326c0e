//! `p2p seed` and `p2p download`: a BitTorrent peer for one torrent, with files on disk.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use filesharing::net::{Client, ClientConfig, Progress};
use filesharing::session::{Bitfield, SessionStats};
use filesharing::storage::{OpenMode, Storage};
use filesharing::{Magnet, Metainfo};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

/// Options both commands share.
#[derive(Args, Debug)]
pub struct PeerArgs {
    /// The .torrent file; to download, a magnet link (magnet:?xt=urn:btih:…) works too,
    /// its metadata fetched from peers.
    #[arg(value_name = "TORRENT")]
    pub torrent: PathBuf,
    /// The folder the torrent's file (or folder) is in, or goes into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Address to accept peers on.
    #[arg(long, default_value = "0.0.0.0:6881")]
    pub listen: SocketAddr,
    /// A peer to connect to besides the trackers' (HOST:PORT); repeat for more.
    #[arg(long = "peer", value_name = "ADDR")]
    pub peers: Vec<SocketAddr>,
    /// Most peer connections at once.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_peers: u32,
    /// Do not announce to the torrent's trackers (use --peer).
    #[arg(long)]
    pub no_trackers: bool,
    /// Print no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `p2p seed`.
#[derive(Args, Debug)]
pub struct SeedArgs {
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// `p2p download`.
#[derive(Args, Debug)]
pub struct DownloadArgs {
    #[command(flatten)]
    pub peer: PeerArgs,
    /// Keep running and seeding once complete, until interrupted.
    #[arg(long)]
    pub keep_seeding: bool,
}

/// Seeds until interrupted.
pub fn seed(args: SeedArgs) -> Result<()> {
    let a = &args.peer;
    if magnet_of(&a.torrent)?.is_some() {
        bail!("seeding needs the .torrent file, not a magnet link");
    }
    let meta = crate::torrent_cli::read_torrent(&a.torrent)?;
    let storage = Storage::open(&meta.info, &a.dir, OpenMode::Seed)?;
    let have = check(&storage, &meta, a.quiet)?;
    if have.count() == 0 {
        bail!(
            "no piece of {} in {} matches the torrent; is --dir the folder that holds it?",
            meta.info.name,
            a.dir.display()
        );
    }
    if !have.is_full() {
        eprintln!(
            "warning: only {} of {} pieces on disk match; seeding those",
            have.count(),
            have.len()
        );
    }
    let config = client_config(a, true);
    let (stats, _) = crate::loopback::runtime()?.block_on(run_client(
        &meta,
        storage,
        have,
        config,
        "seeding",
        a.quiet,
        |addr| {
            Some(format!(
                "seeding {} ({}) on {addr}; Ctrl-C to stop",
                meta.info.name, meta.info_hash
            ))
        },
        None,
    ))?;
    eprintln!("sent {}", bytesize::ByteSize(stats.uploaded));
    Ok(())
}

/// Downloads until complete and verified (exit 0), or until interrupted (an error, with what
/// is kept for next time).
pub fn download(args: DownloadArgs) -> Result<()> {
    let a = &args.peer;
    let runtime = crate::loopback::runtime()?;
    let mut config = client_config(a, args.keep_seeding);
    let meta = match magnet_of(&a.torrent)? {
        Some(magnet) => {
            let (meta, peers) = runtime.block_on(from_magnet(&magnet, a))?;
            config.peers = peers;
            meta
        }
        None => crate::torrent_cli::read_torrent(&a.torrent)?,
    };
    std::fs::create_dir_all(&a.dir).with_context(|| format!("{}", a.dir.display()))?;
    let storage = Storage::open(&meta.info, &a.dir, OpenMode::Download)?;
    let have = check(&storage, &meta, a.quiet)?;
    let path = a.dir.join(&meta.info.name);
    let (_, complete) = runtime.block_on(run_client(
        &meta,
        storage,
        have,
        config,
        "downloading",
        a.quiet,
        |addr| (!a.quiet).then(|| format!("{} ({}) on {addr}", meta.info.name, meta.info_hash)),
        None,
    ))?;
    if !complete {
        bail!("interrupted; the verified pieces are kept, and running the same command resumes");
    }
    println!("{}", path.display());
    Ok(())
}

/// A task run beside a client, given the address it listens on and where to send peers
/// it finds (through the overlay, say); stopped when the client stops.
pub(crate) type Beside = Box<dyn FnOnce(SocketAddr, PeerSender) -> tokio::task::JoinHandle<()>>;
/// Where peers found beside the client go.
pub(crate) type PeerSender = tokio::sync::mpsc::Sender<Vec<SocketAddr>>;

/// Binds a client, prints `banner` (given the address it listens on) if there is one, and
/// runs it with a progress bar, and `beside` if given, until it is complete (unless
/// seeding) or interrupted.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_client(
    meta: &Metainfo,
    storage: Storage,
    have: Bitfield,
    config: ClientConfig,
    what: &'static str,
    quiet: bool,
    banner: impl FnOnce(SocketAddr) -> Option<String>,
    beside: Option<Beside>,
) -> Result<(SessionStats, bool)> {
    let client = Client::bind(meta.clone(), storage, have, config).await?;
    if let Some(line) = banner(client.local_addr()) {
        eprintln!("{line}");
    }
    let task = beside.map(|f| f(client.local_addr(), client.peer_sender()));
    let (tx, rx) = watch::channel(Progress::default());
    let shown = show_progress(rx, what, quiet);
    let ended = client.run(tx, interrupted()).await;
    shown.abort();
    if let Some(task) = task {
        task.abort();
    }
    Ok(ended?)
}

/// The magnet link given in place of a .torrent, if it is one.
fn magnet_of(arg: &Path) -> Result<Option<Magnet>> {
    let text = arg.to_string_lossy();
    if !text.starts_with("magnet:") {
        return Ok(None);
    }
    Ok(Some(text.parse().context("the magnet link")?))
}

/// How long a magnet link's metadata is looked for.
const METADATA_LIMIT: Duration = Duration::from_secs(120);

/// The torrent of a magnet link, its metadata asked of peers (BEP 9), with a spinner; and
/// the peers found on the way.
async fn from_magnet(magnet: &Magnet, a: &PeerArgs) -> Result<(Metainfo, Vec<SocketAddr>)> {
    let spinner = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    spinner.set_message(format!(
        "fetching the metadata of {} from peers",
        magnet.info_hash
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let port = Some(a.listen.port()).filter(|p| *p != 0);
    let got = filesharing::net::fetch_metadata(magnet, &a.peers, port, METADATA_LIMIT).await;
    spinner.finish_and_clear();
    Ok(got?)
}

fn client_config(a: &PeerArgs, keep_seeding: bool) -> ClientConfig {
    ClientConfig {
        listen: a.listen,
        max_peers: a.max_peers as usize,
        peers: a.peers.clone(),
        use_trackers: !a.no_trackers,
        keep_seeding,
        ..ClientConfig::default()
    }
}

/// Verifies what is on disk, with a bar (nothing, when storage has just created the files).
pub(crate) fn check(storage: &Storage, meta: &Metainfo, quiet: bool) -> Result<Bitfield> {
    if storage.is_fresh() {
        return Ok(Bitfield::empty(meta.info.pieces.len() as u32));
    }
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(meta.info.pieces.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("checking {bar:40} {pos}/{len} pieces")
            .expect("a valid template"),
    );
    let have = storage.verify(&meta.info, |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    Ok(have)
}

/// Draws a bar of bytes held, rates and peers until aborted.
fn show_progress(
    mut rx: watch::Receiver<Progress>,
    what: &'static str,
    quiet: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if quiet {
            return;
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{what} {{bar:30}} {{binary_bytes}}/{{binary_total_bytes}} {{msg}} eta {{eta}}"
            ))
            .expect("a valid template"),
        );
        while rx.changed().await.is_ok() {
            let p = rx.borrow_and_update().clone();
            bar.set_length(p.total);
            bar.set_position(p.have);
            bar.set_message(format!(
                "↓ {}/s ↑ {}/s, {} peers",
                bytesize::ByteSize(p.down_rate as u64),
                bytesize::ByteSize(p.up_rate as u64),
                p.peers
            ));
        }
        bar.finish_and_clear();
    })
}

async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling here: run until complete.
        std::future::pending::<()>().await;
    }
}
