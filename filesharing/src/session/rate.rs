//! A transfer rate over a sliding window, for the choker and the request queue depth.

use std::collections::VecDeque;
use std::time::Duration;

const WINDOW: Duration = Duration::from_secs(20);

/// Bytes counted, and a sample of the running total each tick.
#[derive(Debug, Default, Clone)]
pub struct Rate {
    total: u64,
    samples: VecDeque<(Duration, u64)>,
}

impl Rate {
    /// Counts `bytes` moved.
    pub fn add(&mut self, bytes: u64) {
        self.total += bytes;
    }

    /// Records the running total at `now`, forgetting samples older than the window.
    pub fn sample(&mut self, now: Duration) {
        self.samples.push_back((now, self.total));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window, up to `now`.
    pub fn per_second(&self, now: Duration) -> f64 {
        let Some(&(since, at)) = self.samples.front() else {
            return 0.0;
        };
        let span = now.saturating_sub(since).as_secs_f64().max(1.0);
        (self.total - at) as f64 / span
    }
}
