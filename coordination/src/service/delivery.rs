//! Reliable delivery of the members' messages over requests that can fail: a message whose
//! request got no answer is sent again (a few times, while its member is in a view), and a
//! receiver drops a message it has already taken, recognised by its sender and Lamport
//! stamp (unique per sender, since the sender's clock ticks at every send). Without it a
//! lost message could stall an algorithm whose channels are first-in-first-out until the
//! next view, or forever if the view does not change; with it a retried token or grant is
//! never taken twice.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use overlay::routing::ReqId;
use overlay::{Contact, NodeId};

use super::messages::CoordinationMsg;

/// Sends of one message, at most.
const TRIES: u8 = 5;
/// Unanswered messages kept for retrying, at most (the oldest are dropped beyond).
const MAX_PENDING: usize = 4096;
/// Stamps remembered per sender for recognising a message taken already.
const SEEN: usize = 512;

/// A message on its way.
#[derive(Debug)]
pub(super) struct Pending<A> {
    pub to: Contact<A>,
    pub msg: CoordinationMsg<A>,
    pub tries: u8,
}

/// The messages on their way from this node, and the stamps of those it has taken.
#[derive(Debug)]
pub(super) struct Delivery<A> {
    in_flight: BTreeMap<ReqId, Pending<A>>,
    retry: Vec<Pending<A>>,
    seen: BTreeMap<NodeId, (BTreeSet<u64>, VecDeque<u64>)>,
}

impl<A> Default for Delivery<A> {
    fn default() -> Self {
        Delivery {
            in_flight: BTreeMap::new(),
            retry: Vec::new(),
            seen: BTreeMap::new(),
        }
    }
}

impl<A> Delivery<A> {
    /// Request `id` carries `p`.
    pub fn sent(&mut self, id: ReqId, p: Pending<A>) {
        if self.in_flight.len() >= MAX_PENDING {
            self.in_flight.pop_first();
        }
        self.in_flight.insert(id, p);
    }

    /// Request `id` was answered.
    pub fn answered(&mut self, id: ReqId) {
        self.in_flight.remove(&id);
    }

    /// Request `id` got no answer: its message waits for a retry if it has tries left and
    /// `alive` says its member is still in a view. True if a retry is now due.
    pub fn failed(&mut self, id: ReqId, alive: impl Fn(&NodeId) -> bool) -> bool {
        let Some(p) = self.in_flight.remove(&id) else {
            return false;
        };
        if p.tries < TRIES && alive(&p.to.id) && self.retry.len() < MAX_PENDING {
            self.retry.push(p);
        }
        !self.retry.is_empty()
    }

    /// The messages to send again now.
    pub fn due(&mut self) -> Vec<Pending<A>> {
        std::mem::take(&mut self.retry)
    }

    /// Whether the message stamped `lamport` from `from` is new (and remembers it).
    pub fn first_time(&mut self, from: NodeId, lamport: u64) -> bool {
        let (set, order) = self.seen.entry(from).or_default();
        if !set.insert(lamport) {
            return false;
        }
        order.push_back(lamport);
        if order.len() > SEEN
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        true
    }

    /// Forgets the stamps of senders `keep` rejects (they left every view).
    pub fn retain_senders(&mut self, keep: impl Fn(&NodeId) -> bool) {
        self.seen.retain(|p, _| keep(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay::Key;

    fn pending(to: u8, tries: u8) -> Pending<u32> {
        let id = Key::hash([to]);
        Pending {
            to: Contact::new(id, u32::from(to)),
            msg: CoordinationMsg::Ack,
            tries,
        }
    }

    #[test]
    fn a_message_is_taken_once_per_sender_and_stamp() {
        let mut d = Delivery::<u32>::default();
        let (a, b) = (Key::hash("a"), Key::hash("b"));
        assert!(d.first_time(a, 7));
        assert!(!d.first_time(a, 7), "a retry is dropped");
        assert!(d.first_time(b, 7), "stamps are per sender");
        // Only the last SEEN stamps are kept.
        for s in 100..100 + SEEN as u64 {
            assert!(d.first_time(a, s));
        }
        assert!(d.first_time(a, 7), "forgotten after SEEN newer stamps");
    }

    #[test]
    fn failed_requests_are_retried_while_their_member_lives_and_tries_last() {
        let mut d = Delivery::<u32>::default();
        d.sent(1, pending(1, 1));
        d.sent(2, pending(2, TRIES));
        d.sent(3, pending(3, 1));
        d.answered(3);
        assert!(!d.failed(3, |_| true), "an answered request is not retried");
        assert!(!d.failed(2, |_| true), "out of tries");
        assert!(d.failed(1, |_| true));
        let due = d.due();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].to.addr, 1);
        d.sent(4, pending(4, 1));
        assert!(!d.failed(4, |_| false), "its member left every view");
        assert!(d.due().is_empty());
    }
}
