//! Several `p2p node` processes on loopback driven by the client commands; one is killed
//! with SIGKILL and restarted from its data directory, keeping its id and its records.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::process::{NodeProcess, ok, p2p, start_node, status, wait_joined, wait_until};

const NODES: usize = 4;
const KEYS: usize = 20;

/// Retries `get` until it returns `want` (maintenance may need a few rounds after a
/// membership change).
fn get_eventually(api: &str, key: &str, want: &str) {
    let mut last = None;
    wait_until(
        &format!("get {key} via {api} did not return {want:?}: {last:?}"),
        Duration::from_secs(20),
        || {
            let out = p2p(&["get", key, "--api", api]);
            let done = out.status.success() && out.stdout == want.as_bytes();
            last = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            done
        },
    );
}

/// The live values stored across `apis`.
fn values_held(apis: &[String]) -> u64 {
    apis.iter()
        .map(|a| status(a)["stored_values"].as_u64().unwrap())
        .sum()
}

#[test]
fn nodes_in_separate_processes_survive_sigkill_and_restart_from_their_data_dir() {
    let root: PathBuf = std::env::temp_dir().join(format!("p2p-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dirs: Vec<PathBuf> = (0..NODES).map(|i| root.join(format!("node{i}"))).collect();
    let mut nodes: Vec<NodeProcess> = vec![start_node(Some(&dirs[0]), None, &[])];
    let first = nodes[0].addr.clone();
    wait_joined(&nodes[0].api);
    for dir in &dirs[1..] {
        nodes.push(start_node(Some(dir), Some(&first), &[]));
        wait_joined(&nodes.last().unwrap().api);
    }
    let mut apis: Vec<String> = nodes.iter().map(|n| n.api.clone()).collect();
    wait_until(
        "every node sees the others as neighbours",
        Duration::from_secs(20),
        || {
            apis.iter()
                .all(|a| status(a)["neighbours"].as_array().unwrap().len() >= NODES - 1)
        },
    );

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
    // Replica repair copies every key to its r = 3 replicas.
    wait_until(
        "every key reaches its 3 replicas",
        Duration::from_secs(30),
        || values_held(&apis) >= 3 * KEYS as u64,
    );
    let before = status(&apis[2]);
    assert!(before["stored_values"].as_u64().unwrap() > 0);

    // Either lookup mode, asked for by the client, names the same root.
    for (k, api) in apis.iter().enumerate() {
        let key = format!("key{k}");
        let root = |mode: &str| {
            let out = ok(p2p(&[
                "lookup", &key, "--mode", mode, "--json", "--api", api,
            ]));
            let report: serde_json::Value = serde_json::from_str(&out).unwrap();
            report["replicas"][0][0].clone()
        };
        let iterative = root("iterative");
        assert!(iterative.is_string(), "{iterative}");
        assert_eq!(root("recursive"), iterative, "{key}");
    }

    // SIGKILL: no leave, no flush; the others must still serve every key.
    let mut victim = nodes.remove(2);
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    drop(victim);
    for k in 0..KEYS {
        get_eventually(&apis[k % 2], &format!("key{k}"), &format!("value{k}"));
    }

    // Restarted from its data dir: same id, its records back before it rejoins.
    let restarted = start_node(Some(&dirs[2]), Some(&first), &[]);
    apis[2] = restarted.api.clone();
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
    let first = start_node(Some(&dirs[0]), None, &[]);
    wait_joined(&first.api);
    let mut nodes = vec![first];
    for d in &dirs[1..] {
        let n = start_node(Some(d), Some(&nodes[0].addr), &[]);
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
    wait_until(
        "the subscriber did not get 3 messages",
        Duration::from_secs(20),
        || sub.try_wait().expect("subscriber state").is_some(),
    );
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
