//! The peers the benchmark times: ours, libtorrent (through the distribution's Python),
//! aria2c and rtorrent, each its own process; and our tracker, which tells aria2c and
//! rtorrent (which take peers from trackers only) where the seeder is, and whose scrape
//! says when a seeder has checked its files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use filesharing::InfoHash;
use filesharing::tracker::{parse_scrape_response, scrape_url};

#[path = "../../../tests/clients/commands.rs"]
mod commands;

use super::process::{Proc, first_line, free_port, path, spawn_p2p};
use super::{LIMIT, same};

/// The libtorrent peer the tests use.
const LIBTORRENT_PEER: &str = include_str!("../../../tests/clients/libtorrent_peer.py");
/// libtorrent's Python module is the distribution's, for its Python only.
const PYTHON: &str = "/usr/bin/python3";

/// Whether libtorrent can be run.
pub fn has_libtorrent() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import libtorrent"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `program` is on the path.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Writes the libtorrent peer script into `dir`; its path.
pub fn libtorrent_script(dir: &Path) -> Result<std::path::PathBuf> {
    let script = dir.join("libtorrent_peer.py");
    std::fs::write(&script, LIBTORRENT_PEER)?;
    Ok(script)
}

/// A libtorrent seeder, once it has checked the file; and its port.
pub fn libtorrent_seed(script: &Path, torrent: &Path, src: &Path) -> Result<(Proc, u16)> {
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

/// Seconds for libtorrent to download from `peer` into `into` and exit.
pub fn libtorrent_download(
    script: &Path,
    torrent: &Path,
    into: &Path,
    peer: &str,
    expected: &[u8],
) -> Result<f64> {
    let port = free_port()?;
    let mut cmd = Command::new(PYTHON);
    cmd.arg(script)
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
        .stderr(Stdio::null());
    time_download(cmd, "libtorrent", into, expected)
}

/// Seconds for the downloader `cmd` (`who`) to exit, checked to have left every byte of
/// the file in `into`.
fn time_download(mut cmd: Command, who: &str, into: &Path, expected: &[u8]) -> Result<f64> {
    let t = Instant::now();
    let child = cmd.spawn().with_context(|| format!("starting {who}"))?;
    let (ok, _) = Proc(child).wait_peak(LIMIT)?;
    let secs = t.elapsed().as_secs_f64();
    ensure!(ok, "{who}'s download did not complete");
    same(&into.join("bench.bin"), expected)?;
    Ok(secs)
}

/// Polls `done` every `every` until it holds (or fails), for at most [`LIMIT`]; `what`
/// names the wait in the error.
fn poll_until(what: &str, every: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + LIMIT;
    while !done()? {
        ensure!(Instant::now() < deadline, "{what} within {LIMIT:?}");
        std::thread::sleep(every);
    }
    Ok(())
}

/// Our seeder, once it has verified the file; and its port.
pub fn our_seed(torrent: &Path, src: &Path) -> Result<(Proc, u16)> {
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

/// `p2p tracker` on loopback.
pub struct Tracker {
    _proc: Proc,
    /// Its announce URL.
    pub url: String,
}

impl Tracker {
    /// Starts one, with announces every 2 s.
    pub fn start() -> Result<Self> {
        let mut proc = spawn_p2p(&["tracker", "--listen", "127.0.0.1:0", "--interval", "2"])?;
        let line = first_line(proc.0.stdout.take().expect("piped"))?;
        let url = line
            .trim()
            .strip_prefix("tracker announce URL ")
            .with_context(|| format!("p2p tracker did not start: {line:?}"))?
            .to_string();
        Ok(Self { _proc: proc, url })
    }

    /// Waits until a seeder of `hash` has announced itself, which a client does once it
    /// has checked its files.
    pub fn wait_for_seeder(&self, hash: InfoHash, who: &str) -> Result<()> {
        let url = scrape_url(&self.url, &[hash]).context("our tracker's scrape URL")?;
        // Polled: the tracker has no way to push.
        let what = format!("{who} did not announce itself as a seeder");
        poll_until(&what, Duration::from_millis(20), || {
            let body = ureq::get(&url)
                .call()
                .and_then(|mut r| r.body_mut().read_to_vec())
                .context("scraping our tracker")?;
            let counts = parse_scrape_response(&body)?;
            Ok(counts.iter().any(|(h, c)| *h == hash && c.complete > 0))
        })
    }
}

/// aria2c with its output dropped.
fn aria2c(torrent: &Path, dir: &Path, port: u16, extra: &[&str]) -> Command {
    let mut cmd = commands::aria2c(torrent, dir, port, extra);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Seconds for aria2c to download `torrent` (whose tracker lists the seeder) and exit.
pub fn aria2c_download(torrent: &Path, into: &Path, expected: &[u8]) -> Result<f64> {
    let cmd = aria2c(torrent, into, free_port()?, &["--seed-time=0"]);
    time_download(cmd, "aria2c", into, expected)
}

/// An aria2c seeder of the files in `src`, once `tracker` has its announce as a seeder;
/// and its port.
pub fn aria2c_seed(
    torrent: &Path,
    src: &Path,
    tracker: &Tracker,
    hash: InfoHash,
) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let child = aria2c(
        torrent,
        src,
        port,
        &["--check-integrity=true", "--seed-ratio=0.0"],
    )
    .spawn()
    .context("starting aria2c")?;
    let proc = Proc(child);
    tracker.wait_for_seeder(hash, "aria2c")?;
    Ok((proc, port))
}

/// rtorrent saving to or seeding from `dir`, its session in `work`, with a finished
/// download marked by the file `work/finished`, since rtorrent runs on once done.
fn rtorrent(torrent: &Path, dir: &Path, work: &Path, port: u16) -> Result<Command> {
    let session = work.join("session");
    std::fs::create_dir_all(&session)?;
    std::fs::create_dir_all(dir)?;
    let rc = work.join("rtorrent.rc");
    std::fs::write(
        &rc,
        format!(
            "method.set_key = event.download.finished, bench, \"execute.nothrow=touch,{}\"\n",
            work.join("finished").display()
        ),
    )?;
    let mut cmd = commands::rtorrent(torrent, dir, &session, port, Some(&rc));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Ok(cmd)
}

/// Seconds for rtorrent to download `torrent` (whose tracker lists the seeder), until it
/// says the download is finished.
pub fn rtorrent_download(torrent: &Path, into: &Path, work: &Path, expected: &[u8]) -> Result<f64> {
    let finished = work.join("finished");
    let t = Instant::now();
    let mut proc = Proc(
        rtorrent(torrent, into, work, free_port()?)?
            .spawn()
            .context("starting rtorrent")?,
    );
    // Polled: the marker is a file, and rtorrent offers no other signal here.
    let what = "rtorrent's download did not finish";
    poll_until(what, Duration::from_millis(10), || {
        if finished.exists() {
            return Ok(true);
        }
        if let Some(status) = proc.0.try_wait()? {
            bail!("rtorrent exited ({status}) before finishing its download");
        }
        Ok(false)
    })?;
    let secs = t.elapsed().as_secs_f64();
    drop(proc);
    same(&into.join("bench.bin"), expected)?;
    Ok(secs)
}

/// An rtorrent seeder of the files in `src`, once `tracker` has its announce as a seeder
/// (after its hash check); and its port.
pub fn rtorrent_seed(
    torrent: &Path,
    src: &Path,
    work: &Path,
    tracker: &Tracker,
    hash: InfoHash,
) -> Result<(Proc, u16)> {
    let port = free_port()?;
    let proc = Proc(
        rtorrent(torrent, src, work, port)?
            .spawn()
            .context("starting rtorrent")?,
    );
    tracker.wait_for_seeder(hash, "rtorrent")?;
    Ok((proc, port))
}
