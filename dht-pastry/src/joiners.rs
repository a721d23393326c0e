//! Nodes that asked this node for its state on their join route lately.
//!
//! When many nodes join at once through one bootstrap, none of them is in anyone's leaf
//! set yet, so each would finish its join with the few joined nodes the route showed it
//! and take itself for the root of keys far away. Handing each joiner the earlier joiners
//! nearest its id (and each joiner announcing itself to those) lets them find one another
//! while they join, rather than one maintenance round at a time afterwards.

use std::time::Duration;

use overlay::{Contact, Key, Recent, Time};

use crate::leaf_set::LeafSet;

/// A bounded, expiring list of recent joiners, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentJoiners<A>(Recent<Contact<A>>);

impl<A: Clone + PartialEq> RecentJoiners<A> {
    /// Remembers up to `max` joiners for `horizon` each.
    pub fn new(horizon: Duration, max: usize) -> Self {
        RecentJoiners(Recent::new(horizon, max))
    }

    /// Notes that `c` asked at `now`; the oldest entry goes when full.
    pub fn insert(&mut self, c: &Contact<A>, now: Time) {
        self.0.insert(c.id, c.clone(), now);
    }

    /// Forgets `id` (it failed, or left).
    pub fn remove(&mut self, id: &Key) {
        self.0.remove(id);
    }

    /// The joiners of the last horizon that would be in the leaf set (of `size`) of a
    /// node at `key`, `key` itself left out.
    pub fn nearest(&self, key: &Key, size: usize, now: Time) -> Vec<Contact<A>> {
        let mut set = LeafSet::new(*key, size);
        for c in self.0.fresh(now) {
            set.insert(c);
        }
        set.nodes().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay::conformance::scratch::contact as node;

    #[test]
    fn only_recent_joiners_near_the_key_are_handed_out() {
        let mut j = RecentJoiners::new(Duration::from_secs(10), 8);
        let t0 = Time::ZERO;
        for b in [10u8, 20, 30, 40, 200] {
            j.insert(&node(b), t0);
        }
        let later = t0 + Duration::from_secs(5);
        j.insert(&node(35), later);
        // A leaf set of 2 around node 32's id: one on each side.
        let near = j.nearest(&node(32).id, 2, later);
        let mut ids: Vec<_> = near.iter().map(|c| c.id).collect();
        ids.sort();
        assert_eq!(ids, vec![node(30).id, node(35).id]);
        // The first five expire; the one that asked later stays.
        let near = j.nearest(&node(32).id, 2, t0 + Duration::from_secs(11));
        assert_eq!(
            near.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![node(35).id]
        );
        j.remove(&node(35).id);
        assert!(j.nearest(&node(32).id, 2, later).len() == 2);
    }

    #[test]
    fn the_oldest_joiner_goes_when_full() {
        let mut j = RecentJoiners::new(Duration::from_secs(10), 2);
        for b in [10u8, 20, 30] {
            j.insert(&node(b), Time::ZERO);
        }
        let near = j.nearest(&node(0).id, 16, Time::ZERO);
        assert_eq!(near.len(), 2);
        assert!(!near.iter().any(|c| c.id == node(10).id));
    }
}
