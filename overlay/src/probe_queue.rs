//! Candidates waiting for a round-trip probe, for proximity neighbour selection.

use std::collections::VecDeque;

use crate::contact::Contact;
use crate::recently_dead::RecentlyDead;
use crate::time::Time;

/// Candidates for routing-table slots that wait for a round-trip probe while the most
/// probes a node allows itself are in flight. A join or a row exchange offers far more
/// candidates than may be probed at once; dropping the rest would leave each slot to the
/// first node heard of rather than the nearest. Bounded, oldest first, each node once.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeQueue<A> {
    waiting: VecDeque<Contact<A>>,
    max_waiting: usize,
    max_in_flight: usize,
}

impl<A: Clone> ProbeQueue<A> {
    /// A queue holding at most `max_waiting` candidates, for a node that allows itself
    /// `max_in_flight` probes at a time.
    pub fn new(max_waiting: usize, max_in_flight: usize) -> Self {
        ProbeQueue {
            waiting: VecDeque::new(),
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

    /// The candidate to probe next while fewer than the allowed probes are `in_flight`:
    /// the one that has waited longest, passing over those found dead since.
    pub fn next(&mut self, in_flight: usize, dead: &RecentlyDead, now: Time) -> Option<Contact<A>> {
        let mut next = None;
        if in_flight < self.max_in_flight {
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
        dead.insert(node(2).id, now);
        let mut q = ProbeQueue::new(3, 2);
        for i in [1, 1, 2, 3, 4] {
            q.push(&node(i));
        }
        assert_eq!(
            q.len(),
            3,
            "a repeat is held once and a fourth node finds no room"
        );
        assert!(
            q.next(2, &dead, now).is_none(),
            "no room while two are in flight"
        );
        assert_eq!(q.next(1, &dead, now).map(|c| c.addr), Some(1));
        assert_eq!(
            q.next(1, &dead, now).map(|c| c.addr),
            Some(3),
            "the dead one is passed over"
        );
        assert!(q.next(0, &dead, now).is_none());
        assert!(q.is_empty());
    }
}
