//! Backpointers: the nodes whose neighbour maps hold this one, as their notices said.
//!
//! A node tells another when it puts it into its map and when it drops it for a closer
//! node; a joining node tells every node of its finished map; and its heartbeats to the
//! nodes of its map say it again, so a notice lost (or never sent: an oracle-built network
//! starts without backpointers) is made good within a heartbeat rotation. A leaving node notifies its
//! backpointers as well as its own map, so a node that holds it is told even when the
//! leaver does not hold that node. The list is soft state: a node that points here may
//! crash unannounced, so a few entries are probed each heartbeat, in turn, and a silent
//! one is dropped.

use overlay::{Address, Contact, Key, RoutingOut};

use crate::messages::TapestryMsg;
use crate::tapestry::{Pending, Tapestry};

/// The nodes pointing at this one, and where the next liveness batch starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Backpointers<A> {
    nodes: Vec<Contact<A>>,
    cursor: usize,
}

// By hand: a derived `Default` would require `A: Default`.
impl<A> Default for Backpointers<A> {
    fn default() -> Self {
        Backpointers {
            nodes: Vec::new(),
            cursor: 0,
        }
    }
}

impl<A: Address> Backpointers<A> {
    fn add(&mut self, c: &Contact<A>) {
        if !self.nodes.iter().any(|n| n.id == c.id) {
            self.nodes.push(c.clone());
        }
    }

    fn remove(&mut self, id: &Key) {
        self.nodes.retain(|n| n.id != *id);
    }

    /// The next `count` entries in turn.
    fn next_batch(&mut self, count: usize) -> Vec<Contact<A>> {
        if self.nodes.is_empty() {
            return Vec::new();
        }
        let start = self.cursor % self.nodes.len();
        let count = count.min(self.nodes.len());
        self.cursor = start + count;
        self.nodes
            .iter()
            .cycle()
            .skip(start)
            .take(count)
            .cloned()
            .collect()
    }
}

impl<A: Address> Tapestry<A> {
    /// The nodes whose maps hold this one, as far as their notices told.
    pub fn backpointers(&self) -> &[Contact<A>] {
        self.backpointers.as_ref().map_or(&[], |b| &b.nodes)
    }

    /// `from` holds us in its map now (`held`) or no longer.
    pub(crate) fn note_backpointer(&mut self, from: &Contact<A>, held: bool) {
        if held {
            self.backpointers.get_or_insert_default().add(from);
        } else if let Some(b) = self.backpointers.as_mut() {
            b.remove(&from.id);
        }
    }

    /// Tells `to` that our map now holds it (`held`) or no longer does.
    pub(crate) fn tell_held(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, held: bool) {
        self.send(out, to, TapestryMsg::Backpointer { held }, Pending::Notice);
    }

    /// Probes the next few backpointers: one that does not answer has failed (the node
    /// layer reports it through `peer_failed`, which drops it).
    pub(crate) fn probe_backpointers(&mut self, out: &mut RoutingOut<'_, Self>) {
        let batch = self.cfg.ping_batch;
        let Some(b) = self.backpointers.as_mut() else {
            return;
        };
        for c in b.next_batch(batch) {
            self.send(out, c, TapestryMsg::Ping, Pending::Notice);
        }
    }
}
