//! Reads while the membership changes: a read whose lookup fails on a departed node still
//! finds a replica that holds the key.

use crate::Key;
use std::sync::Arc;
use std::time::Duration;

use crate::conformance::{NODES, dht, get, grown_in, put};
use crate::contact::Contact;
use crate::dht::{Dht, DhtConfig};
use crate::dht::{DhtCommand, DhtEvent};
use crate::io::Command;
use crate::node::DefaultApps;
use crate::node::Phase;
use crate::sim::{AppFactory, SimConfig, SimRouting, Simulator};

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

/// As many nodes again join at once, all through one member, as `p2p demo` and `bench net
/// --churn` start theirs. As soon as each has joined, while the tables are still
/// converging, values are written through random joined nodes and each is read back at
/// once through another: every acknowledged write is read back (quorum reads, and reads
/// that miss while the reader's neighbourhood changes look again).
///
/// A miss is looked up again about one maintenance round later and then two: the checks'
/// routing configurations run maintenance every 30 s or so, real nodes every second.
pub fn reads_while_joins_converge_find_every_write<R: SimRouting>(config: &R::Config) {
    let dht = Arc::new(DhtConfig {
        read_retry_after: Duration::from_secs(30),
        ..DhtConfig::default()
    });
    let apps: AppFactory<DefaultApps<u32>> =
        Arc::new(move |_: &Contact<u32>| (Dht::new(Arc::clone(&dht)), ()));
    let mut sim = Simulator::<R>::with_apps(config.clone(), SimConfig::default(), 18, apps);
    sim.grow(NODES / 2, Duration::from_secs(30), 0.1, |_, _| {});
    let fraction = sim.settle(Duration::from_secs(3600), Duration::from_secs(30));
    assert_eq!(
        fraction,
        1.0,
        "{}: the first half did not converge",
        R::NAME
    );
    let gate = sim.live()[0];
    let joining: Vec<u32> = (0..NODES / 2).map(|_| sim.spawn(Some(gate))).collect();
    let joined =
        |sim: &Simulator<R>, a: u32| sim.node(a).is_some_and(|n| n.phase() == Phase::Joined);
    let mut failed = Vec::new();
    for i in 0..200usize {
        let nodes: Vec<u32> = sim
            .live()
            .iter()
            .copied()
            .filter(|&a| joined(&sim, a))
            .collect();
        let writer = nodes[(i * 5) % nodes.len()];
        let reader = nodes[(i * 11 + 1) % nodes.len()];
        let key = Key::hash(format!("converging-{i}"));
        put(&mut sim, writer, 2 * i as u64 + 1, key, vec![i as u8]);
        if get(&mut sim, reader, 2 * i as u64 + 2, key) != Some(vec![i as u8]) {
            failed.push(i);
        }
    }
    assert!(
        joining.iter().all(|&a| joined(&sim, a)),
        "{}: not every node joined",
        R::NAME
    );
    assert!(
        failed.is_empty(),
        "{}: {} of 200 writes made while {} joins converged were not read back at once: {failed:?}",
        R::NAME,
        failed.len(),
        joining.len()
    );
}

/// The overlay grows from one node to 10,000 by a quarter of its size per maintenance
/// round, while values are written through random joined nodes as it grows from 1 to
/// 1,000: each value then sees the overlay grow at least tenfold, with new nodes joining
/// between the key and its holders faster than a copy would move if each holder passed it
/// towards the key's new root only at its next repair (Chord missed 2 of 300 reads that
/// way). Right after the last join, before the tables have converged, every acknowledged
/// write is read back at once through random joined nodes: every read finds its value.
pub fn reads_while_growing_fast_find_every_write<R: SimRouting>(config: &R::Config) {
    const GROWN: usize = 10000;
    const WRITES: usize = 300;
    let round = Duration::from_secs(30);
    // The same timings, in maintenance rounds, as real nodes use.
    let dht = Arc::new(DhtConfig::paced_by(round));
    let apps: AppFactory<DefaultApps<u32>> =
        Arc::new(move |_: &Contact<u32>| (Dht::new(Arc::clone(&dht)), ()));
    let mut sim = Simulator::<R>::with_apps(config.clone(), SimConfig::default(), 21, apps);
    let key = |i: usize| Key::hash(format!("growing-{i}"));
    // Distinct for every write, so a read answered with another key's value fails.
    let value_of = |i: usize| (i as u16).to_be_bytes().to_vec();
    let mut acknowledged = Vec::new();
    let mut written = 0;
    sim.grow(GROWN, round, 0.25, |sim, size| {
        for e in sim.events.drain(..) {
            if let Some(DhtEvent::PutDone {
                op, result: Ok(()), ..
            }) = e.event.app()
            {
                acknowledged.push(*op as usize);
            }
        }
        // Written while the overlay is a tenth of its final size, the values see it grow
        // tenfold before they are read.
        while written < (WRITES * size * 10 / GROWN).min(WRITES) {
            if let Some(from) = sim.random_joined() {
                let value = value_of(written);
                let cmd = DhtCommand::Put {
                    op: written as u64,
                    key: key(written),
                    value,
                };
                sim.command(from, Command::app(cmd));
            }
            written += 1;
        }
    });
    assert!(
        acknowledged.len() > WRITES * 9 / 10,
        "{}: only {} of {WRITES} writes were acknowledged",
        R::NAME,
        acknowledged.len()
    );
    let first_read = 1 << 20;
    for &i in &acknowledged {
        let reader = sim.random_joined().expect("joined nodes");
        let cmd = DhtCommand::Get {
            op: first_read + i as u64,
            key: key(i),
        };
        sim.command(reader, Command::app(cmd));
    }
    let deadline = sim.now() + round * 10;
    let mut missed: Vec<usize> = acknowledged.clone();
    while !missed.is_empty() && sim.now() < deadline {
        let next = sim.now() + Duration::from_secs(1);
        sim.run_until(next);
        for e in sim.events.drain(..) {
            if let Some(DhtEvent::GetDone {
                op,
                result: Ok(Some(v)),
                ..
            }) = e.event.app()
                && let Some(i) = op.checked_sub(first_read).map(|i| i as usize)
                && *v == value_of(i)
            {
                missed.retain(|&m| m != i);
            }
        }
    }
    assert!(
        missed.is_empty(),
        "{}: {} of {} acknowledged writes were not read back while the overlay grew: {missed:?}",
        R::NAME,
        missed.len(),
        acknowledged.len()
    );
}
