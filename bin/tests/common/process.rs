//! `p2p` as a separate process: client commands, and `p2p node` processes on loopback
//! whose ports the system picks (read back from what the node prints).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `p2p` with `args` to completion.
pub fn p2p(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(args)
        .output()
        .expect("p2p runs")
}

/// The standard output of a run that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "p2p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// What `p2p torrent show --json` says of a .torrent file.
pub fn torrent_json(torrent: &Path) -> serde_json::Value {
    let path = torrent.to_str().expect("a UTF-8 path");
    serde_json::from_str(&ok(p2p(&["torrent", "show", "--json", path]))).unwrap()
}

/// Runs `p2p` with `args`, which must exit by itself within `limit` (it is killed and the
/// test fails otherwise).
pub fn exits_within(args: &[&str], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2p"));
    cmd.args(args).env("RUST_LOG", "warn");
    output_within(cmd, &format!("p2p {args:?}"), limit)
}

/// Runs `cmd` with its output captured; it must exit by itself within `limit` (it is
/// killed and the test fails otherwise). `what` names it in the failure.
pub fn output_within(mut cmd: Command, what: &str, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let deadline = Instant::now() + limit;
    // Polled under the deadline: the standard library has no wait with a timeout.
    while child.try_wait().expect("child state").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{what} still ran after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A running `p2p node`, killed when dropped.
pub struct NodeProcess {
    /// The process.
    pub child: Child,
    /// Its local API, `127.0.0.1:port`.
    pub api: String,
    /// Its first listen address, ending in `/p2p/<peer id>`.
    pub addr: String,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `p2p node` on loopback (ports picked by the system), with `data` as its data
/// directory, joining through `bootstrap`, with `extra` arguments; returns once its API is
/// up.
pub fn start_node(data: Option<&Path>, bootstrap: Option<&str>, extra: &[&str]) -> NodeProcess {
    start_node_via(&[], data, bootstrap, extra)
}

/// [`start_node`], run through `wrapper` (a command that ends by running the arguments it
/// is given, as `unshare ... sh -c '...; exec "$@"'` does); empty: directly.
pub fn start_node_via(
    wrapper: &[&str],
    data: Option<&Path>,
    bootstrap: Option<&str>,
    extra: &[&str],
) -> NodeProcess {
    let mut args: Vec<std::ffi::OsString> = wrapper.iter().map(Into::into).collect();
    args.push(env!("CARGO_BIN_EXE_p2p").into());
    for a in ["node", "--no-mdns", "--maintenance", "0.5", "--listen"] {
        args.push(a.into());
    }
    for a in ["/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"] {
        args.push(a.into());
    }
    args.extend(extra.iter().map(Into::into));
    if let Some(d) = data {
        args.push("--data-dir".into());
        args.push(d.into());
    }
    if let Some(b) = bootstrap {
        args.push("--bootstrap".into());
        args.push(b.into());
    }
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("p2p node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    let mut api = None;
    for line in lines.by_ref() {
        let line = line.expect("readable output");
        if let Some(a) = line.strip_prefix("listening on ") {
            addr.get_or_insert(a.to_string());
        }
        if let Some(a) = line.strip_prefix("local API on http://") {
            api = Some(a.to_string());
            break;
        }
    }
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    NodeProcess {
        child,
        api: api.expect("the node prints its API address"),
        addr: addr.expect("the node prints its address"),
    }
}

/// `p2p status --json` of the node at `api`.
pub fn status(api: &str) -> serde_json::Value {
    serde_json::from_str(&ok(p2p(&["status", "--json", "--api", api]))).unwrap()
}

/// Polls `cond` until it holds, failing with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "{what} (waited {limit:?})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the node at `api` has joined.
pub fn wait_joined(api: &str) {
    wait_until(
        &format!("{api} did not join"),
        Duration::from_secs(20),
        || status(api)["phase"] == "Joined",
    );
}
