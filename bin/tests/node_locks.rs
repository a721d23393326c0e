//! `p2p lock`, `p2p leader` and `p2p clock` against eight `p2p node` processes: concurrent
//! lock commands from every node append begin/end marks to one shared file and never
//! overlap, with each mutual-exclusion algorithm; a lock whose holder's node is killed,
//! or whose `p2p lock` client is killed, passes on; a killed leader is replaced.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::{NodeProcess, exits_within, ok, p2p, start_node, wait_joined, wait_until};

const NODES: usize = 8;
/// Lock commands each node runs one after another.
const ROUNDS: usize = 3;

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("p2p-locks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// `p2p leader --json` of the node at `api`, if it has a leader.
fn report(api: &str) -> Option<serde_json::Value> {
    let out = p2p(&["leader", "--json", "--api", api]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("a JSON report"))
}

/// The leader and view size every node at `apis` reports, once they all agree.
fn agreed_leader(apis: &[String], members: usize) -> String {
    let mut leader = String::new();
    wait_until(
        "the nodes did not agree on a leader",
        Duration::from_secs(60),
        || {
            let leaders: Vec<Option<String>> = apis
                .iter()
                .map(|a| {
                    let r = report(a)?;
                    let g = &r["groups"][0];
                    (g["members"].as_array()?.len() == members)
                        .then(|| g["leader"].as_str().map(str::to_string))?
                })
                .collect();
            match &leaders[0] {
                Some(l) if leaders.iter().all(|x| x.as_ref() == Some(l)) => {
                    leader = l.clone();
                    true
                }
                _ => false,
            }
        },
    );
    leader
}

/// Eight nodes running `algorithm`, all in the group `default` with one leader.
fn cluster(algorithm: &str) -> Vec<NodeProcess> {
    let extra = ["--lock-algorithm", algorithm];
    let first = start_node(None, None, &extra);
    wait_joined(&first.api);
    let mut nodes = vec![first];
    for _ in 1..NODES {
        let n = start_node(None, Some(&nodes[0].addr), &extra);
        wait_joined(&n.api);
        nodes.push(n);
    }
    let apis: Vec<String> = nodes.iter().map(|n| n.api.clone()).collect();
    agreed_leader(&apis, NODES);
    nodes
}

/// `p2p lock` at `api` running a shell `script` (with `$0` = `tag`), as a child process.
fn lock_child(api: &str, lock: &str, script: &str, tag: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(["lock", lock, "--api", api, "--", "sh", "-c", script, tag])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p2p lock starts")
}

/// Every node runs `ROUNDS` lock commands at once with the others; each appends
/// `begin N` and `end N` to `file` around a short pause. The marks must pair up.
fn concurrent_appends(nodes: &[NodeProcess], file: &Path) {
    let script = format!(
        "echo \"begin $0\" >> {f}; sleep 0.05; echo \"end $0\" >> {f}",
        f = file.display()
    );
    std::thread::scope(|s| {
        for (i, n) in nodes.iter().enumerate() {
            let script = &script;
            s.spawn(move || {
                for r in 0..ROUNDS {
                    let child = lock_child(&n.api, "shared", script, &format!("{i}.{r}"));
                    let out = child.wait_with_output().expect("p2p lock ends");
                    assert!(
                        out.status.success(),
                        "p2p lock at node {i} failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
        }
    });
    let text = std::fs::read_to_string(file).expect("the shared file");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2 * NODES * ROUNDS,
        "every command ran once:\n{text}"
    );
    for pair in lines.chunks(2) {
        let begin = pair[0].strip_prefix("begin ");
        let end = pair[1].strip_prefix("end ");
        assert!(
            begin.is_some() && begin == end,
            "two holders at once: {pair:?} in\n{text}"
        );
    }
}

#[test]
fn lock_commands_never_overlap_and_dead_holders_and_leaders_are_replaced() {
    let dir = scratch("central");
    let mut nodes = cluster("central");
    concurrent_appends(&nodes, &dir.join("shared.log"));

    // The holder's node dies while the command runs: the lock passes on, and the orphaned
    // `p2p lock` kills its command and fails.
    let marker = dir.join("held-by-dying-node");
    let script = format!("touch {}; sleep 60", marker.display());
    let mut orphan = lock_child(&nodes[5].api, "shared", &script, "x");
    wait_until("the lock was not taken", Duration::from_secs(30), || {
        marker.exists()
    });
    drop(nodes.remove(5));
    ok(exits_within(
        &["lock", "shared", "--api", &nodes[1].api, "--", "true"],
        Duration::from_secs(60),
    ));
    wait_until(
        "p2p lock went on after its node died",
        Duration::from_secs(30),
        || orphan.try_wait().expect("child state").is_some(),
    );
    assert!(!orphan.wait().expect("status").success());

    // The `p2p lock` client dies while holding: its node gives the lock back.
    let marker = dir.join("held-by-dying-client");
    let script = format!("touch {}; sleep 60", marker.display());
    let mut client = lock_child(&nodes[2].api, "shared", &script, "y");
    wait_until("the lock was not taken", Duration::from_secs(30), || {
        marker.exists()
    });
    client.kill().expect("kill p2p lock");
    let _ = client.wait();
    ok(exits_within(
        &["lock", "shared", "--api", &nodes[3].api, "--", "true"],
        Duration::from_secs(60),
    ));

    // The leader dies: the others elect a new one and agree on it.
    let apis: Vec<String> = nodes.iter().map(|n| n.api.clone()).collect();
    let leader = agreed_leader(&apis, nodes.len());
    let at = apis
        .iter()
        .position(|a| report(a).is_some_and(|r| r["me"] == leader.as_str()))
        .expect("the leader is one of the nodes");
    drop(nodes.remove(at));
    let apis: Vec<String> = nodes.iter().map(|n| n.api.clone()).collect();
    let next = agreed_leader(&apis, nodes.len());
    assert_ne!(next, leader, "a dead leader is still the leader");

    // Every node keeps a clock estimate from the new leader's Berkeley rounds.
    wait_until("no clock offset estimate", Duration::from_secs(30), || {
        let out = ok(p2p(&["clock", "--api", &apis[0]]));
        out.contains("ms ±") && out.contains(&next[..8])
    });
    drop(nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_lock_algorithm_keeps_concurrent_commands_apart() {
    for algorithm in ["token-ring", "lamport", "ricart-agrawala", "maekawa"] {
        let dir = scratch(algorithm);
        let nodes = cluster(algorithm);
        concurrent_appends(&nodes, &dir.join("shared.log"));
        drop(nodes);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
