//! Nodes joining all at once over fast links: every two nodes whose zones abut must
//! list each other once the joins are over, or greedy routes dead-end beside the pair.

use std::time::Duration;

mod common;

use dht_can::Can;
use overlay::Routing;
use overlay::sim::Simulator;

const NODES: usize = 128;

/// Real nodes' settings over links of 1–20 ms each way.
fn lan(seed: u64) -> Simulator<Can<u32>> {
    common::real_settings(seed, Duration::from_millis(20))
}

/// Pairs of live nodes whose zones abut but that do not both list each other.
fn unlinked_pairs(sim: &Simulator<Can<u32>>) -> Vec<(u32, u32)> {
    let d = sim.routing_config().dims;
    let live = sim.live();
    let mut missing = Vec::new();
    for (i, &a) in live.iter().enumerate() {
        let ra = sim.node(a).expect("live").routing();
        for &b in &live[i + 1..] {
            let rb = sim.node(b).expect("live").routing();
            let abut = ra.zones().iter().any(|za| {
                rb.zones()
                    .iter()
                    .any(|zb| za.bounds(d).abuts(&zb.bounds(d), d))
            });
            let knows = |r: &Can<u32>, other: &Can<u32>| {
                r.neighbours()
                    .iter()
                    .any(|n| n.peer.contact.id == other.me().id)
            };
            if abut && !(knows(ra, rb) && knows(rb, ra)) {
                missing.push((a, b));
            }
        }
    }
    missing
}

#[test]
fn nodes_joining_together_link_every_abutting_pair() {
    for seed in 1..=12 {
        let mut sim = lan(seed);
        common::start_together(&mut sim, NODES);
        // The joins are over within about 3 s.
        sim.run_until(sim.now() + Duration::from_secs(20));
        let missing = unlinked_pairs(&sim);
        assert!(
            missing.is_empty(),
            "seed {seed}: abutting pairs that do not list each other: {missing:?}"
        );
        common::random_lookups(&mut sim, 1000);
        sim.run_until(sim.now() + Duration::from_secs(30));
        let stats = &sim.lookup_stats;
        assert_eq!(stats.failed, 0, "seed {seed}: lookups failed");
        assert_eq!(stats.succeeded(), 1000, "seed {seed}: lookups unfinished");
    }
}
