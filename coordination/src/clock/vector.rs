//! Vector clocks (Fidge 1988, Mattern 1989): one counter per process, so that the order of
//! two timestamps says exactly whether their events are causally related or concurrent.
//! Counters are kept per member id, since a group's members come and go.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How two vector timestamps relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Causality {
    /// The same timestamp.
    Equal,
    /// The first happened before the second.
    Before,
    /// The second happened before the first.
    After,
    /// Neither happened before the other.
    Concurrent,
}

/// A vector clock over members `P` (a missing entry counts as zero).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorClock<P: Ord> {
    entries: BTreeMap<P, u64>,
}

impl<P: Ord> Default for VectorClock<P> {
    fn default() -> Self {
        VectorClock {
            entries: BTreeMap::new(),
        }
    }
}

impl<P: Ord + Clone> VectorClock<P> {
    /// A clock with every entry at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry of `member`.
    pub fn get(&self, member: &P) -> u64 {
        self.entries.get(member).copied().unwrap_or(0)
    }

    /// How many members have an entry.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether every entry is zero.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The non-zero entries, in member order.
    pub fn entries(&self) -> impl Iterator<Item = (&P, u64)> {
        self.entries.iter().map(|(p, n)| (p, *n))
    }

    /// A local event or a send at `me`: increments its entry. The clock after it is the
    /// event's timestamp.
    pub fn tick(&mut self, me: &P) {
        *self.entries.entry(me.clone()).or_insert(0) += 1;
    }

    /// A receive at `me` of a message stamped `stamp`: the entry-wise maximum, then a tick.
    pub fn receive(&mut self, me: &P, stamp: &VectorClock<P>) {
        for (p, n) in &stamp.entries {
            let e = self.entries.entry(p.clone()).or_insert(0);
            *e = (*e).max(*n);
        }
        self.tick(me);
    }

    /// Forgets `member`'s entry (it left the group and its events are all known), so that
    /// the clock does not grow with every member that ever joined.
    pub fn forget(&mut self, member: &P) {
        self.entries.remove(member);
    }

    /// How `self` relates to `other`: `Before` when `self` happened before `other`.
    pub fn compare(&self, other: &VectorClock<P>) -> Causality {
        let mut less = false;
        let mut greater = false;
        let members = self.entries.keys().chain(other.entries.keys());
        for p in members {
            match self.get(p).cmp(&other.get(p)) {
                Ordering::Less => less = true,
                Ordering::Greater => greater = true,
                Ordering::Equal => {}
            }
        }
        match (less, greater) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::Before,
            (false, true) => Causality::After,
            (true, true) => Causality::Concurrent,
        }
    }

    /// Whether `self` happened before `other`.
    pub fn happened_before(&self, other: &VectorClock<P>) -> bool {
        self.compare(other) == Causality::Before
    }

    /// Whether neither happened before the other.
    pub fn concurrent_with(&self, other: &VectorClock<P>) -> bool {
        self.compare(other) == Causality::Concurrent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// The events one process knows of: (process, its counter at the event).
    type Knowledge = BTreeSet<(usize, u64)>;

    #[test]
    fn the_textbook_example() {
        // a: event at p1, sent to p2; b: receive at p2; c: independent event at p3.
        let mut p1 = VectorClock::new();
        let mut p2 = VectorClock::new();
        let mut p3 = VectorClock::new();
        p1.tick(&1);
        let a = p1.clone();
        p2.receive(&2, &a);
        let b = p2.clone();
        p3.tick(&3);
        let c = p3.clone();
        assert_eq!(a.compare(&b), Causality::Before);
        assert_eq!(b.compare(&a), Causality::After);
        assert!(a.concurrent_with(&c) && c.concurrent_with(&b));
        assert_eq!(b.compare(&b.clone()), Causality::Equal);
        assert_eq!((b.get(&1), b.get(&2), b.get(&3)), (1, 1, 0));
    }

    proptest! {
        /// Random runs of three processes: the vector order is exactly the happened-before
        /// order, tracked by the set of events each event knows of.
        #[test]
        fn vector_order_is_happened_before(steps in proptest::collection::vec((0usize..3, 0usize..4), 1..60)) {
            let mut clocks = vec![VectorClock::<usize>::new(); 3];
            // Each process's knowledge: every event (process, count) it has seen.
            let mut known: Vec<Knowledge> = vec![Knowledge::new(); 3];
            let mut events: Vec<(VectorClock<usize>, Knowledge)> = Vec::new();
            for (p, from) in steps {
                if from < 3 && from != p && !events.is_empty() {
                    // Receive the latest event of `from` (a message it sent then).
                    let stamp = clocks[from].clone();
                    let theirs = known[from].clone();
                    clocks[p].receive(&p, &stamp);
                    known[p].extend(theirs);
                } else {
                    clocks[p].tick(&p);
                }
                known[p].insert((p, clocks[p].get(&p)));
                events.push((clocks[p].clone(), known[p].clone()));
            }
            for (a, ka) in &events {
                for (b, kb) in &events {
                    let before = ka != kb && ka.is_subset(kb);
                    prop_assert_eq!(a.happened_before(b), before);
                }
            }
        }
    }
}
