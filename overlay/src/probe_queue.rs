//! Candidates waiting for a round-trip probe, for proximity neighbour selection.

use std::collections::VecDeque;

use crate::contact::Contact;
use crate::recent::RecentlyDead;
use crate::routing::ReqId;
use crate::time::Time;

/// Candidates a queue holds by default: a join offers a few tables' worth at once.
const DEFAULT_MAX_WAITING: usize = 256;

/// Candidates for routing-table slots that wait for a round-trip probe while the most
/// probes a node allows itself are in flight. A join or a row exchange offers far more
/// candidates than may be probed at once; dropping the rest would leave each slot to the
/// first node heard of rather than the nearest. Bounded, oldest first, each node once.
/// The queue also keeps the requests of the probes in flight, so that the algorithm only
/// tells it which of its requests started and which ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeQueue<A> {
    waiting: VecDeque<Contact<A>>,
    in_flight: Vec<ReqId>,
    max_waiting: usize,
    max_in_flight: usize,
}

impl<A: Clone> ProbeQueue<A> {
    /// A queue for a node that allows itself `max_in_flight` probes at a time, holding
    /// at most 256 candidates (a join offers a few routing tables' worth at once).
    pub fn new(max_in_flight: usize) -> Self {
        Self::bounded(DEFAULT_MAX_WAITING, max_in_flight)
    }

    /// A queue holding at most `max_waiting` candidates, for a node that allows itself
    /// `max_in_flight` probes at a time.
    pub fn bounded(max_waiting: usize, max_in_flight: usize) -> Self {
        ProbeQueue {
            waiting: VecDeque::new(),
            in_flight: Vec::new(),
            max_waiting,
            max_in_flight,
        }
    }

    /// Queues `c` unless it is waiting already or the queue is full.
    pub fn push(&mut self, c: &Contact<A>) {
        if self.waiting.len() < self.max_waiting && !self.waiting.iter().any(|w| w.id == c.id) {
            self.waiting.push_back(c.clone());
        }
    }

    /// The candidate to probe next while fewer than the allowed probes are in flight: the
    /// one that has waited longest, passing over those found dead since. The caller sends
    /// the probe and reports its request with [`ProbeQueue::started`].
    pub fn next(&mut self, dead: &RecentlyDead, now: Time) -> Option<Contact<A>> {
        let mut next = None;
        if self.in_flight.len() < self.max_in_flight {
            while let Some(c) = self.waiting.pop_front() {
                if !dead.contains(&c.id, now) {
                    next = Some(c);
                    break;
                }
            }
        }
        if self.waiting.is_empty() {
            // An idle queue holds no memory: in a simulated network of 100,000 nodes each
            // keeping its largest backlog's buffer, that would be most of a gigabyte.
            self.waiting = VecDeque::new();
        }
        next
    }

    /// A probe went out as request `id` (one of the queue's, or one sent at once).
    pub fn started(&mut self, id: ReqId) {
        self.in_flight.push(id);
    }

    /// Request `id` was answered or failed; whether it was a probe in flight.
    pub fn finished(&mut self, id: ReqId) -> bool {
        let before = self.in_flight.len();
        self.in_flight.retain(|r| *r != id);
        self.in_flight.len() < before
    }

    /// Probes in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Candidates waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::id::Key;

    fn node(i: u8) -> Contact<u32> {
        Contact::new(Key::hash([i]), u32::from(i))
    }

    #[test]
    fn hands_out_each_live_candidate_once_oldest_first_while_there_is_room() {
        let now = Time::ZERO;
        let mut dead = RecentlyDead::new(Duration::from_secs(60), 8);
        dead.insert(node(2).id, (), now);
        let mut q = ProbeQueue::bounded(3, 2);
        for i in [1, 1, 2, 3, 4] {
            q.push(&node(i));
        }
        assert_eq!(
            q.len(),
            3,
            "a repeat is held once and a fourth node finds no room"
        );
        q.started(10);
        q.started(11);
        assert!(
            q.next(&dead, now).is_none(),
            "no room while two are in flight"
        );
        assert!(q.finished(10));
        assert!(!q.finished(10), "a request ends once");
        assert!(!q.finished(12), "nor does one that was no probe");
        assert_eq!(q.next(&dead, now).map(|c| c.addr), Some(1));
        q.started(13);
        assert!(q.next(&dead, now).is_none());
        assert!(q.finished(11));
        assert_eq!(
            q.next(&dead, now).map(|c| c.addr),
            Some(3),
            "the dead one is passed over"
        );
        assert_eq!(q.in_flight(), 1);
        assert!(q.next(&dead, now).is_none());
        assert!(q.is_empty());
    }
}
