//! Lamport's logical clock (CACM 1978): a counter that ticks at every event and jumps past
//! every timestamp it receives, so that `a → b` implies `C(a) < C(b)`.

use serde::{Deserialize, Serialize};

/// A Lamport clock.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LamportClock(u64);

impl LamportClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value.
    pub fn time(&self) -> u64 {
        self.0
    }

    /// A local event or a send: ticks and returns the event's timestamp.
    pub fn tick(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    /// A receive of a message stamped `stamp`: moves past it and returns the receive
    /// event's timestamp, which is larger than `stamp`.
    pub fn receive(&mut self, stamp: u64) -> u64 {
        self.0 = self.0.max(stamp);
        self.tick()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receive_is_stamped_after_its_send() {
        let mut a = LamportClock::new();
        let mut b = LamportClock::new();
        for _ in 0..5 {
            a.tick();
        }
        let sent = a.tick();
        let got = b.receive(sent);
        assert!(got > sent);
        assert_eq!(got, 7);
        // A receive of an older stamp still ticks.
        assert_eq!(b.receive(1), 8);
    }
}
