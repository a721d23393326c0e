//! Group membership in the simulator over every overlay: every member of a group comes to
//! the same view; crashes (the root's included), a member leaving the group and a node
//! leaving the overlay each give every live member the new view; views only grow.

use std::collections::BTreeSet;
use std::time::Duration;

use coordination::membership::{Membership, MembershipCommand};
use overlay::sim::{SimConfig, SimRouting, Simulator};
use overlay::{Command, Key, NodeId};

type Apps = overlay::apps![Membership<u32>];

const NODES: usize = 60;

fn membership<R: SimRouting>(sim: &Simulator<R, Apps>, addr: u32) -> Option<&Membership<u32>> {
    sim.node(addr).map(|n| &n.apps().0)
}

/// Runs until every live member of `members` has the view of exactly the live members,
/// all with one epoch; returns that epoch. Panics after `secs` of simulated time.
fn settle<R: SimRouting>(
    sim: &mut Simulator<R, Apps>,
    group: &Key,
    members: &BTreeSet<u32>,
    secs: u64,
) -> u64 {
    let deadline = sim.now() + Duration::from_secs(secs);
    let live: Vec<u32> = members
        .iter()
        .copied()
        .filter(|m| sim.node(*m).is_some())
        .collect();
    let want: BTreeSet<NodeId> = live.iter().map(|m| sim.contact(*m).id).collect();
    let agreed = |sim: &Simulator<R, Apps>| {
        let views: Vec<Option<(u64, BTreeSet<NodeId>)>> = live
            .iter()
            .map(|m| {
                membership(sim, *m)
                    .and_then(|x| x.view(group))
                    .map(|(e, ms)| (e, ms.iter().map(|c| c.id).collect()))
            })
            .collect();
        views.iter().all(|v| {
            v.as_ref()
                .is_some_and(|(e, ms)| *ms == want && Some(*e) == views[0].as_ref().map(|v| v.0))
        })
    };
    sim.run_until_done(deadline, agreed);
    assert!(
        agreed(sim),
        "views did not converge on the {} live members",
        live.len()
    );
    membership(sim, live[0])
        .and_then(|x| x.view(group))
        .map(|v| v.0)
        .expect("a view")
}

fn scenario<R: SimRouting>(cfg: R::Config) {
    let mut sim = Simulator::<R, Apps>::with_apps(
        cfg,
        SimConfig::default(),
        5,
        std::sync::Arc::new(|_: &overlay::Contact<u32>| (Membership::default(), ())),
    );
    sim.build_oracle(NODES);
    let group = Key::hash("default");
    let mut members: BTreeSet<u32> = sim.live().iter().copied().step_by(3).collect();
    for m in &members {
        sim.command(*m, Command::app(MembershipCommand::Join(group)));
    }
    let first = settle(&mut sim, &group, &members, 60);

    // The root (member or not) and three members crash together.
    let root = sim.truth_root(&group).expect("a root");
    let victims: Vec<u32> = std::iter::once(root)
        .chain(members.iter().copied().filter(|m| *m != root).take(3))
        .collect();
    for v in &victims {
        sim.crash(*v);
    }
    let after_crash = settle(&mut sim, &group, &members, 120);
    assert!(
        after_crash > first,
        "views only grow: {first} then {after_crash}"
    );

    // A member leaves the group; another node leaves the overlay.
    let quitter = *members
        .iter()
        .find(|m| sim.node(**m).is_some())
        .expect("a live member");
    sim.command(quitter, Command::app(MembershipCommand::Leave(group)));
    members.remove(&quitter);
    let after_quit = settle(&mut sim, &group, &members, 60);
    assert!(after_quit > after_crash);
    let leaver = *members
        .iter()
        .filter(|m| sim.node(**m).is_some())
        .nth(2)
        .expect("a live member");
    sim.leave(leaver);
    members.remove(&leaver);
    let after_leave = settle(&mut sim, &group, &members, 60);
    assert!(after_leave > after_quit);

    // New members join.
    let newcomers: Vec<u32> = sim
        .live()
        .iter()
        .copied()
        .filter(|a| !members.contains(a))
        .take(4)
        .collect();
    for n in &newcomers {
        sim.command(*n, Command::app(MembershipCommand::Join(group)));
        members.insert(*n);
    }
    settle(&mut sim, &group, &members, 60);
}

#[test]
fn membership_over_chord() {
    scenario::<dht_chord::Chord<u32>>(dht_chord::ChordConfig::default());
}

#[test]
fn membership_over_pastry() {
    scenario::<dht_pastry::Pastry<u32>>(dht_pastry::PastryConfig::default());
}

#[test]
fn membership_over_tapestry() {
    scenario::<dht_tapestry::Tapestry<u32>>(dht_tapestry::TapestryConfig::default());
}

#[test]
fn membership_over_can() {
    scenario::<dht_can::Can<u32>>(dht_can::CanConfig::default());
}
