//! Neighbours that no third node knows in common (four zones meeting at a corner) still
//! find each other after concurrent splits.

use std::time::Duration;

use dht_can::{Can, CanConfig};
use overlay::sim::{SimConfig, Simulator};

#[test]
fn every_node_of_a_grown_network_converges() {
    let mut sim = Simulator::<Can<u32>>::new(CanConfig::default(), SimConfig::default(), 1);
    sim.grow(3000, Duration::from_secs(30), 0.1, |_, _| {});
    // Before strangers were answered, 4 of these 3000 nodes never learned a neighbour
    // across such a corner, however long maintenance ran.
    let fraction = sim.settle(Duration::from_secs(3000), Duration::from_secs(30));
    assert_eq!(fraction, 1.0, "{:.2}% converged", fraction * 100.0);
}
