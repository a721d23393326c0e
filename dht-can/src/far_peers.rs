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
