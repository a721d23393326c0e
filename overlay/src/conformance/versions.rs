//! Versions of DHT writes when clocks disagree: a write acknowledged after another is
//! never shadowed by it, and a version from far in the future is refused.

use std::time::Duration;

use crate::apps::Layer;
use crate::conformance::{dht, grown};
use crate::dht::{DhtCommand, DhtEvent, DhtMsg};
use crate::id::Key;
use crate::io::Input;
use crate::sim::SimRouting;
use crate::store::{Record, Version};
use crate::wire::{Request, Wire};

const HOUR_US: i64 = 3_600_000_000;

fn write(
    sim: &mut crate::sim::Simulator<impl SimRouting>,
    from: u32,
    op: u64,
    key: Key,
    value: Option<&str>,
) {
    let cmd = match value {
        Some(v) => DhtCommand::Put {
            op,
            key,
            value: v.as_bytes().to_vec(),
        },
        None => DhtCommand::Remove { op, key },
    };
    let done = dht(sim, from, op, cmd);
    assert!(
        matches!(done, Some(DhtEvent::PutDone { result: Ok(()), .. })),
        "write {op} gave {done:?}"
    );
}

fn read(
    sim: &mut crate::sim::Simulator<impl SimRouting>,
    from: u32,
    op: u64,
    key: Key,
) -> Option<Vec<u8>> {
    match dht(sim, from, op, DhtCommand::Get { op, key }) {
        Some(DhtEvent::GetDone { result: Ok(v), .. }) => v,
        other => panic!("read {op} gave {other:?}"),
    }
}

/// One node's clock is an hour behind the others'. Writes and removes acknowledged one
/// after another, from it and from the others, for keys whose root is it and keys whose
/// root is another node, are each read back from every node: none is shadowed by an
/// earlier write with a later clock.
pub fn acknowledged_writes_win_whatever_the_clocks<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, 16, 31);
    let nodes = sim.live().to_vec();
    let slow = nodes[0];
    for &n in &nodes[1..] {
        sim.set_clock_offset(n, HOUR_US);
    }
    let mut op = 0;
    for i in 0..24 {
        let key = Key::hash(format!("clock-{i}"));
        // Alternate the writers: the slow node writes after a fast one, and the other way.
        let (first, second) = if i % 2 == 0 {
            (nodes[1 + i % (nodes.len() - 1)], slow)
        } else {
            (slow, nodes[1 + i % (nodes.len() - 1)])
        };
        op += 1;
        write(&mut sim, first, op, key, Some("first"));
        op += 1;
        write(&mut sim, second, op, key, Some("second"));
        for &reader in &nodes {
            op += 1;
            assert_eq!(
                read(&mut sim, reader, op, key).as_deref(),
                Some(&b"second"[..]),
                "{}: key {i}: the later acknowledged write was shadowed (read at node {reader})",
                R::NAME
            );
        }
        op += 1;
        write(&mut sim, first, op, key, None);
        for &reader in &nodes {
            op += 1;
            assert_eq!(
                read(&mut sim, reader, op, key),
                None,
                "{}: key {i}: an acknowledged remove was shadowed (read at node {reader})",
                R::NAME
            );
        }
    }
}

/// A peer pushes a copy versioned a century ahead to a key's root and replicas; they
/// refuse it, and later writes still win.
pub fn far_future_versions_are_refused<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, 16, 32);
    let nodes = sim.live().to_vec();
    let key = Key::hash("future");
    write(&mut sim, nodes[0], 1, key, Some("honest"));
    let hostile = sim.contact(nodes[1]).clone();
    let century = Duration::from_secs(100 * 365 * 24 * 3600);
    let forged = Record {
        key,
        version: Version {
            time: (sim.now() + century).0,
            writer: hostile.id,
        },
        value: Some(b"frozen".to_vec()),
    };
    for &n in &nodes {
        let msg = Wire::Request {
            id: 77,
            body: Request::App(Layer::Head(DhtMsg::Store {
                records: vec![forged.clone()],
            })),
        };
        let from = hostile.clone();
        let _ = sim.with_node(n, |node, ctx| {
            node.handle(ctx, Input::Message { from, msg })
        });
    }
    let until = sim.now() + Duration::from_secs(120);
    sim.run_until(until);
    for (i, &reader) in nodes.iter().enumerate() {
        assert_eq!(
            read(&mut sim, reader, 100 + i as u64, key).as_deref(),
            Some(&b"honest"[..]),
            "{}: a far-future copy was taken",
            R::NAME
        );
    }
    write(&mut sim, nodes[2], 200, key, Some("later"));
    assert_eq!(
        read(&mut sim, nodes[3], 201, key).as_deref(),
        Some(&b"later"[..]),
        "{}: a write after the forged copy lost",
        R::NAME
    );
}

/// A holder of a key's copies falls one write behind (its store rolled back to the
/// version before, as a replica a copy has not reached yet), one holder after another:
/// every node still reads the latest acknowledged value. Reads ask a majority of the
/// replica set and return the newest answer, so the root's lag cannot shadow the write.
pub fn a_lagging_holder_does_not_shadow_the_latest_write<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, 16, 33);
    let nodes = sim.live().to_vec();
    let key = Key::hash("lagging");
    let held = |sim: &crate::sim::Simulator<R>, n: u32| {
        sim.node(n)
            .and_then(|node| node.apps().0.store().get(&key).cloned())
    };
    write(&mut sim, nodes[0], 1, key, Some("old"));
    let holders: Vec<u32> = nodes
        .iter()
        .copied()
        .filter(|&n| held(&sim, n).is_some())
        .collect();
    let old = held(&sim, holders[0]).expect("a holder holds the key");
    write(&mut sim, nodes[1], 2, key, Some("new"));
    let new = held(&sim, holders[0]).expect("a holder holds the key");
    assert!(new.version > old.version);
    let mut op = 10;
    for &lagging in &holders {
        sim.with_node(lagging, |node, _| {
            let store = node.apps_mut().0.store_mut();
            store.drop_key(&key);
            store.merge(old.clone());
        });
        for &reader in &nodes {
            op += 1;
            assert_eq!(
                read(&mut sim, reader, op, key).as_deref(),
                Some(&b"new"[..]),
                "{}: node {lagging} one write behind shadowed the latest (read at node {reader})",
                R::NAME
            );
        }
        sim.with_node(lagging, |node, _| {
            node.apps_mut().0.store_mut().merge(new.clone());
        });
    }
}
