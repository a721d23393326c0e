//! Crashes that leave neighbour lists a period stale: a node and its neighbours crash
//! together right after the overlay converged, and the takers of the neighbours' zones,
//! who may not have heard of each other, contest them; the first node's zone, whose every
//! neighbour crashed, is claimed second-hand. After maintenance every point has exactly
//! one live owner.

use std::time::Duration;

use dht_can::{Can, CanConfig, Zone};
use overlay::conformance::grown;

fn live_zones(sim: &overlay::sim::Simulator<Can<u32>>) -> Vec<(u32, Zone)> {
    sim.live()
        .iter()
        .flat_map(|&a| {
            let zones = sim.node(a).expect("live").routing().zones().to_vec();
            zones.into_iter().map(move |z| (a, z))
        })
        .collect()
}

#[test]
fn every_point_has_one_owner_after_a_regional_crash() {
    for (dims, seed) in [2, 3]
        .into_iter()
        .flat_map(|d| (1..=30).map(move |s| (d, s)))
    {
        let cfg = CanConfig {
            dims,
            ..CanConfig::default()
        };
        let mut sim = grown::<Can<u32>>(&cfg, 120, seed);
        let x = sim.live()[7];
        let region: Vec<u32> = sim
            .node(x)
            .expect("live")
            .routing()
            .neighbours()
            .iter()
            .map(|n| n.peer.contact.addr)
            .chain([x])
            .collect();
        for &a in &region {
            sim.crash(a);
        }
        let until = sim.now() + Duration::from_secs(900);
        sim.run_until(until);

        let zones = live_zones(&sim);
        let total: f64 = zones.iter().map(|(_, z)| z.volume()).sum();
        for (i, (a, z)) in zones.iter().enumerate() {
            for (b, w) in &zones[i + 1..] {
                assert!(
                    !(z.covers(w) || w.covers(z)),
                    "d={dims} seed {seed}: nodes {a} and {b} both own {z:?} / {w:?}"
                );
            }
        }
        // The crashed node's zone has no live neighbour: its neighbours' takers claim it
        // from their listings, so the live zones tile the whole space again.
        assert!(
            (total - 1.0).abs() < 1e-9,
            "d={dims} seed {seed}: live zones cover {total} of the space"
        );
    }
}
