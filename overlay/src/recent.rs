//! Nodes noted lately, each remembered for a while: a bounded, expiring list keyed by node
//! id. Nodes found dead lately are one use ([`RecentlyDead`]): other nodes' tables still
//! list them, and taking them back in from there would only fail again (after a mass
//! crash, a storm of it).

use std::time::Duration;

use crate::id::NodeId;
use crate::time::Time;

/// Up to `max` nodes with a value each, each forgotten `horizon` after it was noted;
/// oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Recent<V> {
    horizon: Duration,
    max: usize,
    entries: Vec<(NodeId, V, Time)>,
}

/// Nodes found dead lately.
pub type RecentlyDead = Recent<()>;

impl<V> Recent<V> {
    /// Remembers up to `max` nodes for `horizon` each.
    pub fn new(horizon: Duration, max: usize) -> Self {
        Recent {
            horizon,
            max: max.max(1),
            entries: Vec::new(),
        }
    }

    /// Whether `id` was noted less than the horizon ago.
    pub fn contains(&self, id: &NodeId, now: Time) -> bool {
        self.entries
            .iter()
            .any(|(d, _, t)| d == id && now.since(*t) < self.horizon)
    }

    /// Notes `id` with `value` at `now` (in place of an earlier note of it); the oldest
    /// entry goes when full.
    pub fn insert(&mut self, id: NodeId, value: V, now: Time) {
        let horizon = self.horizon;
        self.entries
            .retain(|(d, _, t)| *d != id && now.since(*t) < horizon);
        if self.entries.len() >= self.max {
            self.entries.remove(0);
        }
        self.entries.push((id, value, now));
    }

    /// Forgets `id`.
    pub fn remove(&mut self, id: &NodeId) {
        self.entries.retain(|(d, _, _)| d != id);
    }

    /// The values noted less than the horizon ago, oldest first.
    pub fn fresh(&self, now: Time) -> impl Iterator<Item = &V> {
        self.entries
            .iter()
            .filter(move |(_, _, t)| now.since(*t) < self.horizon)
            .map(|(_, v, _)| v)
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
        d.insert(Key([1; 20]), (), t(0));
        assert!(d.contains(&Key([1; 20]), t(9)));
        assert!(!d.contains(&Key([1; 20]), t(10)));
        d.insert(Key([2; 20]), (), t(1));
        d.insert(Key([3; 20]), (), t(1));
        d.insert(Key([4; 20]), (), t(1));
        assert!(!d.contains(&Key([2; 20]), t(2)), "the oldest went");
        assert!(d.contains(&Key([4; 20]), t(2)));
    }
}
