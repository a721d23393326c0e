//! Reads while the membership changes: a read whose lookup fails on a departed node still
//! finds a replica that holds the key.

use crate::Key;
use crate::conformance::{NODES, dht, get, grown_in, put};
use crate::dht::{DhtCommand, DhtEvent};
use crate::sim::{SimConfig, SimRouting, Simulator};

/// An eighth of the nodes leave gracefully at once; reads issued as soon as they have gone
/// (while the others' tables still name them) all find their value.
/// Requests to a departed node are refused at once, as on a real network, so a lookup
/// can run out of next hops before the tables heal.
pub fn reads_during_leaves_find_a_replica<R: SimRouting>(config: &R::Config) {
    let sim_cfg = SimConfig {
        refuse_departed: true,
        ..SimConfig::default()
    };
    let mut sim = grown_in::<R, _>(config, sim_cfg, NODES, 15);
    let nodes = sim.live().to_vec();
    let keys: Vec<Key> = (0..200).map(|i| Key::hash(format!("during-{i}"))).collect();
    let mut op = 0;
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        put(&mut sim, nodes[i % nodes.len()], op, *k, vec![i as u8]);
    }
    let leaving = &nodes[..NODES / 8];
    for &addr in leaving {
        sim.leave(addr);
    }
    // Until the last of them has gone, and not a moment longer: the others' tables still
    // name them.
    let deadline = sim.now() + std::time::Duration::from_secs(60);
    sim.run_until_done(deadline, |sim| {
        leaving.iter().all(|&a| sim.node(a).is_none())
    });
    let reader = nodes[NODES - 1];
    let mut failed = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        if get(&mut sim, reader, op, *k) != Some(vec![i as u8]) {
            failed.push(i);
        }
    }
    assert!(
        failed.is_empty(),
        "{}: {} of {} reads right after {} leaves missed their value: keys {failed:?}",
        R::NAME,
        failed.len(),
        keys.len(),
        leaving.len()
    );
}

/// A quarter of the nodes crash at once (their ports closed: requests to them are refused
/// at once); reads issued right away find every key a live node still holds, though
/// lookups fail until the tables route around the crashed nodes.
pub fn reads_right_after_crashes_find_a_replica<R: SimRouting>(config: &R::Config) {
    let sim_cfg = SimConfig {
        refuse_departed: true,
        ..SimConfig::default()
    };
    let mut sim = grown_in::<R, _>(config, sim_cfg, NODES, 16);
    let nodes = sim.live().to_vec();
    let keys: Vec<Key> = (0..200)
        .map(|i| Key::hash(format!("crashed-{i}")))
        .collect();
    let mut op = 0;
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        put(&mut sim, nodes[i % nodes.len()], op, *k, vec![i as u8]);
    }
    for &addr in nodes.iter().skip(1).step_by(4) {
        sim.crash(addr);
    }
    let reader = nodes[0];
    let held = |sim: &Simulator<R>, k: &Key| {
        sim.live().iter().any(|a| {
            sim.node(*a)
                .is_some_and(|n| n.apps().0.store().get(k).is_some())
        })
    };
    let mut failed = Vec::new();
    let mut tried = 0;
    for (i, k) in keys.iter().enumerate() {
        if !held(&sim, k) {
            continue;
        }
        tried += 1;
        op += 1;
        let got = dht(&mut sim, reader, op, DhtCommand::Get { op, key: *k });
        match got {
            Some(DhtEvent::GetDone {
                result: Ok(Some(v)),
                ..
            }) if v == vec![i as u8] => {}
            other => failed.push(format!("{i}: {other:?}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{}: {} of {tried} reads right after crashes missed a held value: {failed:?}",
        R::NAME,
        failed.len(),
    );
}
