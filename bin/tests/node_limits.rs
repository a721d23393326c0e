//! `p2p node` against what strangers, browsers, slow clients and mistakes send it: a busy
//! port, foreign origins and hosts, a missing token, malformed requests, stalled clients,
//! unreachable bootstrap nodes and damaged files. Each is refused with a clear error, and
//! the node keeps serving.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::process::{
    exits_within, ok, p2p, start_node, start_node_via, status, wait_joined, wait_until,
};

/// One raw HTTP/1.1 request (`head` without the final blank line) and its status and body.
fn http(api: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(api).expect("the API accepts");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("an answer");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The `error` of a JSON error body; fails if the body is not one.
fn json_error(body: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    v["error"].as_str().expect("an error message").to_string()
}

/// `p2p node` on loopback without mDNS, ports picked by the system, then `more`.
fn node_args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["node", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];
    args.extend(["--api", "127.0.0.1:0"]);
    args.extend(more);
    args
}

/// Waits until `p2p status` of the node at `api` reports a join problem containing every
/// one of `needles`.
fn wait_for_join_problem(api: &str, needles: &[&str]) {
    wait_until(
        &format!("status names the join problem ({needles:?})"),
        Duration::from_secs(20),
        || {
            status(api)["join_problem"]
                .as_str()
                .is_some_and(|p| needles.iter().all(|n| p.contains(n)))
        },
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("p2p-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn a_second_node_on_a_busy_port_refuses_to_start() {
    let first = start_node(None, None, &[]);
    let port = first.addr.split('/').nth(4).expect("a TCP port");
    let out = exits_within(
        &[
            "node",
            "--no-mdns",
            "--api",
            "127.0.0.1:0",
            "--listen",
            &format!("/ip4/127.0.0.1/tcp/{port}"),
        ],
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    wait_joined(&first.api);
}

#[test]
fn the_api_refuses_web_pages_foreign_hosts_and_answers_errors_in_json() {
    let mut node = start_node(None, None, &[]);
    wait_joined(&node.api);
    let api = node.api.clone();
    let host = format!("host: {api}");

    // A page elsewhere making the browser post to the node; a rebinding page's Host.
    let (code, body) = http(
        &api,
        &format!("POST /leave HTTP/1.1\r\n{host}\r\norigin: http://evil.example"),
        b"",
    );
    assert_eq!(code, 403, "{body}");
    assert!(json_error(&body).contains("origin"));
    let (code, body) = http(&api, "GET /status HTTP/1.1\r\nhost: evil.example:80", b"");
    assert_eq!(code, 403, "{body}");
    let (code, _) = http(
        &api,
        &format!("PUT /keys/x HTTP/1.1\r\n{host}\r\nsec-fetch-site: cross-site"),
        b"v",
    );
    assert_eq!(code, 403);
    assert!(
        node.child.try_wait().unwrap().is_none(),
        "the node still runs"
    );

    // Errors the framework makes are the documented JSON too.
    let (code, body) = http(&api, &format!("GET /nowhere HTTP/1.1\r\n{host}"), b"");
    assert_eq!(code, 404);
    json_error(&body);
    let (code, body) = http(&api, &format!("DELETE /status HTTP/1.1\r\n{host}"), b"");
    assert_eq!(code, 405);
    json_error(&body);
    let (code, body) = http(&api, &format!("GET /keys/%FF HTTP/1.1\r\n{host}"), b"");
    assert_eq!(code, 400);
    json_error(&body);
    let big = vec![b'x'; (1 << 20) + 1];
    let (code, body) = http(&api, &format!("PUT /keys/big HTTP/1.1\r\n{host}"), &big);
    assert_eq!(code, 413);
    json_error(&body);

    // The same node still serves a well-behaved client.
    let (code, _) = http(&api, &format!("PUT /keys/k HTTP/1.1\r\n{host}"), b"v");
    assert_eq!(code, 204);
    assert_eq!(ok(p2p(&["get", "k", "--api", &api])), "v");
}

#[test]
fn a_node_with_a_token_serves_only_clients_that_send_it() {
    let dir = temp_dir("token");
    let node = start_node(Some(&dir), None, &["--api-token"]);
    let token = dir.join("api-token");
    let out = p2p(&["status", "--api", &node.api]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token"), "{err}");
    let tf = token.to_str().unwrap();
    wait_until("joined", Duration::from_secs(20), || {
        ok(p2p(&[
            "status",
            "--json",
            "--api",
            &node.api,
            "--token-file",
            tf,
        ]))
        .contains("Joined")
    });
    ok(p2p(&[
        "put",
        "k",
        "v",
        "--api",
        &node.api,
        "--token-file",
        tf,
    ]));

    // Beyond loopback the token is required; without a data dir to keep it, no start.
    let out = exits_within(
        &[
            "node",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "0.0.0.0:0",
        ],
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data-dir"));
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// Whether the server closed `s` (a read returns end of stream or a reset).
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return true,
            // An error answer before the close (a timeout, or 503 over the cap).
            Ok(_) => continue,
        }
    }
}

#[test]
fn stalled_clients_are_capped_timed_out_and_bounded_in_memory() {
    let node = start_node(None, None, &[]);
    wait_joined(&node.api);
    let pid = node.child.id();
    let before = rss(pid);
    // 200 clients each start a put of almost 1 MiB and stall before its last byte.
    let value = vec![b'x'; (1 << 20) - 1];
    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&node.api).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            let head = format!(
                "PUT /keys/slow HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n\r\n",
                node.api,
                value.len() + 1
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&value);
            s
        })
        .collect();
    let during = rss(pid);
    // The documented bound: 32 connections, each with at most twice the 1 MiB body limit
    // (gathered, then copied whole), plus 32 MiB for the allocator's slack.
    let bound = 32 * (2 << 20) + (32 << 20);
    assert!(
        during.saturating_sub(before) < bound,
        "memory grew by {} MiB under 200 stalled clients",
        (during - before) >> 20
    );
    // Every one is closed by the server: at once over the cap, the rest when their body
    // has stalled for the body timeout.
    for s in &mut stalled {
        assert!(closed_by_server(s));
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    // Stalled in the headers, too.
    let mut s = TcpStream::connect(&node.api).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"GET /status HTTP/1.1\r\nhost: ").unwrap();
    assert!(closed_by_server(&mut s));
    status(&node.api);
}

#[test]
fn an_unreachable_bootstrap_is_reported_and_ends_the_node_after_the_join_timeout() {
    let other = start_node(None, None, &[]);
    wait_joined(&other.api);
    let peer = other.addr.rsplit('/').next().unwrap().to_string();
    drop(other);
    // The port is closed now: every dial is refused.
    let gone = format!("/ip4/127.0.0.1/tcp/1/p2p/{peer}");
    let waiting = start_node(None, Some(&gone), &["--join-timeout", "0"]);
    wait_for_join_problem(&waiting.api, &["/tcp/1/", "refused"]);
    let out = exits_within(
        &node_args(&["--bootstrap", &gone, "--join-timeout", "2"]),
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not join") && err.contains("/tcp/1/") && err.contains("refused"),
        "{err}"
    );

    // A live node under another peer id than the address names.
    let real = start_node(None, None, &[]);
    wait_joined(&real.api);
    let port = real.addr.split('/').nth(4).unwrap();
    let wrong = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{peer}");
    let confused = start_node(None, Some(&wrong), &["--join-timeout", "0"]);
    wait_for_join_problem(&confused.api, &["not the peer"]);
}

#[test]
fn damaged_files_and_a_bootstrap_through_itself_are_named() {
    let dir = temp_dir("files");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("identity.key"), b"").unwrap();
    let out = exits_within(
        &node_args(&["--data-dir", dir.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("identity.key") && err.contains("empty"),
        "{err}"
    );
    std::fs::remove_file(dir.join("identity.key")).unwrap();

    // The node's own address as its bootstrap: it says so and starts a new overlay.
    let node = start_node(Some(&dir), None, &[]);
    let own = node.addr.clone();
    drop(node);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(["node", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .args(["--api", "127.0.0.1:0", "--bootstrap", &own, "--data-dir"])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("p2p node starts");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut said = String::new();
    while !said.contains("names this node itself") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => said.push_str(&line),
            Err(_) => panic!("no warning about the bootstrap address: {said}"),
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "the node runs on");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether this process may mount a file system in a mount namespace of its own (root,
/// as in CI).
fn can_mount() -> bool {
    std::process::Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "mount",
            "-t",
            "tmpfs",
            "none",
            "/mnt",
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_full_disk_refuses_writes_keeps_reads_and_takes_writes_again_once_space_is_free() {
    if !can_mount() {
        eprintln!("SKIPPED: filling a disk needs a private tmpfs mount (run as root, as CI does)");
        return;
    }
    let dir = temp_dir("disk");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    // An 8 MiB disk, half taken by a file the test removes later to free space.
    let script =
        r#"mount -t tmpfs -o size=8m none "$0" && head -c 4M /dev/zero > "$0/filler" && exec "$@""#;
    let node = start_node_via(
        &[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            d,
        ],
        Some(&dir.join("node")),
        None,
        &[],
    );
    wait_joined(&node.api);
    let host = format!("host: {}", node.api);
    let value = |i: usize| vec![b'a' + i as u8; 500_000];
    let mut stored = Vec::new();
    let refusal = loop {
        let i = stored.len();
        assert!(i < 16, "8 MiB took 16 values of 500 kB without a refusal");
        let (code, body) = http(
            &node.api,
            &format!("PUT /keys/k{i} HTTP/1.1\r\n{host}"),
            &value(i),
        );
        match code {
            204 => stored.push(i),
            507 => break json_error(&body),
            other => panic!("put answered {other}: {body}"),
        }
    };
    assert!(!stored.is_empty(), "nothing fitted at all");
    assert!(
        refusal.contains("disk") && refusal.contains("No space"),
        "{refusal}"
    );
    // Reads and status go on; status says why writes are refused.
    for &i in &stored {
        let (code, body) = http(
            &node.api,
            &format!("GET /keys/k{i} HTTP/1.1\r\n{host}"),
            b"",
        );
        assert_eq!(code, 200);
        assert_eq!(body.as_bytes(), &value(i)[..]);
    }
    assert!(status(&node.api)["storage_problem"].is_string());
    // Free space: writes are taken again, without a restart.
    let pid = node.child.id().to_string();
    let freed = std::process::Command::new("nsenter")
        .args(["--target", &pid, "--mount", "rm", &format!("{d}/filler")])
        .status()
        .unwrap();
    assert!(freed.success());
    wait_until(
        "writes resume once space is free",
        Duration::from_secs(20),
        || {
            http(
                &node.api,
                &format!("PUT /keys/after HTTP/1.1\r\n{host}"),
                b"v",
            )
            .0 == 204
        },
    );
    assert!(status(&node.api)["storage_problem"].is_null());
    for &i in &stored {
        let (code, _) = http(
            &node.api,
            &format!("GET /keys/k{i} HTTP/1.1\r\n{host}"),
            b"",
        );
        assert_eq!(code, 200);
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn random_requests_get_an_answer_errors_are_json_and_the_node_keeps_serving() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let node = start_node(None, None, &[]);
    wait_joined(&node.api);
    let api = node.api.clone();
    let method = prop_oneof![
        Just("GET"),
        Just("PUT"),
        Just("POST"),
        Just("DELETE"),
        Just("PATCH"),
        Just("OPTIONS"),
        Just("HEAD"),
        Just("BREW"),
    ];
    let first = prop_oneof![
        Just("keys"),
        Just("lookup"),
        Just("status"),
        Just("leave"),
        Just("groups"),
        Just("x"),
    ];
    // Path segments of arbitrary bytes, percent-encoded as a client must send them.
    let segment = prop::collection::vec(any::<u8>(), 0..40)
        .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect::<String>());
    let path = (first, prop::collection::vec(segment, 0..4))
        .prop_map(|(f, rest)| format!("/{f}/{}", rest.join("/")));
    let body = prop::collection::vec(any::<u8>(), 0..2048);
    let cases = std::env::var("P2P_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[23; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let host = format!("host: {api}");
    let result = runner.run(&(method, path, body), |(method, path, body)| {
        // `leave` would end the node: every other route is fair game.
        if path.starts_with("/leave") && method == "POST" {
            return Ok(());
        }
        let (code, answer) = http(&api, &format!("{method} {path} HTTP/1.1\r\n{host}"), &body);
        prop_assert!((200..600).contains(&code));
        if code >= 400 && method != "HEAD" {
            let v: Result<serde_json::Value, _> = serde_json::from_str(&answer);
            prop_assert!(
                v.as_ref().is_ok_and(|v| v["error"].is_string()),
                "{} {} answered {} with {:?}",
                method,
                path,
                code,
                answer
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    status(&api);
}
