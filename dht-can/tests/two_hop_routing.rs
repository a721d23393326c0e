//! Next hops among the neighbours' neighbours too (`two_hop_routing`): every lookup still
//! reaches the true owner, in far fewer hops than from neighbour to neighbour.

use std::time::Duration;

use dht_can::{Can, CanConfig};
use overlay::conformance;
use overlay::sim::LookupStats;
use overlay::{Command, Key};

const LOOKUPS: u64 = 2000;

/// `LOOKUPS` lookups for random keys from random nodes in a network of `nodes` grown by
/// joins (the neighbours' listings are learned from their updates, which the oracle build
/// does not make).
fn lookups(config: CanConfig, nodes: usize) -> LookupStats {
    let mut sim = conformance::grown::<Can<u32>>(&config, nodes, 7);
    for op in 0..LOOKUPS {
        let from = sim.random_joined().expect("nodes");
        let key = Key::random(sim.rng());
        sim.command(from, Command::lookup(op, key));
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let stats = sim.lookup_stats.clone();
    assert_eq!(
        stats.succeeded(),
        LOOKUPS,
        "lookups did not all finish: {stats:?}"
    );
    assert_eq!(stats.wrong, 0, "wrong owners: {stats:?}");
    stats
}

/// Each hop can cover two zones, so paths shrink by well over a quarter (about half, as
/// greedy routing over neighbours' neighbours does in Manku et al.'s analysis).
#[test]
fn neighbours_neighbours_shorten_lookups() {
    for dims in [2, 4] {
        let basic = CanConfig {
            dims,
            ..CanConfig::default()
        };
        let two_hops = CanConfig {
            two_hop_routing: true,
            ..basic.clone()
        };
        let (one, two) = (lookups(basic, 500), lookups(two_hops, 500));
        eprintln!(
            "d = {dims}: {:.2} hops over neighbours' neighbours, {:.2} over neighbours",
            two.mean_hops(),
            one.mean_hops()
        );
        assert!(
            two.mean_hops() <= one.mean_hops() * 0.75,
            "d = {dims}: {:.2} hops over neighbours' neighbours against {:.2} over neighbours",
            two.mean_hops(),
            one.mean_hops()
        );
    }
}
