//! Many nodes joining at once: the ring (and then the fingers) converge within a bounded
//! number of maintenance rounds, not one node of a crowded gap per round.

use dht_chord::{Chord, ChordConfig};
use overlay::sim::{SimConfig, Simulator};

/// 400 nodes joining at 25% of the ring's size per stabilize round: every node's tables
/// match the converged ones within 16 rounds after the last join.
#[test]
fn a_ring_growing_a_quarter_per_round_converges() {
    let cfg = ChordConfig::default();
    let round = cfg.stabilize_interval;
    let mut sim = Simulator::<Chord<u32>>::new(cfg, SimConfig::default(), 5);
    sim.grow(400, round, 0.25, |_, _| {});
    let fraction = sim.settle(round * 16, round);
    assert_eq!(
        fraction,
        1.0,
        "only {:.1}% of the nodes converged within 16 rounds",
        fraction * 100.0
    );
}
