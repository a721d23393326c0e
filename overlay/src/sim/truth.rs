//! Ground truth: which live node really is responsible for a key.

use std::collections::BTreeMap;

use crate::contact::Contact;
use crate::id::{Key, NodeId};

/// Keeps the set of live, joined nodes and answers which is responsible for a key, so the
/// simulator can count wrong lookup answers.
///
/// `R` is the routing algorithm: a truth that depends on the nodes' own state rather than
/// on membership alone (CAN's zones, which follow the join history) reads it in
/// [`GroundTruth::refresh`].
pub trait GroundTruth<R>: Default + Send {
    /// A node joined.
    fn insert(&mut self, node: &Contact<u32>);
    /// A node left or crashed.
    fn remove(&mut self, node: &Contact<u32>);
    /// The responsible node's address, if any node is live.
    fn root(&self, key: &Key) -> Option<u32>;
    /// Rebuilds from the live, joined nodes' routing state. The simulator calls it after
    /// membership changed and again whenever an answer disagrees with [`GroundTruth::root`];
    /// returns whether the truth depends on node state at all (then the answer is checked
    /// once more). Truths defined by membership alone keep the default.
    fn refresh(&mut self, _nodes: &mut dyn Iterator<Item = &R>) -> bool {
        false
    }
}

/// The live nodes by id, for truths defined on the ring.
#[derive(Default, Debug)]
struct Ring(BTreeMap<NodeId, u32>);

impl Ring {
    fn insert(&mut self, node: &Contact<u32>) {
        self.0.insert(node.id, node.addr);
    }

    fn remove(&mut self, node: &Contact<u32>) {
        self.0.remove(&node.id);
    }

    /// The first node at or after `key`, wrapping.
    fn at_or_after(&self, key: &Key) -> Option<(&NodeId, &u32)> {
        self.0.range(key..).next().or_else(|| self.0.iter().next())
    }

    /// The last node before `key`, wrapping.
    fn before(&self, key: &Key) -> Option<(&NodeId, &u32)> {
        self.0
            .range(..key)
            .next_back()
            .or_else(|| self.0.iter().next_back())
    }
}

/// Responsibility by successor: the first node at or after the key, clockwise (Chord).
#[derive(Default, Debug)]
pub struct SuccessorTruth {
    ring: Ring,
}

impl<R> GroundTruth<R> for SuccessorTruth {
    fn insert(&mut self, node: &Contact<u32>) {
        self.ring.insert(node);
    }

    fn remove(&mut self, node: &Contact<u32>) {
        self.ring.remove(node);
    }

    fn root(&self, key: &Key) -> Option<u32> {
        self.ring.at_or_after(key).map(|(_, a)| *a)
    }
}

/// Responsibility by numerical closeness: the node whose id is nearest the key on the ring,
/// the smaller id on a tie (Pastry).
#[derive(Default, Debug)]
pub struct ClosestTruth {
    ring: Ring,
}

impl<R> GroundTruth<R> for ClosestTruth {
    fn insert(&mut self, node: &Contact<u32>) {
        self.ring.insert(node);
    }

    fn remove(&mut self, node: &Contact<u32>) {
        self.ring.remove(node);
    }

    fn root(&self, key: &Key) -> Option<u32> {
        let after = self.ring.at_or_after(key)?;
        let before = self.ring.before(key)?;
        let best = if key.cmp_distance(before.0, after.0).is_le() {
            before
        } else {
            after
        };
        Some(*best.1)
    }
}

/// Digit width of Tapestry's ids (base 16), for [`SurrogateTruth`].
pub const SURROGATE_DIGIT_BITS: u32 = 4;

/// Responsibility by surrogate routing in base 16 (Tapestry): from the empty prefix, each
/// digit is the key's own if some node has the prefix so extended, else the next digit
/// upwards (cyclically) that some node has; the root is the one node left. This is the
/// smallest node under [`Key::cmp_surrogate`].
#[derive(Default, Debug)]
pub struct SurrogateTruth {
    ring: Ring,
}

impl SurrogateTruth {
    fn any_in(&self, lo: &Key, hi: &Key) -> bool {
        self.ring.0.range(lo..=hi).next().is_some()
    }
}

impl<R> GroundTruth<R> for SurrogateTruth {
    fn insert(&mut self, node: &Contact<u32>) {
        self.ring.insert(node);
    }

    fn remove(&mut self, node: &Contact<u32>) {
        self.ring.remove(node);
    }

    fn root(&self, key: &Key) -> Option<u32> {
        let bits = SURROGATE_DIGIT_BITS;
        let mut prefix = *key;
        for level in 0..Key::digit_count(bits) {
            let (lo, hi) = prefix.prefix_range(level, bits);
            let mut within = self.ring.0.range(lo..=hi);
            let first = within.next()?;
            if within.next().is_none() {
                return Some(*first.1);
            }
            let k = key.digit(level, bits);
            let base = 1 << bits;
            prefix = (0..base)
                .map(|o| prefix.with_digit(level, bits, (k + o) % base))
                .find(|p| {
                    let (lo, hi) = p.prefix_range(level + 1, bits);
                    self.any_in(&lo, &hi)
                })?;
        }
        self.ring.0.get(&prefix).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_wraps_around() {
        let mut t = SuccessorTruth::default();
        let a = Contact::new(Key([0x10; 20]), 1);
        let b = Contact::new(Key([0x80; 20]), 2);
        GroundTruth::<()>::insert(&mut t, &a);
        GroundTruth::<()>::insert(&mut t, &b);
        let root = |t: &SuccessorTruth, k| GroundTruth::<()>::root(t, &Key([k; 20]));
        assert_eq!(root(&t, 0x10), Some(1));
        assert_eq!(root(&t, 0x11), Some(2));
        assert_eq!(root(&t, 0x90), Some(1));
        GroundTruth::<()>::remove(&mut t, &a);
        assert_eq!(root(&t, 0x01), Some(2));
    }

    #[test]
    fn closest_looks_both_ways_and_wraps() {
        let mut t = ClosestTruth::default();
        GroundTruth::<()>::insert(&mut t, &Contact::new(Key([0x10; 20]), 1));
        GroundTruth::<()>::insert(&mut t, &Contact::new(Key([0x80; 20]), 2));
        let root = |k| GroundTruth::<()>::root(&t, &Key([k; 20]));
        assert_eq!(root(0x11), Some(1));
        assert_eq!(root(0x7f), Some(2));
        assert_eq!(root(0xf0), Some(1), "0xf0.. is nearer 0x10.. across zero");
        assert_eq!(root(0x30), Some(1));
        assert_eq!(root(0x60), Some(2));
    }

    #[test]
    fn surrogate_takes_the_next_digit_upwards() {
        let mut t = SurrogateTruth::default();
        let ids = [0x10u8, 0x30, 0x35, 0xe0];
        for (i, b) in ids.iter().enumerate() {
            GroundTruth::<()>::insert(&mut t, &Contact::new(Key([*b; 20]), i as u32));
        }
        let root = |k: u8| GroundTruth::<()>::root(&t, &Key([k; 20]));
        assert_eq!(root(0x10), Some(0), "an exact match is its own root");
        assert_eq!(
            root(0x20),
            Some(1),
            "no node starts with 2: 3 comes next, then 0"
        );
        assert_eq!(
            root(0x36),
            Some(1),
            "digit 1: nothing from 6 to f, so 0 (wrapping) before 5"
        );
        assert_eq!(root(0xf0), Some(0), "nothing at f or 0: 1");
        for k in 0..=255u8 {
            let key = Key([k; 20]);
            let best = (0..ids.len())
                .min_by(|&a, &b| key.cmp_surrogate(&Key([ids[a]; 20]), &Key([ids[b]; 20]), 4))
                .map(|i| i as u32);
            assert_eq!(root(k), best, "key {k:#x}");
        }
    }
}
