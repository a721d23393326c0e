//! Several `p2p node` processes on loopback driven by the client commands; one is killed
//! with SIGKILL and restarted from its data directory, keeping its id and its records.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NODES: usize = 4;
const KEYS: usize = 20;

fn p2p(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(args)
        .output()
        .expect("p2p runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "p2p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct NodeProcess {
    child: Child,
    api: String,
    addr: String,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `p2p node` and reads its start-up lines until the API is up.
fn start(data: &Path, api: &str, bootstrap: Option<&str>) -> NodeProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2p"));
    cmd.args(["node", "--no-mdns", "--maintenance", "0.5"])
        .args(["--listen", "/ip4/127.0.0.1/tcp/0", "--api", api])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(b) = bootstrap {
        cmd.args(["--bootstrap", b]);
    }
    let mut child = cmd.spawn().expect("p2p node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.expect("readable output");
        if let Some(a) = line.strip_prefix("listening on ") {
            addr = Some(a.to_string());
        }
        if line.starts_with("local API on") {
            break;
        }
    }
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    NodeProcess {
        child,
        api: api.to_string(),
        addr: addr.expect("the node prints its address"),
    }
}

fn status(api: &str) -> serde_json::Value {
    serde_json::from_str(&ok(p2p(&["status", "--json", "--api", api]))).unwrap()
}

/// Retries `get` until it returns `want` (maintenance may need a few rounds after a
/// membership change).
fn get_eventually(api: &str, key: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = p2p(&["get", key, "--api", api]);
        if out.status.success() && out.stdout == want.as_bytes() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "get {key} via {api}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_joined(api: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while status(api)["phase"] != "Joined" {
        assert!(Instant::now() < deadline, "{api} did not join");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn nodes_in_separate_processes_survive_sigkill_and_restart_from_their_data_dir() {
    let root: PathBuf = std::env::temp_dir().join(format!("p2p-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dirs: Vec<PathBuf> = (0..NODES).map(|i| root.join(format!("node{i}"))).collect();
    let apis: Vec<String> = (0..NODES)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut nodes = vec![start(&dirs[0], &apis[0], None)];
    let first = nodes[0].addr.clone();
    wait_joined(&apis[0]);
    for i in 1..NODES {
        nodes.push(start(&dirs[i], &apis[i], Some(&first)));
        wait_joined(&apis[i]);
    }
    std::thread::sleep(Duration::from_secs(3));

    for k in 0..KEYS {
        let api = &nodes[k % NODES].api;
        ok(p2p(&[
            "put",
            &format!("key{k}"),
            &format!("value{k}"),
            "--api",
            api,
        ]));
    }
    for k in 0..KEYS {
        get_eventually(
            &apis[(k + 1) % NODES],
            &format!("key{k}"),
            &format!("value{k}"),
        );
    }
    // Let replica repair copy every key to its r = 3 replicas.
    std::thread::sleep(Duration::from_secs(3));
    let before = status(&apis[2]);
    assert!(before["stored_values"].as_u64().unwrap() > 0);

    // SIGKILL: no leave, no flush; the others must still serve every key.
    let mut victim = nodes.remove(2);
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    drop(victim);
    for k in 0..KEYS {
        get_eventually(&apis[k % 2], &format!("key{k}"), &format!("value{k}"));
    }

    // Restarted from its data dir: same id, its records back before it rejoins.
    let restarted = start(&dirs[2], &apis[2], Some(&first));
    let after = status(&apis[2]);
    assert_eq!(
        after["peer"], before["peer"],
        "the restarted node kept its id"
    );
    assert!(
        after["stored_values"].as_u64().unwrap() >= before["stored_values"].as_u64().unwrap(),
        "records kept across SIGKILL: before {before}, after {after}"
    );
    wait_joined(&apis[2]);
    nodes.push(restarted);
    for k in 0..KEYS {
        get_eventually(&apis[2], &format!("key{k}"), &format!("value{k}"));
    }

    ok(p2p(&["remove", "key0", "--api", &apis[0]]));
    let gone = p2p(&["get", "key0", "--api", &apis[1]]);
    assert!(!gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no value is stored"));

    // A graceful leave hands records over and the process exits by itself.
    let mut leaver = nodes.remove(0);
    ok(p2p(&["leave", "--api", &leaver.api]));
    let exited = leaver.child.wait().unwrap();
    assert!(exited.success());
    for k in 1..KEYS {
        get_eventually(&apis[1], &format!("key{k}"), &format!("value{k}"));
    }

    // SIGTERM is a graceful leave too: the node hands its records over and exits cleanly.
    let mut terminated = nodes.remove(0);
    let pid = terminated.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(terminated.child.wait().unwrap().success());
    for k in 1..KEYS {
        get_eventually(&nodes[0].api, &format!("key{k}"), &format!("value{k}"));
    }
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}

/// `p2p multicast` between node processes: a subscriber prints what a publisher on
/// another node sends, in order, and `p2p multicast groups` shows its membership.
#[test]
fn multicast_between_node_processes() {
    let root: PathBuf = std::env::temp_dir().join(format!("p2p-mcast-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dirs: Vec<PathBuf> = (0..3).map(|i| root.join(format!("node{i}"))).collect();
    let first = start(&dirs[0], &format!("127.0.0.1:{}", free_port()), None);
    wait_joined(&first.api);
    let mut nodes = vec![first];
    for d in &dirs[1..] {
        let api = format!("127.0.0.1:{}", free_port());
        let n = start(d, &api, Some(&nodes[0].addr));
        wait_joined(&n.api);
        nodes.push(n);
    }
    let mut sub = Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(["multicast", "subscribe", "news", "--count", "3"])
        .args(["--api", &nodes[2].api])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p2p multicast subscribe starts");
    let mut said = String::new();
    BufReader::new(sub.stderr.take().unwrap())
        .read_line(&mut said)
        .expect("the subscriber says it subscribed");
    assert!(said.starts_with("subscribed to \"news\""), "{said}");
    let groups = ok(p2p(&["multicast", "groups", "--api", &nodes[2].api]));
    assert!(groups.contains("member"), "{groups}");
    for text in ["one", "two", "three"] {
        ok(p2p(&[
            "multicast",
            "publish",
            "news",
            text,
            "--api",
            &nodes[0].api,
        ]));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while sub.try_wait().expect("subscriber state").is_none() {
        assert!(
            Instant::now() < deadline,
            "the subscriber did not get 3 messages"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut sub.stdout.take().unwrap(), &mut out).unwrap();
    let texts: Vec<&str> = out
        .lines()
        .map(|l| l.rsplit("] ").next().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two", "three"], "{out}");
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}
