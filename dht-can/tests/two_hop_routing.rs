//! Next hops among the neighbours' neighbours too (`two_hop_routing`): every lookup still
//! reaches the true owner, in far fewer hops than from neighbour to neighbour.

use dht_can::{Can, CanConfig};
use overlay::conformance;
use overlay::sim::LookupStats;

/// 2,000 lookups for random keys from random nodes in a network of `nodes` grown by joins
/// (the neighbours' listings are learned from their updates, which the oracle build does
/// not make).
fn lookups(config: CanConfig, nodes: usize) -> LookupStats {
    let mut sim = conformance::grown::<Can<u32>>(&config, nodes, 7);
    conformance::lookup_stats(&mut sim, 2000)
}

/// Each hop can cover two zones, so paths shrink by well over a quarter (by about half in
/// these networks: 10.47 to 5.38 hops in two dimensions, 4.69 to 2.56 in four).
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

/// Owners found by earlier lookups, kept with their zones, take later lookups straight to
/// their region: after 4,000 lookups in a network of 64, the next 2,000 take far fewer
/// hops than without them, every one still reaching the true owner.
#[test]
fn owners_found_by_lookups_shorten_later_lookups() {
    let with = CanConfig {
        two_hop_routing: true,
        ..CanConfig::default()
    };
    let without = CanConfig {
        far_peers: 0,
        ..with.clone()
    };
    let later = |config: CanConfig| {
        let mut sim = conformance::grown::<Can<u32>>(&config, 64, 7);
        conformance::lookup_stats(&mut sim, 4000);
        conformance::lookup_stats(&mut sim, 2000)
    };
    let (cached, uncached) = (later(with), later(without));
    eprintln!(
        "{:.2} hops with the owners found, {:.2} without",
        cached.mean_hops(),
        uncached.mean_hops()
    );
    assert!(
        cached.mean_hops() <= uncached.mean_hops() * 0.8,
        "{:.2} hops with the owners found against {:.2} without",
        cached.mean_hops(),
        uncached.mean_hops()
    );
}
