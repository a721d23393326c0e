//! A group's view: who is in, in the agreed (ring) order, and the view's number.

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// What identifies a member: a node id on real nodes, a small number in tests.
pub trait MemberId: Copy + Ord + Hash + Debug + Send + Sync + 'static {}

impl<T: Copy + Ord + Hash + Debug + Send + Sync + 'static> MemberId for T {}

/// One view of a group: its members in ascending order (the overlay's identifier order,
/// which is the ring the token and the ring election travel), and an epoch that grows with
/// every change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct View<P> {
    epoch: u64,
    members: Vec<P>,
}

impl<P: MemberId> View<P> {
    /// The view `epoch` of `members` (sorted and deduplicated here).
    pub fn new(epoch: u64, members: impl IntoIterator<Item = P>) -> Self {
        let mut members: Vec<P> = members.into_iter().collect();
        members.sort_unstable();
        members.dedup();
        View { epoch, members }
    }

    /// The view's number.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The members, in ring order.
    pub fn members(&self) -> &[P] {
        &self.members
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the view has no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `p` is a member.
    pub fn contains(&self, p: &P) -> bool {
        self.members.binary_search(p).is_ok()
    }

    /// The members other than `me`.
    pub fn others(&self, me: P) -> impl Iterator<Item = P> + '_ {
        self.members.iter().copied().filter(move |p| *p != me)
    }

    /// The member after `p` on the ring (the first one after the last), whether or not `p`
    /// is a member; `p` itself when it is the only one.
    pub fn successor(&self, p: P) -> Option<P> {
        let next = self.members.iter().find(|q| **q > p);
        next.or(self.members.first()).copied()
    }

    /// The lowest member.
    pub fn lowest(&self) -> Option<P> {
        self.members.first().copied()
    }

    /// The highest member.
    pub fn highest(&self) -> Option<P> {
        self.members.last().copied()
    }

    /// The members of `self` that `newer` no longer has.
    pub fn departed<'a>(&'a self, newer: &'a View<P>) -> impl Iterator<Item = P> + 'a {
        self.members.iter().copied().filter(|p| !newer.contains(p))
    }

    /// The members of `newer` that `self` did not have.
    pub fn arrived<'a>(&'a self, newer: &'a View<P>) -> impl Iterator<Item = P> + 'a {
        newer.departed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_order_and_changes() {
        let v = View::new(1, [5, 1, 3, 3]);
        assert_eq!(v.members(), &[1, 3, 5]);
        assert_eq!(v.successor(3), Some(5));
        assert_eq!(v.successor(5), Some(1));
        assert_eq!(v.successor(4), Some(5));
        assert_eq!((v.lowest(), v.highest()), (Some(1), Some(5)));
        let w = View::new(2, [1, 5, 7]);
        assert_eq!(v.departed(&w).collect::<Vec<_>>(), vec![3]);
        assert_eq!(v.arrived(&w).collect::<Vec<_>>(), vec![7]);
        assert_eq!(View::new(3, [9]).successor(9), Some(9));
        assert_eq!(v.others(3).collect::<Vec<_>>(), vec![1, 5]);
    }
}
