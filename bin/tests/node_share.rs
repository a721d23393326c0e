//! BitTorrent without a tracker, through the overlay: `p2p share` on one node's machine
//! and `p2p fetch` (by name, by info-hash, by magnet link) through other nodes, each a
//! separate process on loopback, with every byte checked; and `p2p announce`/`p2p members`,
//! the set-valued records beneath.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::clients::{self, free_port};
use common::process::{exits_within, ok, p2p, start_node, wait_joined, wait_until};

const LIMIT: Duration = Duration::from_secs(120);

fn members(api: &str, key: &str) -> Vec<String> {
    let out = p2p(&["members", key, "--api", api]);
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn fetch(api: &str, what: &str, into: &Path) -> String {
    let listen = format!("127.0.0.1:{}", free_port());
    let out = exits_within(
        &[
            "fetch",
            what,
            "--quiet",
            "--api",
            api,
            "--dir",
            into.to_str().unwrap(),
            "--listen",
            &listen,
        ],
        LIMIT,
    );
    assert!(
        out.status.success(),
        "p2p fetch {what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_file_shared_through_one_node_is_fetched_through_others_by_name_hash_and_magnet() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_node(None, None, &[]);
    wait_joined(&first.api);
    let mut nodes = vec![first];
    for _ in 0..3 {
        let n = start_node(None, Some(&nodes[0].addr), &[]);
        wait_joined(&n.api);
        nodes.push(n);
    }

    // The set-valued records beneath: members from two nodes, read from a third.
    ok(p2p(&[
        "announce",
        "printers",
        "10.0.0.7:631",
        "--api",
        &nodes[0].api,
    ]));
    ok(p2p(&[
        "announce",
        "printers",
        "10.0.0.8:631",
        "--ttl",
        "60",
        "--api",
        &nodes[1].api,
    ]));
    wait_until("both members listed", LIMIT, || {
        let mut m = members(&nodes[2].api, "printers");
        m.sort();
        m == ["10.0.0.7:631", "10.0.0.8:631"]
    });
    let refused = p2p(&[
        "announce",
        "printers",
        &"x".repeat(2000),
        "--api",
        &nodes[0].api,
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("at most 1024"));

    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let file = src.join("holiday.bin");
    std::fs::write(&file, &data).unwrap();
    let mut share = Command::new(env!("CARGO_BIN_EXE_p2p"));
    share
        .args([
            "share",
            "--quiet",
            "--name",
            "holiday",
            "--piece-size",
            "256KiB",
        ])
        .args(["--api", &nodes[0].api])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .arg(&file);
    let _sharer = clients::spawn(share);
    // Shared once the name resolves and the sharer is among the peers.
    let hash = std::cell::RefCell::new(String::new());
    wait_until("the share appears in the overlay", LIMIT, || {
        let got = p2p(&["get", "torrent-name:holiday", "--api", &nodes[3].api]);
        if !got.status.success() {
            return false;
        }
        let h = String::from_utf8_lossy(&got.stdout).trim().to_string();
        let listed = !members(&nodes[3].api, &format!("peers:{h}")).is_empty();
        *hash.borrow_mut() = h;
        listed
    });
    let hash = hash.into_inner();
    assert_eq!(hash.len(), 40, "{hash}");

    let by_name = dir.path().join("by-name");
    let path = fetch(&nodes[3].api, "holiday", &by_name);
    assert_eq!(path, by_name.join("holiday.bin").display().to_string());
    assert!(std::fs::read(by_name.join("holiday.bin")).unwrap() == data);

    let by_hash = dir.path().join("by-hash");
    fetch(&nodes[2].api, &hash, &by_hash);
    assert!(std::fs::read(by_hash.join("holiday.bin")).unwrap() == data);

    let by_magnet = dir.path().join("by-magnet");
    fetch(
        &nodes[1].api,
        &format!("magnet:?xt=urn:btih:{hash}"),
        &by_magnet,
    );
    assert!(std::fs::read(by_magnet.join("holiday.bin")).unwrap() == data);

    // Each fetcher announced itself as well.
    assert!(members(&nodes[0].api, &format!("peers:{hash}")).len() >= 2);

    let missing = exits_within(&["fetch", "no-such-share", "--api", &nodes[1].api], LIMIT);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("nothing is shared as \"no-such-share\""),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
