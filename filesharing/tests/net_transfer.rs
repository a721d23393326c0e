//! Our seeder and our downloader over real TCP on loopback, with real files.
#![cfg(feature = "net")]

use std::time::Duration;

use filesharing::net::{Client, ClientConfig};
use filesharing::storage::{OpenMode, Storage};
use filesharing::{CreateOptions, create};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_from_our_seeder_is_byte_identical() {
    let src = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..3_000_017u32).map(|i| (i ^ (i >> 9)) as u8).collect();
    std::fs::write(src.path().join("file.bin"), &data).unwrap();
    let options = CreateOptions {
        piece_length: Some(64 * 1024),
        ..CreateOptions::default()
    };
    let meta = create(&src.path().join("file.bin"), &options, &mut |_, _| {}).unwrap();

    let local = "127.0.0.1:0".parse().unwrap();
    let storage = Storage::open(&meta.info, src.path(), OpenMode::Seed).unwrap();
    let have = storage.verify(&meta.info, |_, _| {}).unwrap();
    assert!(have.is_full());
    let seed_config = ClientConfig {
        listen: local,
        keep_seeding: true,
        ..ClientConfig::default()
    };
    let seeder = Client::bind(meta.clone(), storage, have, seed_config)
        .await
        .unwrap();
    let seed_addr = seeder.local_addr();
    let (stop_seed, stopped) = tokio::sync::oneshot::channel::<()>();
    let (seed_progress, _) = watch::channel(Default::default());
    let seeding = tokio::spawn(seeder.run(seed_progress, async {
        let _ = stopped.await;
    }));

    let dst = tempfile::tempdir().unwrap();
    let storage = Storage::open(&meta.info, dst.path(), OpenMode::Download).unwrap();
    let have = storage.verify(&meta.info, |_, _| {}).unwrap();
    let config = ClientConfig {
        listen: local,
        peers: vec![seed_addr],
        ..ClientConfig::default()
    };
    let client = Client::bind(meta.clone(), storage, have, config)
        .await
        .unwrap();
    let (progress, _) = watch::channel(Default::default());
    let (stats, complete) = tokio::time::timeout(
        Duration::from_secs(120),
        client.run(progress, std::future::pending()),
    )
    .await
    .expect("the download finishes within two minutes")
    .unwrap();
    assert!(complete);
    assert_eq!(stats.downloaded, data.len() as u64);
    assert_eq!(std::fs::read(dst.path().join("file.bin")).unwrap(), data);

    stop_seed.send(()).unwrap();
    let (seed_stats, _) = seeding.await.unwrap().unwrap();
    assert!(seed_stats.uploaded >= data.len() as u64);
}
