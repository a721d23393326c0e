//! The lock service in the simulator: group membership over the overlay gives the views
//! and each mutual-exclusion algorithm runs between the members; every node takes the lock
//! again and again while members crash (the holder among them), and a checker watching
//! every grant finds no two holders at once and every live node served.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use coordination::locks::{Locks, LocksCommand, LocksEvent, MakeMutex};
use coordination::membership::MembershipConfig;
use coordination::mutex::{Central, Lamport, Maekawa, MutexAlgorithm, RicartAgrawala, TokenRing};
use overlay::sim::{SimConfig, Simulator};
use overlay::{Command, Key, NodeId};
use serde::Serialize;
use serde::de::DeserializeOwned;

type Chord = dht_chord::Chord<u32>;

const NODES: usize = 12;
const ENTRIES: u32 = 6;

fn run<M>(make: MakeMutex<M>)
where
    M: MutexAlgorithm<NodeId> + 'static,
    M::Msg: Serialize + DeserializeOwned,
{
    let group = Key::hash("default");
    let cfg = Arc::new(MembershipConfig::default());
    let mut sim = Simulator::<Chord, overlay::apps![Locks<u32, M>]>::with_apps(
        Default::default(),
        SimConfig::default(),
        9,
        Arc::new(move |_: &overlay::Contact<u32>| (Locks::new(group, Arc::clone(&cfg), make), ())),
    );
    sim.build_oracle(NODES);
    // Membership settles: the root's grace period, then a view for everyone.
    sim.run_until(sim.now() + Duration::from_secs(20));
    let nodes: Vec<u32> = sim.live().to_vec();
    for n in &nodes {
        sim.command(*n, Command::app(LocksCommand::Acquire));
    }
    let mut done: BTreeMap<u32, u32> = nodes.iter().map(|n| (*n, 0)).collect();
    let mut holder: Option<(u32, overlay::time::Time)> = None;
    let mut violations = 0;
    let mut crashed = Vec::new();
    let deadline = sim.now() + Duration::from_secs(600);
    while sim.now() < deadline {
        sim.run_until(sim.now() + Duration::from_millis(10));
        let granted: Vec<u32> = sim
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.event.app::<LocksEvent<u32>, _>(),
                    Some(LocksEvent::Acquired)
                )
            })
            .map(|e| e.node)
            .collect();
        sim.events.clear();
        for n in granted {
            if holder.is_some_and(|(h, _)| h != n) {
                violations += 1;
            }
            holder = Some((n, sim.now() + Duration::from_millis(30)));
        }
        if let Some((h, until)) = holder
            && sim.now() >= until
        {
            holder = None;
            *done.get_mut(&h).expect("a node") += 1;
            // Two crashes while the lock is busy: a waiting member, then the holder itself.
            let total: u32 = done.values().sum();
            if total == 10 && crashed.is_empty() {
                let waiting = *nodes.iter().find(|n| **n != h).expect("another node");
                sim.crash(waiting);
                crashed.push(waiting);
            }
            if total == 25 && crashed.len() == 1 {
                sim.crash(h);
                crashed.push(h);
                continue;
            }
            sim.command(h, Command::app(LocksCommand::Release));
            if done[&h] < ENTRIES {
                sim.command(h, Command::app(LocksCommand::Acquire));
            }
        }
        if holder.is_some_and(|(h, _)| crashed.contains(&h)) {
            holder = None;
        }
        let finished = done
            .iter()
            .all(|(n, d)| crashed.contains(n) || *d >= ENTRIES);
        if finished {
            break;
        }
    }
    assert_eq!(violations, 0, "two holders at once");
    let short: Vec<(u32, u32)> = done
        .iter()
        .filter(|(n, d)| !crashed.contains(n) && **d < ENTRIES)
        .map(|(n, d)| (*n, *d))
        .collect();
    assert!(
        short.is_empty(),
        "not served: {short:?} (crashed {crashed:?})"
    );
    assert_eq!(crashed.len(), 2, "both crashes happened");
}

#[test]
fn central_server_over_membership() {
    run::<Central<NodeId>>(Central::new);
}

#[test]
fn ricart_agrawala_over_membership() {
    run::<RicartAgrawala<NodeId>>(RicartAgrawala::new);
}

#[test]
fn lamport_over_membership() {
    run::<Lamport<NodeId>>(Lamport::new);
}

#[test]
fn token_ring_over_membership() {
    run::<TokenRing<NodeId>>(TokenRing::new);
}

#[test]
fn maekawa_over_membership() {
    run::<Maekawa<NodeId>>(Maekawa::new);
}
