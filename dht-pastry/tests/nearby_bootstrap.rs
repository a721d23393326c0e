//! Proximity neighbour selection starts from the joining node's bootstrap: joined through
//! nearby nodes, as Pastry's join assumes, tables end up nearer than joined through
//! random ones, and nearby-node discovery finds such a node from a random one.

use std::sync::Arc;
use std::time::Duration;

use dht_pastry::{Pastry, PastryConfig};
use overlay::sim::{Bootstrap, LatencyModel, SimConfig, Simulator, TransitStubConfig, Underlay};

/// Mean delay from each node to the entries of its routing table's first row, after
/// growing 400 nodes through `bootstrap` (looking for a nearby node first if `discover`)
/// on a small transit-stub topology and letting maintenance run.
fn row_zero_delay_ms(bootstrap: Bootstrap, discover: bool) -> f64 {
    let topology = TransitStubConfig {
        transit_domains: 4,
        transit_routers: 3,
        stubs_per_transit_router: 3,
        stub_routers: 5,
        ..TransitStubConfig::default()
    };
    let underlay = Arc::new(Underlay::transit_stub(&topology, 7));
    let cfg = SimConfig {
        latency: LatencyModel::Underlay(Arc::clone(&underlay)),
        bootstrap,
        ..SimConfig::default()
    };
    let round = Duration::from_secs(5);
    let pastry = PastryConfig {
        discover_nearby: discover,
        ..PastryConfig::default()
    };
    let mut sim = Simulator::<Pastry<u32>>::new(pastry, cfg, 7);
    sim.grow(400, round, 0.1, |_, _| {});
    sim.run_until(sim.now() + round * 10);
    let (mut sum, mut count) = (0.0, 0usize);
    for &a in sim.live() {
        let Some(node) = sim.node(a) else { continue };
        for e in node.routing().table().row(0) {
            sum += underlay.delay(a, e.contact.addr).as_secs_f64() * 1e3;
            count += 1;
        }
    }
    assert!(count > 400 * 5, "first rows are filled ({count} entries)");
    sum / count as f64
}

/// Checks that joining as `how` leaves first rows at least 10% nearer than joining
/// through random nodes.
fn nearer_than_random(how: &str, bootstrap: Bootstrap, discover: bool) {
    let ms = row_zero_delay_ms(bootstrap, discover);
    let random = row_zero_delay_ms(Bootstrap::Random, false);
    eprintln!("first-row entries: {ms:.1} ms away {how}, {random:.1} ms through random nodes");
    assert!(
        ms < random * 0.9,
        "{how}: {ms:.1} ms; through random nodes: {random:.1} ms"
    );
}

#[test]
fn nearby_bootstraps_give_nearer_tables() {
    nearer_than_random("joined through nearby nodes", Bootstrap::Nearest, false);
}

#[test]
fn discovery_from_random_bootstraps_gives_nearer_tables() {
    nearer_than_random(
        "joined through a node found nearby",
        Bootstrap::Random,
        true,
    );
}
