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
        told.extend(t.backpointers().map(|b| (b.id, id)));
    }
    (held, told)
}

/// Backpointers are soft state: a request to a live node that times out (a long link,
/// a queue) makes each side drop the other for a while, and a map change is told a few
/// seconds late. So at any instant a few links may be missing from one side or the
/// other, but no more than that.
fn assert_mirror(sim: &Simulator<Tapestry<u32>>, when: &str) {
    let (held, told) = pairs(sim);
    let missing = held.difference(&told).count();
    let stale = told.difference(&held).count();
    let limit = held.len() / 1000;
    assert!(
        missing <= limit && stale <= limit,
        "{when}: of {} map entries {missing} have no backpointer; {stale} backpointers are stale",
        held.len()
    );
}

#[test]
fn backpointers_mirror_the_maps() {
    let cfg = TapestryConfig::default();
    let mut sim = grown::<Tapestry<u32>>(&cfg, 300, 5);
    // Map changes are told once per heartbeat period.
    let until = sim.now() + cfg.ping_interval + Duration::from_secs(5);
    sim.run_until(until);
    assert_mirror(&sim, "a period after growing");

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
    assert_mirror(&sim, "after 15 leaves and 15 crashes");
}

#[test]
fn an_oracle_built_network_learns_its_backpointers_from_heartbeats() {
    let cfg = TapestryConfig::default();
    let mut sim = Simulator::<Tapestry<u32>>::new(cfg, SimConfig::default(), 6);
    sim.build_oracle(300);
    assert!(pairs(&sim).1.is_empty(), "the oracle tells no backpointers");
    let until = sim.now() + Duration::from_secs(1800);
    sim.run_until(until);
    assert_mirror(&sim, "after 30 minutes of heartbeats");
}
