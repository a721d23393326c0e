//! How long a message takes between two simulated nodes.

use std::time::Duration;

use rand::{Rng, RngExt};

/// A latency model for the simulator.
#[derive(Clone, Debug, PartialEq)]
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
    /// Where a new node sits (only the plane model uses it).
    pub fn place(&self, rng: &mut dyn Rng) -> (f32, f32) {
        match self {
            LatencyModel::Plane { .. } => (rng.random::<f32>(), rng.random::<f32>()),
            _ => (0.0, 0.0),
        }
    }

    /// One message's delay between nodes at `a` and `b`.
    pub fn delay(&self, a: (f32, f32), b: (f32, f32), rng: &mut dyn Rng) -> Duration {
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
                let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() as f64;
                *base + per_unit.mul_f64(d)
            }
        }
    }
}
