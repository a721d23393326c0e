//! Next hops from the successor list as well as the fingers (`route_through_successors`):
//! every lookup still reaches the true root, in fewer hops than over the fingers alone.

use dht_chord::{Chord, ChordConfig};
use overlay::conformance;
use overlay::sim::{LookupStats, SimConfig, Simulator};

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
