//! `p2p bench transfer`: our BitTorrent peer against libtorrent on loopback, one file, in
//! both directions, with aria2c and rtorrent beside libtorrent where they are installed.
//! Each peer runs as its own process, timed from start to exit (the downloader exits once
//! every piece is verified; rtorrent, which runs on, until it says it has finished), and
//! our peer's peak memory is read from the kernel's accounting of that process. The other
//! clients run with their defaults but for what would find peers other than the ones
//! given (DHT, local discovery, peer exchange), and libtorrent without uTP and protocol
//! encryption: our peer speaks neither, and libtorrent would try them first and fall back
//! only after a failed connection.

mod clients;
mod process;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use filesharing::{CreateOptions, InfoHash, Metainfo, create};
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::bench::progress::bar;
use clients::{
    Tracker, aria2c_download, aria2c_seed, has_libtorrent, installed, libtorrent_download,
    libtorrent_script, libtorrent_seed, our_seed, rtorrent_download, rtorrent_seed,
};
use process::{Proc, path, spawn_p2p};

/// Longest a single transfer may take.
const LIMIT: Duration = Duration::from_secs(600);

/// `p2p bench transfer`.
#[derive(Args, Debug, Clone)]
pub struct TransferArgs {
    /// Bytes in the file, e.g. 200MiB.
    #[arg(long, default_value = "200MiB", value_parser = crate::torrent_cli::size)]
    pub size: u64,
    /// Bytes per piece (default: the torrent default, about 1,500 pieces).
    #[arg(long, value_parser = crate::torrent_cli::size)]
    pub piece_size: Option<u64>,
    /// Seed of the file's bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Leave out aria2c and rtorrent even where installed.
    #[arg(long)]
    pub libtorrent_only: bool,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// One direction's result.
#[derive(Serialize, Debug)]
pub struct Row {
    /// `download` (ours and the others' downloaders from a libtorrent seeder) or `upload`
    /// (a libtorrent downloader from our seeder and from the others').
    pub direction: &'static str,
    /// Bytes transferred.
    pub bytes: u64,
    /// Seconds with our peer.
    pub ours_s: f64,
    /// Seconds with libtorrent in its place.
    pub libtorrent_s: f64,
    /// libtorrent's time ÷ ours: above 1, ours is faster.
    pub ratio: f64,
    /// Seconds with aria2c in its place, if it ran.
    pub aria2c_s: Option<f64>,
    /// Seconds with rtorrent in its place, if it ran.
    pub rtorrent_s: Option<f64>,
    /// Peak resident memory of our peer's process.
    pub ours_peak_rss_mb: f64,
}

/// What every run shares: the folder, the file and its torrents.
struct Bench {
    dir: PathBuf,
    script: PathBuf,
    src: PathBuf,
    meta: Metainfo,
    /// The torrent without trackers.
    torrent: PathBuf,
    expected: Vec<u8>,
}

impl Bench {
    fn hash(&self) -> InfoHash {
        self.meta.info_hash
    }

    /// The torrent announced to `tracker`, written as `name`.
    fn tracked(&self, tracker: &Tracker, name: &str) -> Result<PathBuf> {
        let mut meta = self.meta.clone();
        meta.trackers = vec![vec![tracker.url.clone()]];
        let file = self.dir.join(name);
        std::fs::write(&file, meta.to_bytes()?)?;
        Ok(file)
    }

    /// A fresh folder under the work folder.
    fn folder(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}

/// Runs the benchmark and prints its rows.
pub fn run(args: &TransferArgs) -> Result<()> {
    if !has_libtorrent() {
        bail!(
            "this benchmark runs libtorrent through /usr/bin/python3: apt-get install python3-libtorrent"
        );
    }
    let aria = !args.libtorrent_only && installed("aria2c");
    let rt = !args.libtorrent_only && installed("rtorrent");
    let work = tempfile::tempdir().context("a temporary folder")?;
    let dir = work.path().to_path_buf();
    let src = dir.join("src");
    std::fs::create_dir_all(&src)?;
    let file = src.join("bench.bin");
    write_file(&file, args.size, args.seed, args.quiet)?;
    let options = CreateOptions {
        piece_length: args.piece_size,
        ..CreateOptions::default()
    };
    let meta = create(&file, &options, &mut |_, _| {})?;
    let torrent = dir.join("bench.torrent");
    std::fs::write(&torrent, meta.to_bytes()?)?;
    let b = Bench {
        script: libtorrent_script(&dir)?,
        expected: std::fs::read(&file)?,
        dir,
        src,
        meta,
        torrent,
    };

    let others = u64::from(aria) + u64::from(rt);
    let pb = bar(4 + 2 * others, "transfers", args.quiet);
    let rows = vec![download(&b, aria, rt, &pb)?, upload(&b, aria, rt, &pb)?];
    pb.finish_and_clear();
    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// From a libtorrent seeder: our downloader, libtorrent's, aria2c's and rtorrent's.
fn download(b: &Bench, aria: bool, rt: bool, pb: &indicatif::ProgressBar) -> Result<Row> {
    // aria2c and rtorrent learn of the seeder from a tracker only.
    let tracker = if aria || rt {
        Some(Tracker::start()?)
    } else {
        None
    };
    let seed_torrent = match &tracker {
        Some(t) => b.tracked(t, "download.torrent")?,
        None => b.torrent.clone(),
    };
    let (_seeder, port) = libtorrent_seed(&b.script, &seed_torrent, &b.src)?;
    if let Some(t) = &tracker {
        t.wait_for_seeder(b.hash(), "libtorrent")?;
    }
    let peer = format!("127.0.0.1:{port}");
    let into = b.folder("ours-down");
    let t = Instant::now();
    let ours = spawn_p2p(&[
        "download",
        "--quiet",
        "--no-trackers",
        "--listen",
        "127.0.0.1:0",
        "--peer",
        &peer,
        "--dir",
        path(&into),
        path(&b.torrent),
    ])?;
    let (ok, rss) = ours.wait_peak(LIMIT)?;
    let ours_s = t.elapsed().as_secs_f64();
    ensure!(ok, "p2p download failed");
    same(&into.join("bench.bin"), &b.expected)?;
    remove(&[&into]);
    pb.inc(1);
    let into = b.folder("lt-down");
    let lt_s = libtorrent_download(&b.script, &b.torrent, &into, &peer, &b.expected)?;
    remove(&[&into]);
    pb.inc(1);
    let aria2c_s = aria
        .then(|| {
            let into = b.folder("aria2c-down");
            let s = aria2c_download(&seed_torrent, &into, &b.expected);
            remove(&[&into]);
            pb.inc(1);
            s
        })
        .transpose()?;
    let rtorrent_s = rt
        .then(|| {
            let into = b.folder("rtorrent-down");
            let s = rtorrent_download(
                &seed_torrent,
                &into,
                &b.folder("rtorrent-down-work"),
                &b.expected,
            );
            remove(&[&into]);
            pb.inc(1);
            s
        })
        .transpose()?;
    Ok(row("download", b, ours_s, lt_s, aria2c_s, rtorrent_s, rss))
}

/// A libtorrent downloader: from our seeder, libtorrent's, aria2c's and rtorrent's.
fn upload(b: &Bench, aria: bool, rt: bool, pb: &indicatif::ProgressBar) -> Result<Row> {
    let fetch = |seeder: Proc, port: u16| -> Result<(f64, Proc)> {
        let into = b.folder("lt-up");
        let peer = format!("127.0.0.1:{port}");
        let s = libtorrent_download(&b.script, &b.torrent, &into, &peer, &b.expected)?;
        remove(&[&into]);
        pb.inc(1);
        Ok((s, seeder))
    };
    let (seeder, port) = our_seed(&b.torrent, &b.src)?;
    let (ours_s, seeder) = fetch(seeder, port)?;
    let (_, rss) = seeder.interrupt(Duration::from_secs(30))?;
    let (seeder, port) = libtorrent_seed(&b.script, &b.torrent, &b.src)?;
    let lt_s = fetch(seeder, port)?.0;
    // A tracker of their own each, whose scrape says when the seeder has checked the file.
    let aria2c_s = aria
        .then(|| -> Result<f64> {
            let tracker = Tracker::start()?;
            let torrent = b.tracked(&tracker, "aria2c-seed.torrent")?;
            let (seeder, port) = aria2c_seed(&torrent, &b.src, &tracker, b.hash())?;
            Ok(fetch(seeder, port)?.0)
        })
        .transpose()?;
    let rtorrent_s = rt
        .then(|| -> Result<f64> {
            let tracker = Tracker::start()?;
            let torrent = b.tracked(&tracker, "rtorrent-seed.torrent")?;
            let work = b.folder("rtorrent-seed-work");
            let (seeder, port) = rtorrent_seed(&torrent, &b.src, &work, &tracker, b.hash())?;
            Ok(fetch(seeder, port)?.0)
        })
        .transpose()?;
    Ok(row("upload", b, ours_s, lt_s, aria2c_s, rtorrent_s, rss))
}

fn row(
    direction: &'static str,
    b: &Bench,
    ours: f64,
    lt: f64,
    aria2c_s: Option<f64>,
    rtorrent_s: Option<f64>,
    rss: f64,
) -> Row {
    Row {
        direction,
        bytes: b.expected.len() as u64,
        ours_s: ours,
        libtorrent_s: lt,
        ratio: lt / ours,
        aria2c_s,
        rtorrent_s,
        ours_peak_rss_mb: rss,
    }
}

fn print_table(rows: &[Row]) {
    let secs = |s: Option<f64>| s.map_or("–".to_string(), |s| format!("{s:.2}"));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.direction.to_string(),
                bytesize::ByteSize(r.bytes).to_string(),
                format!("{:.2}", r.ours_s),
                format!("{:.2}", r.libtorrent_s),
                format!("{:.2}", r.ratio),
                secs(r.aria2c_s),
                secs(r.rtorrent_s),
                format!("{:.1}", r.ours_peak_rss_mb),
            ]
        })
        .collect();
    crate::bench::table::print(
        &[
            "direction",
            "size",
            "ours s",
            "libtorrent s",
            "ratio",
            "aria2c s",
            "rtorrent s",
            "our peak RSS MiB",
        ],
        &cells,
    );
}

fn remove(dirs: &[&Path]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn same(file: &Path, expected: &[u8]) -> Result<()> {
    let got = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
    ensure!(
        got == expected,
        "{} differs from the file shared",
        file.display()
    );
    Ok(())
}

/// A file of `size` bytes from a seeded generator, with a bar.
fn write_file(file: &Path, size: u64, seed: u64, quiet: bool) -> Result<()> {
    let pb = bar(size, "writing the file", quiet);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        rng.fill(&mut chunk[..n]);
        out.write_all(&chunk[..n])?;
        left -= n as u64;
        pb.inc(n as u64);
    }
    out.flush()?;
    pb.finish_and_clear();
    Ok(())
}
