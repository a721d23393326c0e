//! How long a message takes between two simulated nodes.

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, RngExt};

use crate::sim::topology::Underlay;

/// A latency model for the simulator.
#[derive(Clone, Debug)]
pub enum LatencyModel {
    /// Every message takes the same time.
    Constant(Duration),
    /// Each message takes a time drawn uniformly from `[min, max]`.
    Uniform {
        /// Shortest.
        min: Duration,
        /// Longest.
        max: Duration,
    },
    /// Nodes sit at uniform random points of a unit square; a message takes `base` plus
    /// `per_unit` times the Euclidean distance (so nearby nodes are fast, as on the
    /// Internet, which proximity-aware overlays exploit).
    Plane {
        /// Fixed part (processing, access links).
        base: Duration,
        /// Added per unit of distance (the square's side is 1).
        per_unit: Duration,
    },
    /// Nodes attach to the stub routers of a router-level topology; a message takes the
    /// shortest path between their routers ([`Underlay`]).
    Underlay(Arc<Underlay>),
}

impl PartialEq for LatencyModel {
    fn eq(&self, other: &Self) -> bool {
        use LatencyModel::*;
        match (self, other) {
            (Constant(a), Constant(b)) => a == b,
            (Uniform { min: a, max: b }, Uniform { min: c, max: d }) => a == c && b == d,
            (
                Plane {
                    base: a,
                    per_unit: b,
                },
                Plane {
                    base: c,
                    per_unit: d,
                },
            ) => a == c && b == d,
            (Underlay(a), Underlay(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel::Plane {
            base: Duration::from_millis(5),
            per_unit: Duration::from_millis(100),
        }
    }
}

impl LatencyModel {
    /// Where node `addr` sits: a uniform point of the unit square drawn from a seeded hash
    /// of its address, so the simulator computes it instead of fetching it from memory.
    pub fn place(seed: u64, addr: u32) -> (f32, f32) {
        let h = splitmix64(seed ^ u64::from(addr));
        let unit = |bits: u64| (bits as f64 / (1u64 << 32) as f64) as f32;
        (unit(h >> 32), unit(h & 0xffff_ffff))
    }

    /// One message's delay from node `from` to node `to` of a simulation seeded `seed`.
    pub fn delay(&self, seed: u64, from: u32, to: u32, rng: &mut dyn Rng) -> Duration {
        match self {
            LatencyModel::Constant(d) => *d,
            LatencyModel::Uniform { min, max } => {
                let (lo, hi) = (min.as_micros() as u64, max.as_micros() as u64);
                Duration::from_micros(if hi > lo {
                    rng.random_range(lo..=hi)
                } else {
                    lo
                })
            }
            LatencyModel::Plane { base, per_unit } => {
                let (a, b) = (Self::place(seed, from), Self::place(seed, to));
                let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() as f64;
                *base + per_unit.mul_f64(d)
            }
            LatencyModel::Underlay(u) => u.delay(from, to),
        }
    }
}

/// SplitMix64: a fast, well-mixed 64-bit hash (Steele et al. 2014).
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn plane_delays_grow_with_distance_and_stay_in_range() {
        let model = LatencyModel::default();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let mut delays: Vec<Duration> = (0..1000).map(|i| model.delay(7, 0, i, &mut rng)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(5) && *d <= Duration::from_millis(147))
        );
        assert_eq!(model.delay(7, 3, 3, &mut rng), Duration::from_millis(5));
        delays.sort();
        assert!(
            delays[900] > delays[100],
            "points are spread over the square"
        );
    }
}
