//! `p2p torrent` against real BitTorrent tools: Transmission reads our .torrent files with
//! the same info-hash, files and pieces, and we read Transmission's and mktorrent's with
//! theirs; made from the same folder with the same piece size, mktorrent's and ours are
//! the same torrent (Transmission's differs only in leaving empty files out).
//!
//! The tools come from the distribution (`transmission-cli`, `mktorrent`; see
//! `common::clients` for what happens where they are missing).

mod common;

use std::path::Path;

use common::clients;
use common::process::{ok, p2p};

/// Runs `name` if it is installed.
fn tool(name: &str, args: &[&str], dir: &Path) -> Option<String> {
    clients::installed(name).then(|| clients::run(name, args, dir))
}

/// A folder of three files (one empty, one in a subfolder) and a single file.
fn sample(dir: &Path) {
    let top = dir.join("album");
    std::fs::create_dir_all(top.join("disc 2")).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(top.join("a.bin"), &data).unwrap();
    std::fs::write(top.join("disc 2/b.txt"), b"hello\n").unwrap();
    std::fs::write(top.join("empty"), b"").unwrap();
    std::fs::write(dir.join("single.bin"), &data[..100_000]).unwrap();
}

/// The value of `key:` in transmission-show's output.
fn field(shown: &str, key: &str) -> String {
    shown
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in:\n{shown}"))
        .trim()
        .to_string()
}

fn ours(dir: &Path, file: &str) -> serde_json::Value {
    let path = dir.join(file);
    let out = ok(p2p(&["torrent", "show", "--json", path.to_str().unwrap()]));
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn transmission_reads_our_torrents_as_we_made_them() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    for (what, out) in [("album", "album.torrent"), ("single.bin", "single.torrent")] {
        let src = dir.path().join(what);
        let dst = dir.path().join(out);
        ok(p2p(&[
            "torrent",
            "create",
            src.to_str().unwrap(),
            "--tracker",
            "http://127.0.0.1:1/announce",
            "--piece-size",
            "32KiB",
            "-o",
            dst.to_str().unwrap(),
        ]));
        let Some(shown) = tool("transmission-show", &[out], dir.path()) else {
            return;
        };
        let mine = ours(dir.path(), out);
        assert_eq!(field(&shown, "Hash:"), mine["info_hash"].as_str().unwrap());
        assert_eq!(field(&shown, "Name:"), what);
        assert_eq!(
            field(&shown, "Piece Count:"),
            mine["pieces"].to_string(),
            "{shown}"
        );
        assert_eq!(field(&shown, "Piece Size:"), "32.00 KiB");
        assert!(shown.contains("http://127.0.0.1:1/announce"), "{shown}");
        if what == "album" {
            for f in ["album/a.bin", "album/disc 2/b.txt", "album/empty"] {
                assert!(shown.contains(f), "{f} missing:\n{shown}");
            }
        }
    }
}

#[test]
fn we_read_transmission_and_mktorrent_torrents_and_make_the_same_ones() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let made = [
        (
            "transmission-create",
            vec![
                "-o",
                "t.torrent",
                "-s",
                "32",
                "-t",
                "http://t/announce",
                "album",
            ],
            "t.torrent",
        ),
        (
            "mktorrent",
            vec![
                "-l",
                "15",
                "-a",
                "http://t/announce",
                "-o",
                "m.torrent",
                "album",
            ],
            "m.torrent",
        ),
    ];
    let src = dir.path().join("album");
    let mine = dir.path().join("ours.torrent");
    ok(p2p(&[
        "torrent",
        "create",
        src.to_str().unwrap(),
        "--piece-size",
        "32KiB",
        "-o",
        mine.to_str().unwrap(),
    ]));
    let ours_made = ours(dir.path(), "ours.torrent");
    for (name, args, file) in made {
        if tool(name, &args, dir.path()).is_none() {
            return;
        }
        let Some(shown) = tool("transmission-show", &[file], dir.path()) else {
            return;
        };
        let theirs = ours(dir.path(), file);
        assert_eq!(
            theirs["info_hash"].as_str().unwrap(),
            field(&shown, "Hash:"),
            "{name}"
        );
        assert_eq!(theirs["name"], "album");
        assert_eq!(theirs["total_length"], 300_006);
        assert_eq!(theirs["trackers"][0][0], "http://t/announce", "{name}");
        assert_eq!(theirs["pieces"], ours_made["pieces"], "{name}");
        if name == "mktorrent" {
            // Same files, same order, same pieces: the same info dictionary.
            assert_eq!(theirs["files"], ours_made["files"], "{name}");
            assert_eq!(theirs["info_hash"], ours_made["info_hash"], "{name}");
        } else {
            // Transmission leaves empty files out and writes `private: 0`, so its
            // dictionary differs from ours; the files with bytes are the same.
            let with_bytes: Vec<&serde_json::Value> = ours_made["files"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["length"] != 0)
                .collect();
            let theirs_files: Vec<&serde_json::Value> =
                theirs["files"].as_array().unwrap().iter().collect();
            assert_eq!(theirs_files, with_bytes, "{name}");
        }
    }
}

#[test]
fn bad_torrent_files_and_paths_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.torrent");
    std::fs::write(&junk, b"d4:infod4:name2:..ee").unwrap();
    let out = p2p(&["torrent", "show", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.torrent") && err.contains("metainfo"),
        "{err}"
    );
    let missing = dir.path().join("nothing-here");
    let out = p2p(&["torrent", "create", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here"));
    let out = p2p(&["torrent", "create", "x", "--piece-size", "big"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a size"));
}
