use std::fs;

use proptest::prelude::*;
use sha1::Digest;

use super::*;

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn made(path: &std::path::Path, piece: u64) -> Metainfo {
    let opts = CreateOptions {
        trackers: vec!["http://a/announce".into(), "http://b/announce".into()],
        piece_length: Some(piece),
        ..Default::default()
    };
    create(path, &opts, &mut |_, _| {}).unwrap()
}

#[test]
fn a_file_is_cut_into_pieces_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let data = bytes(100_000, 7);
    fs::write(&path, &data).unwrap();
    let m = made(&path, 16 << 10);
    assert!(m.info.single_file());
    assert_eq!(m.info.name, "data.bin");
    assert_eq!(m.info.total_length(), 100_000);
    let want: Vec<[u8; 20]> = data
        .chunks(16 << 10)
        .map(|c| sha1::Sha1::digest(c).into())
        .collect();
    assert_eq!(m.info.pieces, want);
    assert_eq!(m.info.piece_size(6), 100_000 - 6 * (16 << 10));
    let back = Metainfo::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(back, m);
    assert_eq!(
        back.trackers,
        vec![
            vec!["http://a/announce".to_string()],
            vec!["http://b/announce".into()]
        ]
    );
}

#[test]
fn a_folder_lists_its_files_in_order_and_pieces_span_them() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("album");
    fs::create_dir_all(top.join("b/c")).unwrap();
    fs::create_dir_all(top.join("empty")).unwrap();
    let files = [
        ("z.txt", 5_000),
        ("a.txt", 20_000),
        ("b/c/d.bin", 30_000),
        ("b/x", 0),
    ];
    for (i, (p, n)) in files.iter().enumerate() {
        fs::write(top.join(p), bytes(*n, i as u8)).unwrap();
    }
    // The pieces' bytes: the files in the order of their paths, by component.
    let all: Vec<u8> = [1usize, 2, 3, 0]
        .into_iter()
        .flat_map(|i| bytes(files[i].1, i as u8))
        .collect();
    let m = made(&top, 16 << 10);
    let paths: Vec<String> = m.info.files.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(paths, ["a.txt", "b/c/d.bin", "b/x", "z.txt"]);
    let want: Vec<[u8; 20]> = all
        .chunks(16 << 10)
        .map(|c| sha1::Sha1::digest(c).into())
        .collect();
    assert_eq!(m.info.pieces, want);
    assert_eq!(Metainfo::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
}

#[cfg(unix)]
#[test]
fn links_and_empty_data_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("t");
    fs::create_dir(&top).unwrap();
    fs::write(top.join("f"), b"x").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", top.join("link")).unwrap();
    let err = create(&top, &CreateOptions::default(), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let empty = dir.path().join("empty");
    fs::write(&empty, b"").unwrap();
    let err = create(&empty, &CreateOptions::default(), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("nothing to share"), "{err}");
}

#[test]
fn default_piece_lengths_are_powers_of_two_in_range() {
    assert_eq!(default_piece_length(1), 16 << 10);
    assert_eq!(default_piece_length(1 << 30), 1 << 20);
    assert_eq!(default_piece_length(1 << 50), 16 << 20);
}

/// A metainfo file whose info dictionary is `info` (raw bencode).
fn with_info(info: &str) -> Vec<u8> {
    format!("d8:announce8:http://t4:info{info}e").into_bytes()
}

fn pieces(n: usize) -> String {
    format!("6:pieces{}:{}", n * 20, "x".repeat(n * 20))
}

#[test]
fn impossible_torrents_are_refused_with_the_reason() {
    let cases = [
        (
            format!(
                "d6:lengthi10e4:name2:..12:piece lengthi16384e{}e",
                pieces(1)
            ),
            "not a file name",
        ),
        (
            format!(
                "d5:filesld6:lengthi1e4:pathl2:..3:etceee4:name1:a12:piece lengthi16384e{}e",
                pieces(1)
            ),
            "not a file name",
        ),
        (
            format!(
                "d5:filesld6:lengthi1e4:pathl3:a/beee4:name1:a12:piece lengthi16384e{}e",
                pieces(1)
            ),
            "separator",
        ),
        (
            format!(
                "d6:lengthi40000e4:name1:a12:piece lengthi16384e{}e",
                pieces(2)
            ),
            "want 3",
        ),
        (
            format!("d6:lengthi10e4:name1:a12:piece lengthi0e{}e", pieces(1)),
            "piece length",
        ),
        (
            format!("d4:name1:a12:piece lengthi16384e{}e", pieces(1)),
            "neither",
        ),
        (
            format!("d6:lengthi0e4:name1:a12:piece lengthi16384e{}e", pieces(0)),
            "no data",
        ),
        (
            "d6:lengthi10e4:name1:a12:piece lengthi16384e6:pieces3:abce".to_string(),
            "multiple of 20",
        ),
    ];
    for (info, why) in cases {
        let err = Metainfo::from_bytes(&with_info(&info)).unwrap_err();
        assert!(err.to_string().contains(why), "{info}: {err}");
    }
    assert!(Metainfo::from_bytes(b"not bencode").is_err());
    assert!(Metainfo::from_bytes(b"d4:infoi3ee").is_err());
    // A well-formed one for contrast.
    let ok = format!("d6:lengthi10e4:name1:a12:piece lengthi16384e{}e", pieces(1));
    let m = Metainfo::from_bytes(&with_info(&ok)).unwrap();
    assert_eq!(m.trackers, vec![vec!["http://t".to_string()]]);
    assert_eq!(m.info_hash, InfoHash::of(ok.as_bytes()));
}

#[test]
fn unknown_info_keys_count_in_the_hash_and_survive_a_rewrite() {
    let info = format!(
        "d6:lengthi10e4:name1:a12:piece lengthi16384e{}6:source3:abce",
        pieces(1)
    );
    let m = Metainfo::from_bytes(&with_info(&info)).unwrap();
    assert_eq!(m.info_hash, InfoHash::of(info.as_bytes()));
    let again = Metainfo::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(again.info_hash, m.info_hash);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes, and a real torrent with bytes flipped, give an error or a torrent,
    /// never a panic.
    #[test]
    fn no_input_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..300),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let _ = Metainfo::from_bytes(&junk);
        let ok = format!("d6:lengthi10e4:name1:a12:piece lengthi16384e{}e", pieces(1));
        let mut b = with_info(&ok);
        for (at, byte) in flips {
            let i = at.index(b.len());
            b[i] = byte;
        }
        if let Ok(m) = Metainfo::from_bytes(&b) {
            prop_assert!(m.info.total_length() > 0);
            prop_assert_eq!(m.info.pieces.len() as u64,
                m.info.total_length().div_ceil(m.info.piece_length));
        }
    }
}
