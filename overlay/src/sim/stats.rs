//! What the simulator measures about lookups.

use std::time::Duration;

/// Lookup measurements, each checked against the ground truth.
#[derive(Clone, Debug, Default)]
pub struct LookupStats {
    /// `hops[h]` = lookups that took `h` hops.
    pub hops: Vec<u64>,
    /// Latencies in microseconds, one per successful lookup.
    pub latencies_us: Vec<u64>,
    /// Messages of all finished lookups.
    pub messages: u64,
    /// Lookups that ended at a node other than the true root.
    pub wrong: u64,
    /// Lookups that gave up.
    pub failed: u64,
}

impl LookupStats {
    /// Records a successful lookup.
    pub fn record(&mut self, hops: u32, messages: u32, latency: Duration, correct: bool) {
        let h = hops as usize;
        if self.hops.len() <= h {
            self.hops.resize(h + 1, 0);
        }
        self.hops[h] += 1;
        self.latencies_us.push(latency.as_micros() as u64);
        self.messages += messages as u64;
        if !correct {
            self.wrong += 1;
        }
    }

    /// Records a lookup that gave up.
    pub fn record_failure(&mut self, messages: u32) {
        self.failed += 1;
        self.messages += messages as u64;
    }

    /// Successful lookups.
    pub fn succeeded(&self) -> u64 {
        // One latency per success; summing the histogram instead cost benchmarks, which
        // ask after every event, a few percent of their time.
        self.latencies_us.len() as u64
    }

    /// Mean hop count of successful lookups.
    pub fn mean_hops(&self) -> f64 {
        let n = self.succeeded();
        if n == 0 {
            return 0.0;
        }
        let total: u64 = self
            .hops
            .iter()
            .enumerate()
            .map(|(h, c)| h as u64 * c)
            .sum();
        total as f64 / n as f64
    }

    /// The hop count at quantile `q` (0..=1) of successful lookups.
    pub fn hops_quantile(&self, q: f64) -> u32 {
        let n = self.succeeded();
        if n == 0 {
            return 0;
        }
        let target = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (h, c) in self.hops.iter().enumerate() {
            seen += c;
            if seen >= target {
                return h as u32;
            }
        }
        (self.hops.len() - 1) as u32
    }

    /// Largest hop count seen.
    pub fn max_hops(&self) -> u32 {
        self.hops.iter().rposition(|c| *c > 0).unwrap_or(0) as u32
    }

    /// Latency at quantile `q` in milliseconds.
    pub fn latency_quantile_ms(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.latencies_us[i] as f64 / 1000.0
    }

    /// Mean latency in milliseconds.
    pub fn mean_latency_ms(&self) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.iter().sum::<u64>() as f64 / self.latencies_us.len() as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_the_histogram() {
        let mut s = LookupStats::default();
        for h in [1, 2, 2, 3, 3, 3, 4, 4, 4, 4] {
            s.record(h, 2 * h, Duration::from_millis(h as u64), true);
        }
        s.record(5, 10, Duration::ZERO, false);
        s.record_failure(3);
        assert_eq!(s.succeeded(), 11);
        assert_eq!(s.wrong, 1);
        assert_eq!(s.failed, 1);
        assert_eq!(s.hops_quantile(0.5), 3);
        assert_eq!(s.hops_quantile(0.99), 5);
        assert_eq!(s.max_hops(), 5);
        assert!((s.mean_hops() - 35.0 / 11.0).abs() < 1e-9);
    }
}
