//! Real BitTorrent tools in tests: found on the PATH or skipped with a notice, except where
//! `P2P_REQUIRE_CLIENTS` is set (as `.ci/run` does after installing them), where a missing
//! tool fails the test; each run bounded by a deadline, each long-running one killed by
//! its own process id when the test ends.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const INSTALL: &str =
    "apt-get install transmission-cli mktorrent aria2 rtorrent python3-libtorrent";

/// Whether `name` is installed; a missing tool fails the test where tools are required.
pub fn installed(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()));
    available(name, found)
}

/// `found`, after failing the test if `what` is missing where tools are required, or
/// saying it is skipped elsewhere.
pub fn available(what: &str, found: bool) -> bool {
    if !found {
        assert!(
            std::env::var_os("P2P_REQUIRE_CLIENTS").is_none(),
            "{what} is not installed ({INSTALL})"
        );
        eprintln!("SKIPPED: {what} is not installed ({INSTALL})");
    }
    found
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs installed tool `name` in `dir` to completion within a minute; its standard output.
pub fn run(name: &str, args: &[&str], dir: &Path) -> String {
    let mut cmd = Command::new(name);
    cmd.args(args).current_dir(dir);
    let what = format!("{name} {args:?}");
    let out = super::process::output_within(cmd, &what, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A long-running process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts installed tool `name` in `dir`, its output discarded.
pub fn start(name: &str, args: &[&str], dir: &Path) -> Running {
    let mut cmd = Command::new(name);
    cmd.args(args).current_dir(dir);
    spawn(cmd)
}

/// Starts `cmd` with no input and its output discarded.
pub fn spawn(mut cmd: Command) -> Running {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program()));
    Running(child)
}

/// Starts `p2p tracker` on a port the system picks, telling peers to announce every
/// `interval` seconds; the process and its announce URL.
pub fn our_tracker(interval: u32) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(["tracker", "--listen", "127.0.0.1:0", "--interval"])
        .arg(interval.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("p2p tracker runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the tracker prints its URL");
    let url = line
        .trim()
        .strip_prefix("tracker announce URL ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (Running(child), url)
}
