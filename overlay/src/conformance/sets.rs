//! Set-valued, expiring records on every routing algorithm: members announced from
//! several nodes are read from any node, survive a quarter of the nodes crashing where a
//! replica of the set lives on, and are gone once their time runs out unless announced
//! again.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::Key;
use crate::conformance::{NODES, dht, grown, live_in_random_order};
use crate::dht::DhtCommand;
use crate::dht::DhtEvent;
use crate::sim::{SimRouting, Simulator};

const TTL: Duration = Duration::from_secs(600);

fn announce<R: SimRouting>(sim: &mut Simulator<R>, from: u32, op: u64, key: Key, member: &str) {
    let cmd = DhtCommand::Announce {
        op,
        key,
        member: member.as_bytes().to_vec(),
        ttl: TTL,
    };
    let done = dht(sim, from, op, cmd);
    assert!(
        matches!(done, Some(DhtEvent::AnnounceDone { result: Ok(()), .. })),
        "{}: announce {member} under {key:?} from node {from} gave {done:?}",
        R::NAME
    );
}

fn members<R: SimRouting>(
    sim: &mut Simulator<R>,
    from: u32,
    op: u64,
    key: Key,
) -> BTreeSet<String> {
    match dht(sim, from, op, DhtCommand::Members { op, key }) {
        Some(DhtEvent::MembersDone { result: Ok(m), .. }) => m
            .into_iter()
            .map(|m| String::from_utf8(m).expect("members are text here"))
            .collect(),
        other => panic!(
            "{}: members of {key:?} from node {from} gave {other:?}",
            R::NAME
        ),
    }
}

/// Three members under each of 20 keys, each announced from its own random node, are read
/// back whole from other random nodes; after a quarter of the nodes crash and repair runs,
/// every key some live node still held reads whole again; once the time to live has passed,
/// only the member announced again is left.
pub fn announced_members_are_read_anywhere_survive_crashes_and_expire<R: SimRouting>(
    config: &R::Config,
) {
    let mut sim = grown::<R>(config, NODES, 21);
    let keys: Vec<Key> = (0..20).map(|i| Key::hash(format!("set-{i}"))).collect();
    let mut op = 0;
    let expected =
        |i: usize| -> BTreeSet<String> { (0..3).map(|m| format!("peer-{i}-{m}")).collect() };
    for (i, key) in keys.iter().enumerate() {
        for m in expected(i) {
            op += 1;
            let from = sim.random_joined().expect("nodes");
            announce(&mut sim, from, op, *key, &m);
        }
    }
    for (i, key) in keys.iter().enumerate() {
        op += 1;
        let from = sim.random_joined().expect("nodes");
        assert_eq!(
            members(&mut sim, from, op, *key),
            expected(i),
            "{}: key {i}",
            R::NAME
        );
    }

    let mut victims = live_in_random_order(&mut sim);
    victims.truncate(NODES / 4);
    for v in &victims {
        sim.crash(*v);
    }
    let held = |sim: &Simulator<R>, k: &Key| {
        sim.live().iter().any(|a| {
            sim.node(*a)
                .is_some_and(|n| n.apps().0.sets().keys().any(|h| h == k))
        })
    };
    let surviving: Vec<usize> = (0..keys.len()).filter(|i| held(&sim, &keys[*i])).collect();
    assert!(
        surviving.len() >= keys.len() / 2,
        "{}: most sets lost",
        R::NAME
    );
    let until = sim.now() + Duration::from_secs(120);
    sim.run_until(until);
    for &i in &surviving {
        op += 1;
        let from = sim.random_joined().expect("nodes");
        assert_eq!(
            members(&mut sim, from, op, keys[i]),
            expected(i),
            "{}: key {i} after the crashes",
            R::NAME
        );
    }

    // One member of the first surviving key is announced again; the rest run out.
    let i = surviving[0];
    let again = format!("peer-{i}-0");
    op += 1;
    let from = sim.random_joined().expect("nodes");
    announce(&mut sim, from, op, keys[i], &again);
    let until = sim.now() + (TTL - Duration::from_secs(60));
    sim.run_until(until);
    op += 1;
    let from = sim.random_joined().expect("nodes");
    assert_eq!(
        members(&mut sim, from, op, keys[i]),
        BTreeSet::from([again]),
        "{}: after the others expired",
        R::NAME
    );
    for &j in surviving.iter().skip(1) {
        op += 1;
        let from = sim.random_joined().expect("nodes");
        assert!(
            members(&mut sim, from, op, keys[j]).is_empty(),
            "{}: key {j} did not expire",
            R::NAME
        );
    }
}

/// Every node holding a set leaves at the same moment: each hands the set on to the
/// replica set one rank deeper, which has a node that stays, so the members are still read
/// whole afterwards (nobody is left to repair from, so without the hand-over they are
/// lost).
pub fn sets_outlive_every_holder_leaving_at_once<R: SimRouting>(config: &R::Config) {
    // A converged overlay for each set, so that one set's leaves do not leave the next
    // set's replicas with a ring still healing.
    for i in 0..5u64 {
        let mut sim = grown::<R>(config, NODES, 22 + i);
        let key = Key::hash(format!("left-{i}"));
        let member = format!("peer-{i}");
        let from = sim.random_joined().expect("nodes");
        announce(&mut sim, from, 1, key, &member);
        let holders: Vec<u32> = sim
            .live()
            .iter()
            .copied()
            .filter(|a| {
                sim.node(*a)
                    .is_some_and(|n| n.apps().0.sets().keys().any(|h| *h == key))
            })
            .collect();
        assert!(!holders.is_empty(), "{}: key {i} held nowhere", R::NAME);
        for h in &holders {
            sim.leave(*h);
        }
        let until = sim.now() + Duration::from_secs(30);
        sim.run_until(until);
        for h in &holders {
            assert!(
                sim.node(*h).is_none(),
                "{}: node {h} did not finish leaving",
                R::NAME
            );
        }
        let from = sim.random_joined().expect("nodes");
        assert_eq!(
            members(&mut sim, from, 2, key),
            BTreeSet::from([member]),
            "{}: key {i} after its {} holders left",
            R::NAME,
            holders.len()
        );
    }
}
