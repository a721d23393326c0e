//! Nodes found dead lately, remembered for a while: other nodes' tables still list them,
//! and taking them back in from there would only fail again (after a mass crash, a storm
//! of it).

use std::time::Duration;

use crate::id::NodeId;
use crate::time::Time;

/// A bounded memory of failed nodes, each forgotten `horizon` after it was found dead.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentlyDead {
    horizon: Duration,
    max: usize,
    entries: Vec<(NodeId, Time)>,
}

impl RecentlyDead {
    /// Remembers up to `max` nodes for `horizon` each.
    pub fn new(horizon: Duration, max: usize) -> Self {
        RecentlyDead {
            horizon,
            max,
            entries: Vec::new(),
        }
    }

    /// Whether `id` was found dead less than the horizon ago.
    pub fn contains(&self, id: &NodeId, now: Time) -> bool {
        self.entries
            .iter()
            .any(|(d, t)| d == id && now.since(*t) < self.horizon)
    }

    /// Notes that `id` was found dead at `now`; the oldest entry goes when full.
    pub fn insert(&mut self, id: NodeId, now: Time) {
        let horizon = self.horizon;
        self.entries
            .retain(|(d, t)| *d != id && now.since(*t) < horizon);
        if self.entries.len() >= self.max.max(1) {
            self.entries.remove(0);
        }
        self.entries.push((id, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Key;

    #[test]
    fn forgets_after_the_horizon_and_keeps_at_most_max() {
        let mut d = RecentlyDead::new(Duration::from_secs(10), 2);
        let t = |s: u64| Time(s * 1_000_000);
        d.insert(Key([1; 20]), t(0));
        assert!(d.contains(&Key([1; 20]), t(9)));
        assert!(!d.contains(&Key([1; 20]), t(10)));
        d.insert(Key([2; 20]), t(1));
        d.insert(Key([3; 20]), t(1));
        d.insert(Key([4; 20]), t(1));
        assert!(!d.contains(&Key([2; 20]), t(2)), "the oldest went");
        assert!(d.contains(&Key([4; 20]), t(2)));
    }
}
