//! `p2p bench transfer`: our BitTorrent peer against libtorrent on loopback, one file, in
//! both directions. Each peer runs as its own process, timed from start to exit (the
//! downloader exits once every piece is verified), and our peer's peak memory is read from
//! the kernel's accounting of that process. libtorrent runs with its defaults but for uTP
//! and protocol encryption, which are off: our peer speaks neither, and libtorrent would
//! try them first and fall back only after a failed connection.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use filesharing::{CreateOptions, create};
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::bench::progress::bar;

/// The libtorrent peer the tests use, run with the distribution's Python.
const LIBTORRENT_PEER: &str = include_str!("../../tests/clients/libtorrent_peer.py");
const PYTHON: &str = "/usr/bin/python3";
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
    /// `download` (ours and libtorrent's downloader from a libtorrent seeder) or `upload`
    /// (a libtorrent downloader from our seeder and from libtorrent's).
    pub direction: &'static str,
    /// Bytes transferred.
    pub bytes: u64,
    /// Seconds with our peer.
    pub ours_s: f64,
    /// Seconds with libtorrent in its place.
    pub libtorrent_s: f64,
    /// libtorrent's time ÷ ours: above 1, ours is faster.
    pub ratio: f64,
    /// Peak resident memory of our peer's process.
    pub ours_peak_rss_mb: f64,
}

/// A child process, killed if still running when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// The process's peak resident memory so far, in MiB, from the kernel's high-water
    /// mark (which, unlike `wait4`'s, does not count what the process held before it
    /// became `p2p`, such as the memory of the forked benchmark).
    fn peak_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }

    /// Waits for exit within `limit`; whether it exited 0, and its peak memory in MiB
    /// as last read while it ran.
    fn wait_peak(mut self, limit: Duration) -> Result<(bool, f64)> {
        let deadline = Instant::now() + limit;
        let mut peak = 0.0f64;
        loop {
            if let Some(mb) = self.peak_mb() {
                peak = peak.max(mb);
            }
            if let Some(status) = self.0.try_wait()? {
                return Ok((status.success(), peak));
            }
            ensure!(
                Instant::now() < deadline,
                "a peer still ran after {limit:?}"
            );
            // Polled: the standard library has no wait with a timeout.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asks the process to stop as Ctrl-C would, and waits for it.
    fn interrupt(self, limit: Duration) -> Result<(bool, f64)> {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGINT) };
        self.wait_peak(limit)
    }
}

/// Runs the benchmark and prints its rows.
pub fn run(args: &TransferArgs) -> Result<()> {
    let has_libtorrent = Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_libtorrent {
        bail!(
            "this benchmark runs libtorrent through {PYTHON}: apt-get install python3-libtorrent"
        );
    }
    let work = tempfile::tempdir().context("a temporary folder")?;
    let dir = work.path();
    let script = dir.join("libtorrent_peer.py");
    std::fs::write(&script, LIBTORRENT_PEER)?;
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
    let expected = std::fs::read(&file)?;

    let pb = bar(4, "transfers", args.quiet);
    let mut rows = Vec::new();

    // Download: from a libtorrent seeder, our downloader, then libtorrent's.
    let seeder = libtorrent_seed(&script, &torrent, &src)?;
    let peer = format!("127.0.0.1:{}", seeder.1);
    let into = dir.join("ours-down");
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
        path(&torrent),
    ])?;
    let (ok, rss_down) = ours.wait_peak(LIMIT)?;
    let ours_down = t.elapsed().as_secs_f64();
    ensure!(ok, "p2p download failed");
    same(&into.join("bench.bin"), &expected)?;
    pb.inc(1);
    let lt_into = dir.join("lt-down");
    let lt_down = libtorrent_download(&script, &torrent, &lt_into, &peer, &expected)?;
    pb.inc(1);
    drop(seeder);
    rows.push(row("download", args.size, ours_down, lt_down, rss_down));
    remove(&[&into, &lt_into]);

    // Upload: a libtorrent downloader from our seeder, then from libtorrent's.
    let (ours_seed, port) = our_seed(&torrent, &src)?;
    let lt_into = dir.join("lt-from-ours");
    let ours_up = libtorrent_download(
        &script,
        &torrent,
        &lt_into,
        &format!("127.0.0.1:{port}"),
        &expected,
    )?;
    let (_, rss_up) = ours_seed.interrupt(Duration::from_secs(30))?;
    pb.inc(1);
    remove(&[&lt_into]);
    let seeder = libtorrent_seed(&script, &torrent, &src)?;
    let lt_into = dir.join("lt-from-lt");
    let lt_up = libtorrent_download(
        &script,
        &torrent,
        &lt_into,
        &format!("127.0.0.1:{}", seeder.1),
        &expected,
    )?;
    drop(seeder);
    pb.finish_and_clear();
    rows.push(row("upload", args.size, ours_up, lt_up, rss_up));

    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        print_table(&rows);
    }
    Ok(())
}

fn row(direction: &'static str, bytes: u64, ours: f64, lt: f64, rss: f64) -> Row {
    Row {
        direction,
        bytes,
        ours_s: ours,
        libtorrent_s: lt,
        ratio: lt / ours,
        ours_peak_rss_mb: rss,
    }
}

fn print_table(rows: &[Row]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.direction.to_string(),
                bytesize::ByteSize(r.bytes).to_string(),
                format!("{:.2}", r.ours_s),
                format!("{:.2}", r.libtorrent_s),
                format!("{:.2}", r.ratio),
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
            "our peak RSS MiB",
        ],
        &cells,
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn remove(dirs: &[&PathBuf]) {
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

fn spawn_p2p(args: &[&str]) -> Result<Proc> {
    let exe = std::env::current_exe().context("the p2p executable")?;
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if args.first() == Some(&"seed") {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .context("starting p2p")?;
    Ok(Proc(child))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A libtorrent seeder, once it has checked the file; and its port.
fn libtorrent_seed(script: &Path, torrent: &Path, src: &Path) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let mut child = Command::new(PYTHON)
        .arg(script)
        .args(["seed", path(torrent), path(src), &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting libtorrent")?;
    let out = child.stdout.take().expect("piped");
    let proc = Proc(child);
    let line = first_line(out)?;
    ensure!(
        line.trim() == "seeding",
        "libtorrent did not start seeding: {line:?}"
    );
    Ok((proc, port))
}

/// Our seeder, once it has verified the file; and its port.
fn our_seed(torrent: &Path, src: &Path) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let mut proc = spawn_p2p(&[
        "seed",
        "--quiet",
        "--no-trackers",
        "--listen",
        &listen,
        "--dir",
        path(src),
        path(torrent),
    ])?;
    let err = proc.0.stderr.take().expect("piped");
    let line = first_line(err)?;
    ensure!(
        line.starts_with("seeding "),
        "p2p seed did not start: {line:?}"
    );
    Ok((proc, port))
}

/// The first line a child writes; the rest is read and dropped in the background, so that
/// the child never writes to a closed pipe.
fn first_line(out: impl std::io::Read + Send + 'static) -> Result<String> {
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(line)
}

/// Seconds for libtorrent to download from `peer` into `into` and exit.
fn libtorrent_download(
    script: &Path,
    torrent: &Path,
    into: &Path,
    peer: &str,
    expected: &[u8],
) -> Result<f64> {
    let port = free_port()?;
    let t = Instant::now();
    let child = Command::new(PYTHON)
        .arg(script)
        .args([
            "download",
            path(torrent),
            path(into),
            &port.to_string(),
            peer,
        ])
        .env("LIBTORRENT_PEER_LIMIT", LIMIT.as_secs().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting libtorrent")?;
    let (ok, _) = Proc(child).wait_peak(LIMIT)?;
    let secs = t.elapsed().as_secs_f64();
    ensure!(ok, "libtorrent's download from {peer} did not complete");
    same(&into.join("bench.bin"), expected)?;
    Ok(secs)
}
