//! The nodes a lookup has asked, in order, with a membership test that stays cheap on
//! long paths (CAN in two dimensions takes hundreds of hops at 10^6 nodes).

// foldhash rather than SipHash: a lookup hop checks several candidates against this set,
// and SipHash cost a few percent of a benchmark's time. Its per-process seed is defence
// enough for a set that lives as long as one lookup.
use foldhash::HashSet;

use crate::id::NodeId;

/// Past this many nodes, membership is answered by a hash set instead of a scan.
const SCAN_LIMIT: usize = 16;

/// Nodes in the order they were added, without repeats being tracked specially.
#[derive(Clone, Debug, Default)]
pub(crate) struct Visited {
    order: Vec<NodeId>,
    /// Filled once `order` outgrows [`SCAN_LIMIT`].
    index: HashSet<NodeId>,
}

impl Visited {
    /// Adds `id` at the end.
    pub(crate) fn push(&mut self, id: NodeId) {
        self.order.push(id);
        if self.order.len() > SCAN_LIMIT {
            if self.index.is_empty() {
                self.index.extend(self.order.iter().copied());
            } else {
                self.index.insert(id);
            }
        }
    }

    /// Whether `id` was added.
    pub(crate) fn contains(&self, id: &NodeId) -> bool {
        if self.index.is_empty() {
            self.order.contains(id)
        } else {
            self.index.contains(id)
        }
    }

    /// The last node added.
    pub(crate) fn last(&self) -> Option<&NodeId> {
        self.order.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Key;

    #[test]
    fn membership_is_the_same_before_and_after_the_index() {
        let mut v = Visited::default();
        let ids: Vec<Key> = (0..100).map(|i| Key::hash(format!("n{i}"))).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(!v.contains(id));
            v.push(*id);
            assert_eq!(v.last(), Some(id));
            assert!(ids[..=i].iter().all(|x| v.contains(x)));
            assert!(!v.contains(&Key::hash("absent")));
        }
    }
}
