//! Tapestry's acknowledged multicast, which inserts a joining node: the surrogate root of
//! the new id forwards to the closest node of each of its entries from level `α` down
//! (`α` = the prefix length it shares with the new node), each receiver does the same
//! from the next level, and answers go back up once everything below answered. Every node
//! sharing those `α` digits is reached once and adds the new node to its (empty) entry.

use overlay::{Address, Contact, ReqId, RoutingOut};

use crate::messages::TapestryMsg;
use crate::tapestry::{Pending, Tapestry};

/// Most nodes listed in a multicast answer.
const MAX_REACHED: usize = 512;

/// A multicast this node forwarded and waits on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Relay<A> {
    id: u64,
    parent: Contact<A>,
    parent_req: ReqId,
    /// Answer with `Attached` (this node is the multicast's origin) rather than
    /// `MulticastAck`.
    origin: bool,
    joiner: Contact<A>,
    waiting: usize,
    reached: Vec<Contact<A>>,
    /// Nodes sent the multicast (a failed one is replaced by the next of its entry).
    tried: Vec<overlay::Key>,
}

impl<A: Address> Tapestry<A> {
    /// Forwards the multicast for `joiner` to the closest node of every entry from `level`
    /// down, or answers `parent` at once when there is none.
    pub(crate) fn start_relay(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        parent: Contact<A>,
        parent_req: ReqId,
        origin: bool,
        joiner: Contact<A>,
        level: usize,
    ) {
        let children: Vec<(Contact<A>, u8)> = self
            .map
            .primaries()
            .filter(|(row, s)| {
                *row >= level && s.contact.id != joiner.id && s.contact.id != parent.id
            })
            .map(|(row, s)| (s.contact.clone(), row as u8 + 1))
            .collect();
        self.next_local += 1;
        let relay = Relay {
            id: self.next_local,
            parent,
            parent_req,
            origin,
            joiner: joiner.clone(),
            waiting: children.len(),
            reached: vec![self.me.clone()],
            tried: children.iter().map(|(c, _)| c.id).collect(),
        };
        if children.is_empty() {
            self.answer_relay(out, relay);
            return;
        }
        for (child, level) in children {
            let msg = TapestryMsg::Multicast {
                joiner: joiner.clone(),
                level,
            };
            self.send(out, child, msg, Pending::Relay(relay.id));
        }
        self.relays.push(relay);
    }

    /// A child did not answer: the subtree it stood for is reached through the next node
    /// of the same entry, if any; else it counts as answered with nothing.
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
                .find(|s| !r.tried.contains(&s.contact.id) && s.contact.id != r.joiner.id)
                .map(|s| (s.contact.clone(), row as u8 + 1))
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
            None => self.relay_answered(out, relay, Vec::new()),
        }
    }

    /// A child answered (or failed, with nothing reached).
    pub(crate) fn relay_answered(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        relay: u64,
        reached: Vec<Contact<A>>,
    ) {
        let Some(at) = self.relays.iter().position(|r| r.id == relay) else {
            return;
        };
        let r = &mut self.relays[at];
        for c in reached {
            if r.reached.len() < MAX_REACHED && !r.reached.iter().any(|x| x.id == c.id) {
                r.reached.push(c);
            }
        }
        r.waiting -= 1;
        if r.waiting == 0 {
            let done = self.relays.swap_remove(at);
            self.answer_relay(out, done);
        }
    }

    fn answer_relay(&mut self, out: &mut RoutingOut<'_, Self>, relay: Relay<A>) {
        let msg = if relay.origin {
            TapestryMsg::Attached {
                reached: relay.reached,
            }
        } else {
            TapestryMsg::MulticastAck {
                reached: relay.reached,
            }
        };
        out.respond(relay.parent, relay.parent_req, msg);
    }
}
