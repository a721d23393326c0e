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

/// 128 nodes joining at the same moment through one node, as `p2p bench net --churn` and
/// `p2p demo` start them: the successor pointers may first close into two rings that
/// interleave on the circle, which `stabilize` alone never merges; the ring check merges
/// them, and every node's tables match the converged ones within 24 rounds.
#[test]
fn nodes_joining_at_once_through_one_node_close_one_ring() {
    for seed in 1..=4 {
        let cfg = ChordConfig::default();
        let round = cfg.stabilize_interval;
        let mut sim = Simulator::<Chord<u32>>::new(cfg, SimConfig::default(), seed);
        let first = sim.spawn(None);
        let joined = sim.now() + round;
        sim.run_until(joined);
        for _ in 1..128 {
            sim.spawn(Some(first));
        }
        let fraction = sim.settle(round * 24, round);
        assert_eq!(
            fraction,
            1.0,
            "seed {seed}: only {:.1}% of the nodes converged within 24 rounds",
            fraction * 100.0
        );
    }
}
