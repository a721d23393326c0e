//! Transfers between our peer (`p2p seed`, `p2p download`) and real BitTorrent clients
//! from the distribution, in both directions, with every byte checked: libtorrent (through
//! `python3-libtorrent`), aria2c, rtorrent and Transmission; and a mixed swarm on
//! `p2p tracker`.
//! Each client is bounded by a deadline and killed by its own process id.

#[path = "clients/commands.rs"]
mod commands;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use commands::aria2c;
use common::clients::{self, free_port};
use common::process::{exits_within, ok, output_within, p2p, torrent_json, wait_until};

const SIZE: usize = 5 * 1024 * 1024 + 12_345;
const LIMIT: Duration = Duration::from_secs(150);

/// A file of `SIZE` bytes in `dir/src` and its torrent (with `tracker` if given).
fn shared_file(dir: &Path, tracker: Option<&str>) -> (PathBuf, Vec<u8>) {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let data: Vec<u8> = (0..SIZE as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(src.join("shared.bin"), &data).unwrap();
    let torrent = dir.join("shared.torrent");
    let mut args = vec![
        "torrent".to_string(),
        "create".into(),
        src.join("shared.bin").display().to_string(),
        "--piece-size".into(),
        "256KiB".into(),
        "-o".into(),
        torrent.display().to_string(),
    ];
    if let Some(t) = tracker {
        args.extend(["--tracker".into(), t.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(p2p(&args));
    (torrent, data)
}

fn holds(path: &Path, data: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|got| got == data)
}

/// `p2p seed` in the background.
fn our_seeder(torrent: &Path, dir: &Path, port: u16, extra: &[&str]) -> clients::Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2p"));
    cmd.args(["seed", "--quiet", "--listen", &format!("127.0.0.1:{port}")])
        .arg(torrent)
        .arg("--dir")
        .arg(dir)
        .args(extra);
    clients::spawn(cmd)
}

/// `p2p download` to completion within the limit; it must exit 0 with the bytes right.
fn our_download(torrent: &Path, dir: &Path, data: &[u8], extra: &[&str]) {
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "download",
        "--quiet",
        torrent.to_str().unwrap(),
        "--dir",
        dir.to_str().unwrap(),
        "--listen",
        &listen,
    ];
    args.extend(extra);
    let out = exits_within(&args, LIMIT);
    assert!(
        out.status.success(),
        "p2p download failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        holds(&dir.join("shared.bin"), data),
        "downloaded bytes differ"
    );
}

fn libtorrent(mode: &str, torrent: &Path, dir: &Path, port: u16, peers: &[String]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/libtorrent_peer.py");
    // The distribution's module is for the distribution's interpreter.
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(script)
        .arg(mode)
        .arg(torrent)
        .arg(dir)
        .arg(port.to_string())
        .args(peers);
    cmd
}

fn libtorrent_installed() -> bool {
    let has = Path::new("/usr/bin/python3").exists()
        && Command::new("/usr/bin/python3")
            .args(["-c", "import libtorrent"])
            .output()
            .is_ok_and(|o| o.status.success());
    clients::available("python3-libtorrent", has)
}

#[test]
fn libtorrent_downloads_from_us_and_we_download_from_libtorrent() {
    if !libtorrent_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (torrent, data) = shared_file(dir.path(), None);
    let src = dir.path().join("src");

    let ours = free_port();
    let _seed = our_seeder(&torrent, &src, ours, &["--no-trackers"]);
    let into = dir.path().join("libtorrent");
    let cmd = libtorrent(
        "download",
        &torrent,
        &into,
        free_port(),
        &[format!("127.0.0.1:{ours}")],
    );
    let out = output_within(cmd, "libtorrent download", LIMIT);
    assert!(
        out.status.success(),
        "libtorrent did not complete: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(holds(&into.join("shared.bin"), &data));

    let theirs = free_port();
    let _lt = clients::spawn(libtorrent("seed", &torrent, &src, theirs, &[]));
    let peer = format!("127.0.0.1:{theirs}");
    our_download(
        &torrent,
        &dir.path().join("ours"),
        &data,
        &["--no-trackers", "--peer", &peer],
    );
}

/// The magnet link of `torrent`.
fn magnet_of(torrent: &Path) -> String {
    torrent_json(torrent)["magnet"]
        .as_str()
        .expect("a magnet link")
        .to_string()
}

#[test]
fn magnet_links_resolve_between_us_and_libtorrent() {
    if !libtorrent_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (torrent, data) = shared_file(dir.path(), None);
    let src = dir.path().join("src");
    let magnet = magnet_of(&torrent);

    // libtorrent has only the link; our seeder hands it the metadata, then the data.
    let ours = free_port();
    let _seed = our_seeder(&torrent, &src, ours, &["--no-trackers"]);
    let into = dir.path().join("libtorrent");
    let cmd = libtorrent(
        "download",
        Path::new(&magnet),
        &into,
        free_port(),
        &[format!("127.0.0.1:{ours}")],
    );
    let out = output_within(cmd, "libtorrent download from a magnet link", LIMIT);
    assert!(
        out.status.success(),
        "libtorrent did not complete: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(holds(&into.join("shared.bin"), &data));
    drop(_seed);

    // We have only the link, with libtorrent's address in it (x.pe).
    let theirs = free_port();
    let _lt = clients::spawn(libtorrent("seed", &torrent, &src, theirs, &[]));
    let with_peer = format!("{magnet}&x.pe=127.0.0.1:{theirs}");
    our_download(
        Path::new(&with_peer),
        &dir.path().join("ours"),
        &data,
        &["--no-trackers"],
    );
}

#[test]
fn aria2c_downloads_from_us_and_we_download_from_aria2c() {
    if !clients::installed("aria2c") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // aria2c finds peers only through trackers, so ours serves this swarm.
    let (_tracker, url) = clients::our_tracker(2);
    let (torrent, data) = shared_file(dir.path(), Some(&url));
    let src = dir.path().join("src");

    let _seed = our_seeder(&torrent, &src, free_port(), &[]);
    let into = dir.path().join("aria2c");
    let cmd = aria2c(&torrent, &into, free_port(), &["--seed-time=0"]);
    let out = output_within(cmd, "aria2c download", LIMIT);
    assert!(
        out.status.success(),
        "aria2c failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(holds(&into.join("shared.bin"), &data));
    drop(_seed);

    let theirs = free_port();
    let seeding = aria2c(
        &torrent,
        &src,
        theirs,
        &["--check-integrity=true", "--seed-ratio=0.0"],
    );
    let _aria = clients::spawn(seeding);
    let peer = format!("127.0.0.1:{theirs}");
    our_download(
        &torrent,
        &dir.path().join("ours"),
        &data,
        &["--peer", &peer],
    );
}

/// rtorrent saving to or seeding from `dir`, its session in `session`.
fn rtorrent(torrent: &Path, dir: &Path, session: &Path, port: u16) -> Command {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::create_dir_all(session).unwrap();
    commands::rtorrent(torrent, dir, session, port, None)
}

#[test]
fn rtorrent_downloads_from_us_and_we_download_from_rtorrent() {
    if !clients::installed("rtorrent") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // rtorrent takes peers from trackers only (DHT and exchange are off), so ours serves.
    let (_tracker, url) = clients::our_tracker(2);
    let (torrent, data) = shared_file(dir.path(), Some(&url));
    let src = dir.path().join("src");

    let _seed = our_seeder(&torrent, &src, free_port(), &[]);
    let into = dir.path().join("rtorrent");
    let leecher = clients::spawn(rtorrent(
        &torrent,
        &into,
        &dir.path().join("rtorrent-session"),
        free_port(),
    ));
    wait_until("rtorrent has every byte", LIMIT, || {
        holds(&into.join("shared.bin"), &data)
    });
    drop((leecher, _seed));

    let theirs = free_port();
    let _seeder = clients::spawn(rtorrent(
        &torrent,
        &src,
        &dir.path().join("rtorrent-seed-session"),
        theirs,
    ));
    let peer = format!("127.0.0.1:{theirs}");
    our_download(
        &torrent,
        &dir.path().join("ours"),
        &data,
        &["--no-trackers", "--peer", &peer],
    );
}

#[test]
fn transmission_downloads_from_us_and_we_download_from_transmission() {
    if !clients::installed("transmission-cli") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Transmission never dials peers on 127.0.0.0/8, so our seeder must learn of it from
    // the tracker and dial it.
    let (_tracker, url) = clients::our_tracker(2);
    let (torrent, data) = shared_file(dir.path(), Some(&url));
    let src = dir.path().join("src");

    let _seed = our_seeder(&torrent, &src, free_port(), &[]);
    let into = dir.path().join("transmission");
    std::fs::create_dir_all(&into).unwrap();
    let config = dir.path().join("transmission-config");
    let port = free_port().to_string();
    let _leecher = clients::start(
        "transmission-cli",
        &[
            "-g",
            config.to_str().unwrap(),
            "-w",
            into.to_str().unwrap(),
            "-p",
            &port,
            torrent.to_str().unwrap(),
        ],
        dir.path(),
    );
    wait_until("Transmission has every byte", LIMIT, || {
        holds(&into.join("shared.bin"), &data)
    });
    drop(_seed);

    let theirs = free_port();
    let config = dir.path().join("transmission-seed-config");
    let _seeder = clients::start(
        "transmission-cli",
        &[
            "-g",
            config.to_str().unwrap(),
            "-w",
            src.to_str().unwrap(),
            "-p",
            &theirs.to_string(),
            torrent.to_str().unwrap(),
        ],
        dir.path(),
    );
    let peer = format!("127.0.0.1:{theirs}");
    our_download(
        &torrent,
        &dir.path().join("ours"),
        &data,
        &["--no-trackers", "--peer", &peer],
    );
}

#[test]
fn our_tracker_serves_a_swarm_of_our_peers_libtorrent_and_aria2c() {
    if !libtorrent_installed() || !clients::installed("aria2c") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_tracker, url) = clients::our_tracker(2);
    let (torrent, data) = shared_file(dir.path(), Some(&url));
    let _seed = our_seeder(&torrent, &dir.path().join("src"), free_port(), &[]);

    let lt_dir = dir.path().join("libtorrent");
    let lt = clients::spawn(libtorrent("download", &torrent, &lt_dir, free_port(), &[]));
    let aria_dir = dir.path().join("aria2c");
    let aria = clients::spawn(aria2c(&torrent, &aria_dir, free_port(), &["--seed-time=0"]));
    our_download(&torrent, &dir.path().join("ours"), &data, &[]);
    wait_until("libtorrent and aria2c have every byte", LIMIT, || {
        holds(&lt_dir.join("shared.bin"), &data) && holds(&aria_dir.join("shared.bin"), &data)
    });
    drop((lt, aria));
}

/// A magnet link with only a tracker (`tr=`): our downloader asks the tracker for peers,
/// gets the metadata from our seeder, then the data.
#[test]
fn a_magnet_link_finds_its_peers_through_the_tracker() {
    let dir = tempfile::tempdir().unwrap();
    let (_tracker, url) = clients::our_tracker(2);
    let (torrent, data) = shared_file(dir.path(), Some(&url));
    let magnet = magnet_of(&torrent);
    assert!(magnet.contains("&tr="), "{magnet}");
    let _seed = our_seeder(&torrent, &dir.path().join("src"), free_port(), &[]);
    our_download(Path::new(&magnet), &dir.path().join("ours"), &data, &[]);
}
