//! The coordination service in the simulator, over Chord: group membership gives the
//! views; every node takes a named lock again and again with each mutual-exclusion
//! algorithm while members crash (the holder among them), and a checker watching every
//! grant finds no two holders at once and every live node served; the group's leader is
//! replaced when it crashes, coordinates the locks in use under the central server, and
//! the Berkeley estimates of drifting clocks' offsets from
//! the group's time are within their bounds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use coordination::choice::MutexKind;
use coordination::clock::soft::HardwareClock;
use coordination::service::{
    Coordination, CoordinationCommand, CoordinationConfig, CoordinationEvent, CoordinationReport,
};
use overlay::sim::{SimConfig, Simulator};
use overlay::time::Time;
use overlay::{Command, NodeId};

type Chord = dht_chord::Chord<u32>;
type Sim = Simulator<Chord, overlay::apps![Coordination<u32>]>;

const NODES: usize = 12;
const ENTRIES: u64 = 6;

/// Node `addr`'s hardware clock: up to a second off true time, up to 100 ppm fast or slow.
fn hardware(addr: u32) -> HardwareClock {
    let a = u64::from(addr);
    HardwareClock {
        offset: ((a * 7919) % 2000) as f64 / 1000.0 - 1.0,
        drift: (((a * 104_729) % 200) as f64 - 100.0) * 1e-6,
    }
}

fn simulator(mutex: MutexKind) -> Sim {
    let mut sim = Sim::with_apps(
        Default::default(),
        SimConfig::default(),
        9,
        Arc::new(move |c: &overlay::Contact<u32>| {
            let clock = hardware(c.addr);
            let cfg = CoordinationConfig {
                mutex,
                sync_tolerance: Duration::from_secs(5),
                clock: Arc::new(move |t: Time| clock.at(t.as_secs_f64())),
                ..CoordinationConfig::default()
            };
            (Coordination::new(cfg), ())
        }),
    );
    sim.build_oracle(NODES);
    sim
}

fn acquire(sim: &mut Sim, node: u32, ticket: u64) {
    let cmd = CoordinationCommand::Acquire {
        group: "default".into(),
        lock: "x".into(),
        ticket,
    };
    sim.command(node, Command::app(cmd));
}

/// Every live node's report.
fn reports(sim: &mut Sim) -> BTreeMap<u32, CoordinationReport> {
    for n in sim.live().to_vec() {
        sim.command(n, Command::app(CoordinationCommand::Report));
    }
    sim.run_until(sim.now() + Duration::from_millis(1));
    let out = sim
        .events
        .iter()
        .filter_map(|e| match e.event.app::<CoordinationEvent<u32>, _>() {
            Some(CoordinationEvent::Report(r)) => Some((e.node, r.clone())),
            _ => None,
        })
        .collect();
    sim.events.clear();
    out
}

/// Every node takes the lock `ENTRIES` times while a waiting member and then the holder
/// crash.
fn lock_under_crashes(mutex: MutexKind) {
    let mut sim = simulator(mutex);
    let nodes: Vec<u32> = sim.live().to_vec();
    // Each node's tickets count its entries.
    for n in &nodes {
        acquire(&mut sim, *n, 0);
    }
    let mut done: BTreeMap<u32, u64> = nodes.iter().map(|n| (*n, 0)).collect();
    let mut holder: Option<(u32, Time)> = None;
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
                    e.event.app::<CoordinationEvent<u32>, _>(),
                    Some(CoordinationEvent::Acquired(_))
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
            let d = done.get_mut(&h).expect("a node");
            let ticket = *d;
            *d += 1;
            // Two crashes while the lock is busy: a waiting member, then the holder itself.
            let total: u64 = done.values().sum();
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
            sim.command(h, Command::app(CoordinationCommand::Release(ticket)));
            if done[&h] < ENTRIES {
                acquire(&mut sim, h, done[&h]);
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
    let short: Vec<(u32, u64)> = done
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
    lock_under_crashes(MutexKind::Central);
}

#[test]
fn ricart_agrawala_over_membership() {
    lock_under_crashes(MutexKind::RicartAgrawala);
}

#[test]
fn lamport_over_membership() {
    lock_under_crashes(MutexKind::Lamport);
}

#[test]
fn token_ring_over_membership() {
    lock_under_crashes(MutexKind::TokenRing);
}

#[test]
fn maekawa_over_membership() {
    lock_under_crashes(MutexKind::Maekawa);
}

/// The highest live member, which every live node should take as the leader.
fn highest(sim: &Sim) -> NodeId {
    sim.live()
        .iter()
        .map(|a| sim.contact(*a).id)
        .max()
        .expect("live nodes")
}

fn check_leader(sim: &mut Sim) {
    let want = highest(sim);
    for (n, r) in reports(sim) {
        let g = r
            .groups
            .iter()
            .find(|g| g.name == "default")
            .expect("in default");
        assert_eq!(g.leader, Some(want), "node {n}'s leader");
        assert_eq!(g.members.len(), sim.live().len(), "node {n}'s view");
    }
}

/// Berkeley's estimates: for every two nodes, the difference of their estimated offsets
/// from the group's time is their clocks' true difference, within the two bounds and the
/// drift since the estimates.
fn check_offsets(sim: &mut Sim) {
    let t = sim.now().as_secs_f64();
    let rs = reports(sim);
    let est: Vec<(u32, f64, f64, f64)> = rs
        .iter()
        .map(|(n, r)| {
            let g = r
                .groups
                .iter()
                .find(|g| g.name == "default")
                .expect("in default");
            let offset = g.offset.unwrap_or_else(|| panic!("node {n} has no offset"));
            let age = g.offset_age.expect("age");
            (*n, offset, g.offset_bound.expect("bound"), age)
        })
        .collect();
    for (a, oa, ba, age_a) in &est {
        for (b, ob, bb, age_b) in &est {
            let truth = hardware(*a).at(t) - hardware(*b).at(t);
            let slack = ba + bb + 2.0 * 100e-6 * age_a.max(*age_b) + 1e-6;
            assert!(
                ((oa - ob) - truth).abs() <= slack,
                "nodes {a} and {b}: estimated {} apart, truly {truth} (slack {slack})",
                oa - ob
            );
        }
    }
}

/// Under the central server the leader coordinates every lock in use: it is in the view
/// of each of `locks`, which the lowest node uses and the leader does not.
fn check_leader_coordinates(sim: &mut Sim, locks: &[&str]) {
    let leader = highest(sim);
    let rs = reports(sim);
    let (_, r) = rs
        .iter()
        .find(|(_, r)| r.me == leader)
        .expect("the leader's report");
    for name in locks {
        let lock = r.locks.iter().find(|l| l.name == *name);
        assert!(
            lock.is_some_and(|l| l.members == 2),
            "the leader is not in lock {name}'s view: {lock:?}"
        );
    }
}

#[test]
fn leader_replaced_and_clocks_estimated() {
    let mut sim = simulator(MutexKind::Central);
    let user = *sim
        .live()
        .iter()
        .min_by_key(|a| sim.contact(**a).id)
        .expect("nodes");
    // Lock y is taken before the node knows a leader, z after.
    let take = |sim: &mut Sim, lock: &str, ticket: u64| {
        let cmd = CoordinationCommand::Acquire {
            group: "default".into(),
            lock: lock.into(),
            ticket,
        };
        sim.command(user, Command::app(cmd));
    };
    take(&mut sim, "y", 100);
    sim.run_until(sim.now() + Duration::from_secs(30));
    take(&mut sim, "z", 101);
    sim.run_until(sim.now() + Duration::from_secs(20));
    check_leader(&mut sim);
    check_offsets(&mut sim);
    check_leader_coordinates(&mut sim, &["y", "z"]);
    // The leader, then the next one, crash: membership drops each within its timeout, and
    // the election picks the next highest.
    for _ in 0..2 {
        let leader = highest(&sim);
        let addr = *sim
            .live()
            .iter()
            .find(|a| sim.contact(**a).id == leader)
            .expect("the leader");
        sim.crash(addr);
        sim.run_until(sim.now() + Duration::from_secs(40));
        check_leader(&mut sim);
        check_offsets(&mut sim);
        check_leader_coordinates(&mut sim, &["y", "z"]);
    }
}

#[test]
fn a_node_in_as_many_groups_and_locks_as_allowed_refuses_another_lock() {
    let mut sim = Sim::with_apps(
        Default::default(),
        SimConfig::default(),
        3,
        Arc::new(|_: &overlay::Contact<u32>| {
            let membership = coordination::membership::MembershipConfig {
                max_groups: 2,
                ..Default::default()
            };
            let cfg = CoordinationConfig {
                membership: Arc::new(membership),
                ..CoordinationConfig::default()
            };
            (Coordination::new(cfg), ())
        }),
    );
    sim.build_oracle(4);
    let node = sim.live()[0];
    for (ticket, lock) in [(1, "a"), (2, "b")] {
        let cmd = CoordinationCommand::Acquire {
            group: "default".into(),
            lock: lock.into(),
            ticket,
        };
        sim.command(node, Command::app(cmd));
    }
    sim.run_until(sim.now() + Duration::from_secs(30));
    let outcome = |ticket: u64| {
        sim.events
            .iter()
            .find_map(|e| match e.event.app::<CoordinationEvent<u32>, _>() {
                Some(CoordinationEvent::Acquired(t)) if *t == ticket && e.node == node => {
                    Some(Ok(()))
                }
                Some(CoordinationEvent::Refused { ticket: t, reason }) if *t == ticket => {
                    Some(Err(reason.clone()))
                }
                _ => None,
            })
    };
    assert_eq!(outcome(1), Some(Ok(())), "the first lock is granted");
    let refused = outcome(2).expect("an answer for the second lock");
    assert!(
        refused
            .as_ref()
            .is_err_and(|r| r.contains("2 groups and locks")),
        "{refused:?}"
    );
}
