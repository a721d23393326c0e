//! Owners this node's lookups ended at, with their zones: next hops beyond the neighbours'
//! neighbours.
//!
//! With two-hop routing a node knows the zones of its neighbours and of theirs; a lookup
//! for a key beyond them takes a hop more. The owner a lookup ends at is asked for its
//! zones once, and kept here, so later lookups for its region go straight to it. Entries
//! are hints: one gone stale (its zone split or was handed over) still routes greedily
//! onwards from where it is, and a lookup that ends at another owner of a point a cached
//! zone holds drops the stale entry.

use std::collections::VecDeque;

use overlay::Key;

use crate::messages::Peer;

/// Owners found by lookups, oldest first, at most `cap` of them.
#[derive(Clone, Debug, PartialEq)]
pub struct FarPeers<A> {
    peers: VecDeque<Peer<A>>,
    cap: usize,
}

impl<A> FarPeers<A> {
    /// An empty cache keeping at most `cap` owners.
    pub fn new(cap: usize) -> Self {
        FarPeers {
            peers: VecDeque::new(),
            cap,
        }
    }

    /// Whether `id` is kept.
    pub fn knows(&self, id: &Key) -> bool {
        self.peers.iter().any(|p| p.contact.id == *id)
    }

    /// Keeps `peer` (replacing what was kept of it), dropping the oldest beyond the cap.
    pub fn insert(&mut self, peer: Peer<A>) {
        if self.cap == 0 {
            return;
        }
        self.remove(&peer.contact.id);
        if self.peers.len() == self.cap {
            self.peers.pop_front();
        }
        self.peers.push_back(peer);
    }

    /// Forgets `id` (it failed).
    pub fn remove(&mut self, id: &Key) {
        self.peers.retain(|p| p.contact.id != *id);
    }

    /// A lookup for the point at `path` ended at `root`: any other kept owner whose zones
    /// hold that point is stale.
    pub fn found_root(&mut self, path: u128, root: &Key) {
        self.peers
            .retain(|p| p.contact.id == *root || !p.zones.iter().any(|z| z.contains_path(path)));
    }

    /// The owners kept.
    pub fn iter(&self) -> impl Iterator<Item = &Peer<A>> {
        self.peers.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::Zone;
    use overlay::conformance::scratch::contact;
    use smallvec::smallvec;

    fn peer(b: u8, zone: Zone) -> Peer<u32> {
        Peer {
            contact: contact(b),
            zones: smallvec![zone],
        }
    }

    #[test]
    fn the_oldest_owner_goes_beyond_the_cap_and_one_found_again_is_refreshed() {
        let mut far = FarPeers::new(2);
        far.insert(peer(1, Zone::from_path(0, 2)));
        far.insert(peer(2, Zone::from_path(1 << 126, 2)));
        far.insert(peer(1, Zone::from_path(0, 3)));
        far.insert(peer(3, Zone::from_path(2 << 126, 2)));
        let kept: Vec<u32> = far.iter().map(|p| p.contact.addr).collect();
        assert_eq!(kept, vec![1, 3]);
        assert_eq!(far.iter().next().unwrap().zones[0], Zone::from_path(0, 3));
        let mut none = FarPeers::new(0);
        none.insert(peer(1, Zone::from_path(0, 2)));
        assert!(!none.knows(&contact(1).id));
    }

    #[test]
    fn a_lookup_ending_elsewhere_drops_the_owner_whose_zone_held_the_point() {
        let mut far = FarPeers::new(4);
        far.insert(peer(1, Zone::from_path(0, 1)));
        far.insert(peer(2, Zone::from_path(1 << 127, 1)));
        // The point at path 0 is in 1's cached half, but its lookup ended at 3.
        far.found_root(0, &contact(3).id);
        assert!(!far.knows(&contact(1).id) && far.knows(&contact(2).id));
        // Ending at the cached owner itself keeps it.
        far.found_root(1 << 127, &contact(2).id);
        assert!(far.knows(&contact(2).id));
        far.remove(&contact(2).id);
        assert!(!far.knows(&contact(2).id));
    }
}
