use super::*;
use crate::metainfo::{CreateOptions, create};

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("share");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("a.bin"), vec![1u8; 40_000]).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(
        root.join("sub/b.bin"),
        (0..70_001u32).map(|i| i as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    dir
}

fn info_of(path: &Path) -> Info {
    let options = CreateOptions {
        piece_length: Some(16 * 1024),
        ..CreateOptions::default()
    };
    create(path, &options, &mut |_, _| {}).unwrap().info
}

#[test]
fn pieces_across_files_are_copied_exactly_and_resume_finds_them() {
    let src = folder();
    let info = info_of(&src.path().join("share"));
    let seed = Storage::open(&info, src.path(), OpenMode::Seed).unwrap();
    assert!(seed.verify(&info, |_, _| {}).unwrap().is_full());

    let dst = tempfile::tempdir().unwrap();
    let down = Storage::open(&info, dst.path(), OpenMode::Download).unwrap();
    assert!(down.is_fresh());
    let have = down.verify(&info, |_, _| {}).unwrap();
    assert_eq!(have.count(), 0);
    for i in (0..info.pieces.len() as u32).step_by(2) {
        let len = info.piece_size(i as usize) as u32;
        down.write_piece(i, &seed.read(i, 0, len).unwrap()).unwrap();
    }
    drop(down);
    let again = Storage::open(&info, dst.path(), OpenMode::Download).unwrap();
    assert!(!again.is_fresh());
    let have = again.verify(&info, |_, _| {}).unwrap();
    assert_eq!(
        have.ones().collect::<Vec<_>>(),
        (0..info.pieces.len() as u32).step_by(2).collect::<Vec<_>>()
    );
    for i in (1..info.pieces.len() as u32).step_by(2) {
        let len = info.piece_size(i as usize) as u32;
        again
            .write_piece(i, &seed.read(i, 0, len).unwrap())
            .unwrap();
    }
    for f in ["a.bin", "empty", "sub/b.bin"] {
        let a = std::fs::read(src.path().join("share").join(f)).unwrap();
        let b = std::fs::read(dst.path().join("share").join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn a_symbolic_link_in_the_way_is_refused() {
    let src = folder();
    let info = info_of(&src.path().join("share"));
    let dst = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dst.path().join("share")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dst.path().join("share/sub")).unwrap();
    let err = Storage::open(&info, dst.path(), OpenMode::Download)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn seeding_a_missing_or_short_file_says_which() {
    let src = folder();
    let info = info_of(&src.path().join("share"));
    std::fs::write(src.path().join("share/a.bin"), b"short").unwrap();
    let err = Storage::open(&info, src.path(), OpenMode::Seed)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("a.bin"), "{err}");
}
