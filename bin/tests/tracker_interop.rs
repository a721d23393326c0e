//! `p2p tracker` with a real client: Transmission seeding a torrent announces to our
//! tracker, the scrape counts it as a seeder, and a leecher's announce is answered with
//! Transmission's address in a compact peer list. Bad announces get a bencoded failure.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::clients;
use common::process::{ok, p2p, torrent_json, wait_until};

/// GET `path_and_query` from `host:port`, the body as bytes.
fn get(authority: &str, path_and_query: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(authority).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path_and_query} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read");
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    all[split + 4..].to_vec()
}

fn escaped(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

/// An integer after `key` in a bencoded answer.
fn int_after(body: &[u8], key: &str) -> Option<u64> {
    let k = format!("{}:{key}i", key.len());
    let text = String::from_utf8_lossy(body);
    let at = text.find(&k)? + k.len();
    text[at..].split('e').next()?.parse().ok()
}

#[test]
fn transmission_announces_to_our_tracker_and_leechers_hear_of_it() {
    if !clients::installed("transmission-cli") {
        return;
    }
    let (_tracker, url) = clients::our_tracker(5);
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches("/announce")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("shared.bin"), &data).unwrap();
    let torrent = dir.path().join("shared.torrent");
    ok(p2p(&[
        "torrent",
        "create",
        dir.path().join("shared.bin").to_str().unwrap(),
        "--tracker",
        &url,
        "-o",
        torrent.to_str().unwrap(),
    ]));
    let info = torrent_json(&torrent);
    let hash: Vec<u8> = (0..20)
        .map(|i| {
            u8::from_str_radix(&info["info_hash"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap()
        })
        .collect();
    // Transmission has the data, verifies it and seeds, announcing to our tracker.
    let port = clients::free_port();
    let config = dir.path().join("transmission");
    let _seeder = clients::start(
        "transmission-cli",
        &[
            "-g",
            config.to_str().unwrap(),
            "-w",
            dir.path().to_str().unwrap(),
            "-p",
            &port.to_string(),
            torrent.to_str().unwrap(),
        ],
        dir.path(),
    );
    let scrape = format!("/scrape?info_hash={}", escaped(&hash));
    wait_until(
        "Transmission announces as a seeder",
        Duration::from_secs(90),
        || int_after(&get(&authority, &scrape), "complete") == Some(1),
    );
    // A leecher announces: Transmission's address comes back compactly.
    let announce = format!(
        "/announce?info_hash={}&peer_id={}&port=6881&uploaded=0&downloaded=0&left=200000&compact=1&event=started",
        escaped(&hash),
        escaped(b"-P20001-abcdefghijkl")
    );
    let body = get(&authority, &announce);
    let mut want = b"5:peers6:".to_vec();
    want.extend([127, 0, 0, 1]);
    want.extend(port.to_be_bytes());
    assert!(
        body.windows(want.len()).any(|w| w == want.as_slice()),
        "no 127.0.0.1:{port} in {:?}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(int_after(&body, "incomplete"), Some(1));
    // Malformed announces are refused in bencode, and the tracker keeps serving.
    for bad in [
        "/announce",
        "/announce?info_hash=abc&peer_id=x&port=1",
        "/announce?%zz",
    ] {
        let body = get(&authority, bad);
        assert!(body.starts_with(b"d14:failure reason"), "{bad}: {body:?}");
    }
    assert_eq!(int_after(&get(&authority, &scrape), "complete"), Some(1));
}
