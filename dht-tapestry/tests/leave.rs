//! A graceful leave hands each neighbour just the nodes that can take the leaver's place
//! in its map: the maps are right again before a heartbeat could notice the absence.

use std::time::Duration;

use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::conformance::grown;

#[test]
fn maps_are_repaired_from_the_leave_notices_alone() {
    let cfg = TapestryConfig::default();
    let mut sim = grown::<Tapestry<u32>>(&cfg, 300, 3);
    let leavers: Vec<u32> = sim.live().iter().step_by(10).copied().collect();
    for &a in &leavers {
        sim.leave(a);
        let until = sim.now() + Duration::from_millis(500);
        sim.run_until(until);
    }
    // Well within one heartbeat period: only the notices can have repaired the maps.
    assert!(cfg.ping_interval > Duration::from_secs(20));
    let until = sim.now() + Duration::from_secs(2);
    sim.run_until(until);
    // The leaver tells its backpointers too, so a node it does not hold itself hears of it.
    // Without backpointers 1.5% of the maps still held a leaver; when every neighbour was
    // handed the leaver's whole map, 10% were wrong.
    let f = sim.converged_fraction();
    assert_eq!(f, 1.0, "only {:.1}% of the maps are right", f * 100.0);
}
