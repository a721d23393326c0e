//! Backpointers: the nodes whose neighbour maps hold this one, as their notices said.
//!
//! A node tells another when its map took it in or dropped it, a few seconds after the
//! first change and for the net changes since (a join reshuffles entries as round-trip
//! times come in: many changes undo one another within that time); a joining node tells every node of its
//! finished map at once; and its heartbeats to the nodes of its map say "held" again, so
//! a notice lost (or never sent: an oracle-built network starts without backpointers) is
//! made good within a heartbeat rotation. A leaving node notifies its backpointers as well
//! as its own map, so a node that holds it is told even when the leaver does not hold that
//! node. The list is soft state: a node that points here may crash unannounced, so a few
//! entries are probed each heartbeat, in turn, and a silent one is dropped.

use std::collections::HashMap;
use std::time::Duration;

use foldhash::fast::FixedState;

use overlay::{Address, Contact, Key, RoutingOut};

use crate::messages::{TapestryMsg, TapestryTimer};
use crate::rotation::in_turn;
use crate::tapestry::{Pending, Tapestry};

/// How long map changes gather before they are told.
const NOTICE_DELAY: Duration = Duration::from_secs(5);

/// The nodes pointing at this one, and this node's map changes not yet told.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Backpointers<A> {
    /// Id to address. Hashed: a few nodes are held by a large share of the network (an
    /// early node sits in thousands of maps), and a sorted list's inserts were quadratic.
    /// The hasher is fixed, not seeded per process: the iteration order decides which
    /// entries are probed and the order of leave notices, so it must be the same in
    /// every run of a simulation.
    nodes: HashMap<Key, A, FixedState>,
    /// Where the next liveness batch starts.
    cursor: usize,
    /// Nodes our map took in (`true`) or dropped since the last notices, in order.
    unsent: Vec<(Contact<A>, bool)>,
}

// By hand: a derived `Default` would require `A: Default`.
impl<A> Default for Backpointers<A> {
    fn default() -> Self {
        Backpointers {
            nodes: HashMap::with_hasher(FixedState::default()),
            cursor: 0,
            unsent: Vec::new(),
        }
    }
}

impl<A: Address> Backpointers<A> {
    fn add(&mut self, c: &Contact<A>) {
        self.nodes.insert(c.id, c.addr.clone());
    }

    fn remove(&mut self, id: &Key) {
        self.nodes.remove(id);
    }

    /// The next `count` entries in turn (in the map's order, stable while it is unchanged).
    fn next_batch(&mut self, count: usize) -> Vec<Contact<A>> {
        in_turn(self.nodes.iter(), &mut self.cursor, count)
            .map(|(id, addr)| Contact::new(*id, addr.clone()))
            .collect()
    }
}

impl<A: Address> Tapestry<A> {
    /// The nodes whose maps hold this one, as far as their notices told.
    pub fn backpointers(&self) -> impl Iterator<Item = Contact<A>> + '_ {
        self.backpointers
            .iter()
            .flat_map(|b| b.nodes.iter())
            .map(|(id, addr)| Contact::new(*id, addr.clone()))
    }

    /// `from` holds us in its map now (`held`) or no longer.
    pub(crate) fn note_backpointer(&mut self, from: &Contact<A>, held: bool) {
        if held {
            self.backpointers.get_or_insert_default().add(from);
        } else if let Some(b) = self.backpointers.as_mut() {
            b.remove(&from.id);
        }
    }

    /// Our map took `c` in (`held`) or dropped it: told with the other changes of the
    /// next few seconds.
    pub(crate) fn map_changed(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        c: Contact<A>,
        held: bool,
    ) {
        if !self.joined {
            return;
        }
        let unsent = &mut self.backpointers.get_or_insert_default().unsent;
        if unsent.is_empty() {
            out.timer(NOTICE_DELAY, TapestryTimer::MapNotices);
        }
        unsent.push((c, held));
    }

    /// Tells `to` that our map holds it (`held`) or no longer does.
    pub(crate) fn tell_held(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, held: bool) {
        self.send(out, to, TapestryMsg::Backpointer { held }, Pending::Notice);
    }

    /// Sends the net map changes since the last notices: a node whose state differs from
    /// the one it was last told (before its first change since) hears the new one.
    pub(crate) fn send_map_changes(&mut self, out: &mut RoutingOut<'_, Self>) {
        let Some(b) = self.backpointers.as_mut() else {
            return;
        };
        let mut changes = std::mem::take(&mut b.unsent);
        // Stable: each node's first change of the period comes first among its own.
        changes.sort_by_key(|x| x.0.id);
        changes.dedup_by(|later, first| later.0.id == first.0.id);
        for (c, first_was_add) in changes {
            let held_before = !first_was_add;
            let held_now = self.map.contains(&c.id);
            if held_now != held_before {
                self.tell_held(out, c, held_now);
            }
        }
    }

    /// Each heartbeat, the next few backpointers are probed (one that does not answer has
    /// failed, and the node layer's `peer_failed` drops it). With `backup_probes`, one our
    /// map holds is skipped: the map's own probes find it failed, and a probe of its own
    /// would open a connection to it whenever the map's had closed.
    pub(crate) fn probe_backpointers(&mut self, out: &mut RoutingOut<'_, Self>) {
        let batch = self.cfg.backpointer_probes;
        let Some(b) = self.backpointers.as_mut() else {
            return;
        };
        for c in b.next_batch(batch) {
            if self.cfg.backup_probes.is_some() && self.map.contains(&c.id) {
                continue;
            }
            self.send(out, c, TapestryMsg::Ping, Pending::Notice);
        }
    }
}
