//! The benchmark's child processes: started, waited for under a deadline with their peak
//! memory read while they run, and killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

/// A child process, killed if still running when dropped.
pub struct Proc(pub Child);

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
    pub fn wait_peak(mut self, limit: Duration) -> Result<(bool, f64)> {
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
    pub fn interrupt(self, limit: Duration) -> Result<(bool, f64)> {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGINT) };
        self.wait_peak(limit)
    }
}

/// Starts this `p2p` executable with `args`, its output dropped but for the first line of
/// stderr of `seed` and of stdout of `tracker`, which say when they are ready.
pub fn spawn_p2p(args: &[&str]) -> Result<Proc> {
    let exe = std::env::current_exe().context("the p2p executable")?;
    let piped = |yes: bool| if yes { Stdio::piped() } else { Stdio::null() };
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(piped(args.first() == Some(&"tracker")))
        .stderr(piped(args.first() == Some(&"seed")))
        .spawn()
        .context("starting p2p")?;
    Ok(Proc(child))
}

/// A port free on loopback at the time of asking.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The first line a child writes; the rest is read and dropped in the background, so that
/// the child never writes to a closed pipe.
pub fn first_line(out: impl std::io::Read + Send + 'static) -> Result<String> {
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(line)
}

/// A path as the UTF-8 argument a child takes.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}
