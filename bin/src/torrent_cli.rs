//! `p2p torrent create|show`: metainfo files on the command line.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use bytesize::ByteSize;
use clap::{Args, Subcommand};
use filesharing::{CreateOptions, Metainfo, create};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Metainfo (`.torrent`) files.
#[derive(Subcommand, Debug)]
pub enum TorrentCommand {
    /// Make a .torrent of a file or a folder (every file below it, in path order;
    /// symbolic links are refused).
    ///
    /// Examples:
    ///   p2p torrent create film.mkv --tracker http://tracker.lan:6969/announce
    ///   p2p torrent create photos/ --piece-size 1MiB -o photos.torrent
    #[command(verbatim_doc_comment)]
    Create(CreateArgs),
    /// Print what a .torrent holds: name, info-hash, magnet link, files, pieces, trackers.
    ///
    /// Example: p2p torrent show film.torrent
    Show(ShowArgs),
}

/// `p2p torrent create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The file or folder to share.
    pub path: PathBuf,
    /// A tracker's announce URL; repeat for more (each its own tier, tried in order).
    #[arg(long = "tracker", value_name = "URL")]
    pub trackers: Vec<String>,
    /// Bytes per piece, e.g. 256KiB or 4MiB (16 KiB to 256 MiB; default: a power of two
    /// giving about 1,500 pieces).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub piece_size: Option<u64>,
    /// Mark the torrent private (BEP 27: peers from its trackers only).
    #[arg(long)]
    pub private: bool,
    /// A comment stored in the file.
    #[arg(long)]
    pub comment: Option<String>,
    /// Where to write it (default: NAME.torrent in the current folder).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `p2p torrent show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The .torrent file.
    pub file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads a size such as 256KiB or 4MiB.
pub(crate) fn size(s: &str) -> Result<u64, String> {
    let size: ByteSize = s
        .parse()
        .map_err(|e| format!("`{s}` is not a size (e.g. 256KiB, 4MiB): {e}"))?;
    Ok(size.as_u64())
}

/// Runs a `p2p torrent` command.
pub fn run(cmd: TorrentCommand) -> Result<()> {
    match cmd {
        TorrentCommand::Create(args) => create_torrent(&args),
        TorrentCommand::Show(args) => show(&args),
    }
}

fn create_torrent(args: &CreateArgs) -> Result<()> {
    let path = args.path.as_path();
    let name = path
        .file_name()
        .with_context(|| format!("{}: nothing to name the torrent after", path.display()))?;
    let output = args.output.clone().unwrap_or_else(|| {
        let mut n = name.to_os_string();
        n.push(".torrent");
        PathBuf::from(n)
    });
    if output.exists() && !args.force {
        bail!(
            "{} exists already (--force replaces it, -o writes elsewhere)",
            output.display()
        );
    }
    for t in &args.trackers {
        if !(t.starts_with("http://") || t.starts_with("https://") || t.starts_with("udp://")) {
            bail!("tracker `{t}`: an announce URL starts with http://, https:// or udp://");
        }
    }
    let opts = CreateOptions {
        trackers: args.trackers.clone(),
        piece_length: args.piece_size,
        private: args.private,
        comment: args.comment.clone(),
        created_by: Some(format!("p2p/{}", env!("CARGO_PKG_VERSION"))),
        creation_date: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok()),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "hashing {bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("a valid template"),
    );
    let m = create(path, &opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let m = m?;
    let bytes = m.to_bytes()?;
    std::fs::write(&output, bytes).with_context(|| format!("writing {}", output.display()))?;
    println!("{}", output.display());
    println!("info-hash {}", m.info_hash);
    println!("{}", m.magnet());
    Ok(())
}

/// What `p2p torrent show --json` prints.
#[derive(Serialize)]
struct Shown {
    name: String,
    info_hash: String,
    magnet: String,
    total_length: u64,
    piece_length: u64,
    pieces: usize,
    private: bool,
    trackers: Vec<Vec<String>>,
    files: Vec<ShownFile>,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
}

#[derive(Serialize)]
struct ShownFile {
    path: String,
    length: u64,
}

/// Reads and checks a .torrent file, naming it in any error.
pub(crate) fn read_torrent(path: &std::path::Path) -> Result<Metainfo> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    Metainfo::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
}

fn show(args: &ShowArgs) -> Result<()> {
    let m = read_torrent(&args.file)?;
    let files: Vec<ShownFile> = m
        .info
        .files
        .iter()
        .map(|f| ShownFile {
            path: if f.path.is_empty() {
                m.info.name.clone()
            } else {
                f.path.join("/")
            },
            length: f.length,
        })
        .collect();
    let shown = Shown {
        name: m.info.name.clone(),
        info_hash: m.info_hash.to_string(),
        magnet: m.magnet().to_string(),
        total_length: m.info.total_length(),
        piece_length: m.info.piece_length,
        pieces: m.info.pieces.len(),
        private: m.info.private,
        trackers: m.trackers.clone(),
        files,
        comment: m.comment.clone(),
        created_by: m.created_by.clone(),
        creation_date: m.creation_date,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let size = |n: u64| format!("{} ({n} bytes)", ByteSize(n).display().iec());
    println!("name       {}", shown.name);
    println!("info-hash  {}", shown.info_hash);
    println!("magnet     {}", shown.magnet);
    println!(
        "size       {} in {} file{}",
        size(shown.total_length),
        shown.files.len(),
        if shown.files.len() == 1 { "" } else { "s" }
    );
    println!(
        "pieces     {} of {}",
        shown.pieces,
        ByteSize(shown.piece_length).display().iec()
    );
    println!("private    {}", if shown.private { "yes" } else { "no" });
    if shown.trackers.is_empty() {
        println!("trackers   none (peers from the overlay or a magnet link's peers)");
    }
    for (i, tier) in shown.trackers.iter().enumerate() {
        println!("tier {:<5} {}", i + 1, tier.join(" "));
    }
    if let Some(c) = &shown.comment {
        println!("comment    {c}");
    }
    if shown.created_by.is_some() || shown.creation_date.is_some() {
        let when = shown
            .creation_date
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(s)));
        println!(
            "created    {}{}",
            when.map(|w| format!("{w} ")).unwrap_or_default(),
            shown
                .created_by
                .as_deref()
                .map(|b| format!("by {b}"))
                .unwrap_or_default()
        );
    }
    println!("files");
    for f in &shown.files {
        println!("  {:>12}  {}", f.length, f.path);
    }
    Ok(())
}
