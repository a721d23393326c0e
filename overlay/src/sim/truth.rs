//! Ground truth: which live node really is responsible for a key.

use std::collections::BTreeMap;

use crate::contact::Contact;
use crate::id::{Key, NodeId};

/// Keeps the set of live, joined nodes and answers which is responsible for a key, so the
/// simulator can count wrong lookup answers.
pub trait GroundTruth: Default + Send {
    /// A node joined.
    fn insert(&mut self, node: &Contact<u32>);
    /// A node left or crashed.
    fn remove(&mut self, node: &Contact<u32>);
    /// The responsible node's address, if any node is live.
    fn root(&self, key: &Key) -> Option<u32>;
}

/// Responsibility by successor: the first node at or after the key, clockwise (Chord).
#[derive(Default, Debug)]
pub struct SuccessorTruth {
    ring: BTreeMap<NodeId, u32>,
}

impl GroundTruth for SuccessorTruth {
    fn insert(&mut self, node: &Contact<u32>) {
        self.ring.insert(node.id, node.addr);
    }

    fn remove(&mut self, node: &Contact<u32>) {
        self.ring.remove(&node.id);
    }

    fn root(&self, key: &Key) -> Option<u32> {
        self.ring
            .range(key..)
            .next()
            .or_else(|| self.ring.iter().next())
            .map(|(_, a)| *a)
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
        t.insert(&a);
        t.insert(&b);
        assert_eq!(t.root(&Key([0x10; 20])), Some(1));
        assert_eq!(t.root(&Key([0x11; 20])), Some(2));
        assert_eq!(t.root(&Key([0x90; 20])), Some(1));
        t.remove(&a);
        assert_eq!(t.root(&Key([0x01; 20])), Some(2));
    }
}
