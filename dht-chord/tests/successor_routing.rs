//! Next hops from the successor list as well as the fingers (`route_through_successors`):
//! every lookup still reaches the true root, in fewer hops than over the fingers alone.

use std::time::Duration;

use dht_chord::{Chord, ChordConfig};
use overlay::conformance;
use overlay::conformance::kbr::ProbeApps;
use overlay::conformance::probe::{ProbeCommand, ProbeEvent};
use overlay::sim::{LookupStats, SimConfig, Simulator};
use overlay::{Command, NodeId};

/// 2,000 lookups for random keys from random nodes over oracle-built tables of `nodes`
/// nodes (the same network and the same lookups for the same `nodes`).
fn lookups(config: ChordConfig, nodes: usize) -> LookupStats {
    let mut sim = Simulator::<Chord<u32>>::new(config, SimConfig::default(), 7);
    sim.build_oracle(nodes);
    conformance::lookup_stats(&mut sim, 2000)
}

fn through_successors() -> ChordConfig {
    ChordConfig {
        route_through_successors: true,
        ..ChordConfig::default()
    }
}

/// With 16 successors, the last hops of a lookup over the fingers alone (the ones that
/// halve distances shorter than the successor list's reach) collapse into one: most of a
/// hop goes (0.8 at 32 nodes, 0.9 at 1,000).
#[test]
fn successor_list_next_hops_shorten_lookups() {
    for nodes in [32, 1000] {
        let fingers = lookups(ChordConfig::default(), nodes);
        let successors = lookups(through_successors(), nodes);
        eprintln!(
            "{nodes} nodes: {:.2} hops through the successor list, {:.2} over the fingers",
            successors.mean_hops(),
            fingers.mean_hops()
        );
        assert!(
            successors.mean_hops() <= fingers.mean_hops() - 0.5,
            "{nodes} nodes: {:.2} hops through the successor list against {:.2} over the fingers",
            successors.mean_hops(),
            fingers.mean_hops()
        );
    }
}

/// In a 32-node ring a node's 16 successors cover half of it and its farthest finger
/// reaches into the other half, whose nodes are in that finger's successor list.
#[test]
fn small_rings_take_at_most_two_hops() {
    let stats = lookups(through_successors(), 32);
    assert!(stats.hops.len() <= 3, "hop histogram {:?}", stats.hops);
}

/// A routed message goes straight to the root a node's successor list names. A list that
/// has not heard of a newcomer yet names the newcomer's successor as the root of the
/// newcomer's keys; that node already knows its new predecessor, so it passes the message
/// on instead of delivering it, and the message reaches the newcomer.
#[test]
fn a_root_named_from_a_stale_successor_list_passes_the_message_on() {
    type Sim = Simulator<Chord<u32>, ProbeApps<u32>>;
    let mut sim: Sim = conformance::grown_with(&through_successors(), 32, 11);
    let bootstrap = sim.live()[0];
    let newcomer = sim.spawn(Some(bootstrap));
    let id = sim.contact(newcomer).id;
    let chord = |sim: &Sim, addr: u32| sim.node(addr).expect("live").routing().clone();
    let deadline = sim.now() + Duration::from_secs(300);
    sim.run_until_done(deadline, |sim| {
        let Some(s) = sim
            .node(newcomer)
            .and_then(|n| n.routing().successors().first().cloned())
        else {
            return false;
        };
        chord(sim, s.addr).predecessor().is_some_and(|p| p.id == id)
    });
    let successor = chord(&sim, newcomer).successors()[0].clone();
    assert_eq!(
        chord(&sim, successor.addr).predecessor().map(|p| p.id),
        Some(id)
    );
    // Nodes whose lists reach past the newcomer's place without naming it.
    let stale: Vec<u32> = sim
        .live()
        .iter()
        .copied()
        .filter(|&a| a != newcomer && a != successor.addr)
        .filter(|&a| {
            let list = chord(&sim, a).successors().to_vec();
            list.iter().skip(1).any(|c| c.id == successor.id) && list.iter().all(|c| c.id != id)
        })
        .collect();
    assert!(!stale.is_empty(), "no node with a stale successor list");
    sim.events.clear();
    for (tag, &from) in stale.iter().enumerate() {
        let cmd = ProbeCommand::Route {
            tag: tag as u64,
            key: id,
            stop_at: None,
            redirect: None,
        };
        sim.command(from, Command::app(cmd));
    }
    let until = sim.now() + Duration::from_secs(10);
    sim.run_until(until);
    let delivered: Vec<(u64, NodeId)> = sim
        .events
        .iter()
        .filter_map(|e| match e.event.app::<ProbeEvent, _>() {
            Some(ProbeEvent::Delivered { tag, at, .. }) => Some((*tag, *at)),
            _ => None,
        })
        .collect();
    assert_eq!(delivered.len(), stale.len(), "deliveries {delivered:?}");
    assert!(
        delivered.iter().all(|(_, at)| *at == id),
        "delivered off the newcomer: {delivered:?}"
    );
}
