//! Every node knows exactly which nodes hold it in their neighbour maps: after a
//! protocol-grown network settles, and again after some nodes left and others crashed.

use std::collections::BTreeSet;
use std::time::Duration;

use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::Key;
use overlay::conformance::grown;
use overlay::sim::{SimConfig, Simulator};

/// (holder, held) pairs.
type Links = BTreeSet<(Key, Key)>;

/// The links as the maps say, and as the backpointers say.
fn pairs(sim: &Simulator<Tapestry<u32>>) -> (Links, Links) {
    let mut held = BTreeSet::new();
    let mut told = BTreeSet::new();
    for &a in sim.live() {
        let node = sim.node(a).expect("live");
        let (t, id) = (node.routing(), node.me().id);
        held.extend(t.neighbour_map().slots().iter().map(|c| (id, c.id)));
        told.extend(t.backpointers().iter().map(|b| (b.id, id)));
    }
    (held, told)
}

fn assert_exact(sim: &Simulator<Tapestry<u32>>, when: &str) {
    let (held, told) = pairs(sim);
    let missing = held.difference(&told).count();
    let stale = told.difference(&held).count();
    assert_eq!(
        (missing, stale),
        (0, 0),
        "{when}: of {} map entries {missing} have no backpointer; {stale} backpointers are stale",
        held.len()
    );
}

#[test]
fn backpointers_mirror_the_maps() {
    let cfg = TapestryConfig::default();
    let mut sim = grown::<Tapestry<u32>>(&cfg, 300, 5);
    assert_exact(&sim, "after growing");

    let live = sim.live().to_vec();
    for (i, &a) in live.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        if i % 20 == 0 {
            sim.leave(a);
        } else {
            sim.crash(a);
        }
    }
    // Long enough for the heartbeats to find the crashed nodes, in maps and backpointers.
    let until = sim.now() + Duration::from_secs(3600);
    sim.run_until(until);
    assert_exact(&sim, "after 15 leaves and 15 crashes");
}

#[test]
fn an_oracle_built_network_learns_its_backpointers_from_heartbeats() {
    let cfg = TapestryConfig::default();
    let mut sim = Simulator::<Tapestry<u32>>::new(cfg, SimConfig::default(), 6);
    sim.build_oracle(300);
    assert!(pairs(&sim).1.is_empty(), "the oracle tells no backpointers");
    let until = sim.now() + Duration::from_secs(1800);
    sim.run_until(until);
    assert_exact(&sim, "after 30 minutes of heartbeats");
}
