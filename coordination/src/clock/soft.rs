//! A software clock over a hardware clock that drifts: the reading is the hardware time plus
//! an offset the synchronisation algorithms adjust. A clock is never set back: a correction
//! forward is applied at once, one backward is slewed (the clock runs slower by a bounded
//! rate until it is absorbed), as `adjtime` does.

/// A hardware clock: `offset + (1 + drift) · t` at true time `t` (seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardwareClock {
    /// Reading at true time 0, in seconds.
    pub offset: f64,
    /// Drift rate ρ (dimensionless, e.g. 1e-5 for 10 ppm fast).
    pub drift: f64,
}

impl HardwareClock {
    /// The reading at true time `t`.
    pub fn at(&self, t: f64) -> f64 {
        self.offset + (1.0 + self.drift) * t
    }
}

/// A disciplined clock: hardware clock plus corrections.
#[derive(Clone, Debug)]
pub struct SoftClock {
    hardware: HardwareClock,
    correction: f64,
    /// Backward correction still to slew (negative or zero).
    pending: f64,
    /// Largest slew rate (seconds of correction per second).
    slew_rate: f64,
    last_true: f64,
}

impl SoftClock {
    /// A clock over `hardware` that slews backward corrections at `slew_rate` (e.g. 5e-4,
    /// `adjtime`'s 500 ppm).
    pub fn new(hardware: HardwareClock, slew_rate: f64) -> Self {
        SoftClock {
            hardware,
            correction: 0.0,
            pending: 0.0,
            slew_rate,
            last_true: 0.0,
        }
    }

    /// Applies the slew due up to true time `t` (which must not go back).
    fn advance(&mut self, t: f64) {
        let elapsed = (t - self.last_true).max(0.0);
        self.last_true = self.last_true.max(t);
        let step = (self.slew_rate * elapsed).min(-self.pending);
        self.correction -= step;
        self.pending += step;
    }

    /// The reading at true time `t`.
    pub fn read(&mut self, t: f64) -> f64 {
        self.advance(t);
        self.hardware.at(t) + self.correction
    }

    /// The clock is `delta` seconds behind (negative: ahead) at true time `t`: a forward
    /// correction is applied at once, a backward one slewed; either replaces a slew still
    /// under way, since `delta` was measured with it partly done.
    pub fn adjust(&mut self, t: f64, delta: f64) {
        self.advance(t);
        if delta >= 0.0 {
            self.correction += delta;
            self.pending = 0.0;
        } else {
            self.pending = delta;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_at_once_backward_slewed_never_back() {
        let hw = HardwareClock {
            offset: 1.0,
            drift: 1e-4,
        };
        let mut c = SoftClock::new(hw, 5e-4);
        assert!((c.read(10.0) - 11.001).abs() < 1e-9);
        c.adjust(10.0, 0.5);
        assert!((c.read(10.0) - 11.501).abs() < 1e-9);
        c.adjust(10.0, -0.01);
        let mut last = c.read(10.0);
        for i in 1..=100 {
            let now = c.read(10.0 + f64::from(i));
            assert!(now > last, "the clock went back");
            last = now;
        }
        // 0.01 s at 500 ppm takes 20 s: all absorbed after 100 s.
        assert!((c.read(110.0) - (hw.at(110.0) + 0.49)).abs() < 1e-9);
    }
}
