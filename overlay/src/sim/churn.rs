//! Membership churn: Poisson arrivals and exponentially distributed session times.

use std::time::Duration;

use rand::{Rng, RngExt};

/// A churn process for the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct ChurnConfig {
    /// Mean arrivals per second (Poisson).
    pub join_rate: f64,
    /// Median session length; sessions are exponential with this median.
    pub session_median: Duration,
    /// Fraction of departures that are graceful leaves (the rest are crashes).
    pub graceful_fraction: f64,
}

impl ChurnConfig {
    /// Churn that keeps `n` nodes on average: arrivals balance departures.
    pub fn balanced(n: usize, session_median: Duration, graceful_fraction: f64) -> Self {
        let mean = session_median.as_secs_f64() / std::f64::consts::LN_2;
        ChurnConfig {
            join_rate: n as f64 / mean,
            session_median,
            graceful_fraction,
        }
    }

    /// Mean session length.
    pub fn session_mean(&self) -> Duration {
        self.session_median.div_f64(std::f64::consts::LN_2)
    }

    /// Time to the next arrival.
    pub fn next_arrival(&self, rng: &mut dyn Rng) -> Duration {
        exponential(rng, 1.0 / self.join_rate)
    }

    /// A session length.
    pub fn session(&self, rng: &mut dyn Rng) -> Duration {
        exponential(rng, self.session_mean().as_secs_f64())
    }
}

fn exponential(rng: &mut dyn Rng, mean_s: f64) -> Duration {
    let u: f64 = rng.random();
    Duration::from_secs_f64(-(1.0 - u).ln() * mean_s)
}
