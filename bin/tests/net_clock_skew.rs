//! Real nodes whose clocks disagree: three Chord nodes, one an hour behind. Writes and
//! removes acknowledged one after another, from the slow node and from the others, are
//! each read back from every node; none is shadowed by an earlier write with a later clock.

mod common;

use anyhow::{Result, ensure};
use common::within;
use dht_chord::{Chord, ChordConfig};
use overlay::Key;
use overlay::net::{NetConfig, NetHandle, PeerAddr, spawn};

const HOUR_US: i64 = 3_600_000_000;

fn config(bootstrap: Option<&NetHandle>, clock_offset_us: i64) -> NetConfig<ChordConfig> {
    NetConfig {
        clock_offset_us,
        ..common::loopback(common::chord(), bootstrap.map(|b| b.listen_addrs()))
    }
}

async fn exercise() -> Result<()> {
    let a = spawn::<Chord<PeerAddr>>(config(None, 0)).await?;
    within(10, "join", a.joined()).await??;
    let b = spawn::<Chord<PeerAddr>>(config(Some(&a), 0)).await?;
    within(30, "join", b.joined()).await??;
    let slow = spawn::<Chord<PeerAddr>>(config(Some(&a), -HOUR_US)).await?;
    within(30, "join", slow.joined()).await??;
    let nodes = [a, b, slow];
    let keys: Vec<Key> = (0..12).map(|i| Key::hash(format!("skew-{i}"))).collect();
    // The ring has closed once every node finds the same root for every key.
    common::roots_agree(60, &nodes, &keys).await?;
    for (i, key) in keys.iter().enumerate() {
        let (first, second) = if i % 2 == 0 {
            (&nodes[i % 2], &nodes[2])
        } else {
            (&nodes[2], &nodes[(i / 2) % 2])
        };
        within(20, "put", first.put(*key, b"first".to_vec())).await??;
        within(20, "put", second.put(*key, b"second".to_vec())).await??;
        for (r, n) in nodes.iter().enumerate() {
            let got = within(20, "get", n.get(*key)).await??;
            ensure!(
                got.as_deref() == Some(&b"second"[..]),
                "key {i}: node {r} read {got:?} after the later write was acknowledged"
            );
        }
        within(20, "remove", first.remove(*key)).await??;
        for (r, n) in nodes.iter().enumerate() {
            let got = within(20, "get", n.get(*key)).await??;
            ensure!(
                got.is_none(),
                "key {i}: node {r} read {got:?} after the remove was acknowledged"
            );
        }
    }
    Ok(())
}

#[test]
fn acknowledged_writes_win_when_a_clock_is_an_hour_behind() -> Result<()> {
    common::runtime().block_on(exercise())
}
