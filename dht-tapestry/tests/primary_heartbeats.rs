//! Tapestry as real nodes run it: heartbeats go only to each entry's closest node, and a
//! backup is probed when it moves up. Crashes are still found and routed around, and no
//! entry is left fronted by a crashed node.

use std::collections::HashSet;

use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::Key;
use overlay::conformance::{self, grown};

type C = Tapestry<u32>;

fn primaries_only() -> TapestryConfig {
    TapestryConfig {
        backup_probes: Some(0),
        ..TapestryConfig::default()
    }
}

#[test]
fn crash_then_repair_keeps_surviving_keys() {
    conformance::crash_then_repair_keeps_surviving_keys::<C>(&primaries_only());
}

#[test]
fn lookups_right_after_a_mass_crash_route_around_it() {
    conformance::lookups_right_after_a_mass_crash_route_around_it::<C>(&primaries_only());
}

/// A crashed closest node is found by the rotating heartbeat, and the backup that moves
/// up in its place is probed at once, so a chain of crashed backups is walked down to a
/// live node; and since rows are shared with their closest nodes only, a crashed backup is
/// not handed on to other maps, where it could come to the front again.
#[test]
fn every_entry_is_fronted_by_a_live_node_after_crashes() {
    let cfg = primaries_only();
    let mut sim = grown::<C>(&cfg, 300, 7);
    let live = sim.live().to_vec();
    for &a in live.iter().step_by(4) {
        sim.crash(a);
    }
    let until = sim.now() + cfg.ping_interval * 12;
    sim.run_until(until);
    let live = sim.live().to_vec();
    let ids: HashSet<Key> = live
        .iter()
        .map(|&b| sim.node(b).expect("live").me().id)
        .collect();
    let mut fronts = 0;
    for &a in &live {
        let map = sim.node(a).expect("live").routing().neighbour_map();
        for (_, front) in map.primaries() {
            fronts += 1;
            let alive = ids.contains(&front.id);
            assert!(
                alive,
                "node {a}: an entry is fronted by crashed node {front:?}"
            );
        }
    }
    assert!(
        fronts > live.len() * 10,
        "maps too thin to tell: {fronts} entries"
    );
}
