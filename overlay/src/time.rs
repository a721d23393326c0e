//! Time as the drivers hand it to the state machines.

use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time, in microseconds since the driver started (simulated or real).
///
/// State machines never read a clock: the driver passes `now` with every input.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Time(pub u64);

impl Time {
    /// The start of time.
    pub const ZERO: Time = Time(0);

    /// Time from seconds.
    pub fn from_secs_f64(s: f64) -> Time {
        Time((s * 1e6).round() as u64)
    }

    /// Seconds since the start.
    pub fn as_secs_f64(&self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// How long from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(&self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0 + d.as_micros() as u64)
    }
}

impl Sub<Time> for Time {
    type Output = Duration;
    fn sub(self, earlier: Time) -> Duration {
        self.since(earlier)
    }
}
