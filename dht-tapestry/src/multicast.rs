//! Tapestry's acknowledged multicast, which inserts a joining node: the surrogate root of
//! the new id forwards to the closest node of each of its entries from level `α` down
//! (`α` = the prefix length it shares with the new node), and each receiver does the same
//! from the next level, so every node sharing those `α` digits is reached once and adds
//! the new node to its (empty) entry. Every hop is acknowledged; a hop that does not
//! answer is replaced by the next node of the same entry, so a failed node does not cut
//! its subtree off.
//!
//! A receiver acknowledges on receipt rather than after its whole subtree: waiting for
//! the subtree would make a parent's request outlive its timeout whenever a failure
//! somewhere below costs one, and the parent would take a live child for dead.

use overlay::{Address, Contact, Key, RoutingOut};

use crate::messages::TapestryMsg;
use crate::tapestry::{Pending, Tapestry};

/// A multicast this node forwarded, while some hop is unacknowledged.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Relay<A> {
    id: u64,
    joiner: Contact<A>,
    waiting: usize,
    /// Nodes sent the multicast (a failed one is replaced by the next of its entry).
    tried: Vec<Key>,
}

impl<A: Address> Tapestry<A> {
    /// Forwards the multicast for `joiner` to the closest node of every entry from
    /// `level` down (`except` the node it came from).
    pub(crate) fn start_relay(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        joiner: Contact<A>,
        level: usize,
        except: &Key,
    ) {
        let children: Vec<(Contact<A>, u8)> = self
            .map
            .primaries()
            .filter(|(row, s)| *row >= level && s.id != joiner.id && s.id != *except)
            .map(|(row, s)| (s.clone(), row as u8 + 1))
            .collect();
        if children.is_empty() {
            return;
        }
        self.next_local += 1;
        let relay = Relay {
            id: self.next_local,
            joiner: joiner.clone(),
            waiting: children.len(),
            tried: children.iter().map(|(c, _)| c.id).collect(),
        };
        for (child, level) in children {
            let msg = TapestryMsg::Multicast {
                joiner: joiner.clone(),
                level,
            };
            self.send(out, child, msg, Pending::Relay(relay.id));
        }
        self.relays.push(relay);
    }

    /// A hop acknowledged.
    pub(crate) fn relay_answered(&mut self, relay: u64) {
        let Some(at) = self.relays.iter().position(|r| r.id == relay) else {
            return;
        };
        let r = &mut self.relays[at];
        r.waiting -= 1;
        if r.waiting == 0 {
            self.relays.swap_remove(at);
        }
    }

    /// A hop did not answer: the subtree it stood for is reached through the next node of
    /// the same entry, if any.
    pub(crate) fn relay_failed(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        relay: u64,
        child: &Contact<A>,
    ) {
        let Some(at) = self.relays.iter().position(|r| r.id == relay) else {
            return;
        };
        let next = self.map.slot_of(&child.id).and_then(|(row, col)| {
            let r = &self.relays[at];
            self.map
                .entry(row, col)
                .iter()
                .find(|s| !r.tried.contains(&s.id) && s.id != r.joiner.id)
                .map(|s| (s.clone(), row as u8 + 1))
        });
        match next {
            Some((c, level)) => {
                let r = &mut self.relays[at];
                r.tried.push(c.id);
                let msg = TapestryMsg::Multicast {
                    joiner: r.joiner.clone(),
                    level,
                };
                self.send(out, c, msg, Pending::Relay(relay));
            }
            None => self.relay_answered(relay),
        }
    }
}
