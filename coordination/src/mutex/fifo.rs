//! First-in-first-out delivery per sender over a network that may reorder (each libp2p
//! request travels on its own stream): messages carry a per-destination sequence number and
//! the receiver holds back those that arrive early. Lamport's algorithm needs it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::view::MemberId;

/// How far ahead of the next expected message a sender may be; an honest member has a few
/// messages in flight at most, so anything further is dropped rather than buffered.
const MAX_AHEAD: u64 = 1024;

/// A message with its sequence number on its sender-to-receiver channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequenced<M> {
    /// Position on the channel, from 0.
    pub seq: u64,
    /// The message.
    pub msg: M,
}

/// Both ends of one member's channels.
#[derive(Debug)]
pub(crate) struct Fifo<P, M> {
    next_out: BTreeMap<P, u64>,
    next_in: BTreeMap<P, u64>,
    early: BTreeMap<(P, u64), M>,
}

impl<P: MemberId, M> Default for Fifo<P, M> {
    fn default() -> Self {
        Fifo {
            next_out: BTreeMap::new(),
            next_in: BTreeMap::new(),
            early: BTreeMap::new(),
        }
    }
}

impl<P: MemberId, M> Fifo<P, M> {
    /// Numbers `msg` for `to`.
    pub(crate) fn stamp(&mut self, to: P, msg: M) -> Sequenced<M> {
        let next = self.next_out.entry(to).or_insert(0);
        let seq = *next;
        *next += 1;
        Sequenced { seq, msg }
    }

    /// Takes `s` from `from`; returns the messages now deliverable, in order.
    pub(crate) fn accept(&mut self, from: P, s: Sequenced<M>) -> Vec<M> {
        let next = self.next_in.entry(from).or_insert(0);
        if s.seq < *next || s.seq >= *next + MAX_AHEAD {
            return Vec::new();
        }
        self.early.insert((from, s.seq), s.msg);
        let mut ready = Vec::new();
        while let Some(m) = self.early.remove(&(from, *next)) {
            ready.push(m);
            *next += 1;
        }
        ready
    }

    /// Forgets the channels with `p`, which left the group.
    pub(crate) fn forget(&mut self, p: P) {
        self.next_out.remove(&p);
        self.next_in.remove(&p);
        self.early.retain(|(q, _), _| *q != p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_messages_wait_for_their_turn() {
        let mut a: Fifo<u8, &str> = Fifo::default();
        let mut b: Fifo<u8, &str> = Fifo::default();
        let m0 = a.stamp(2, "zero");
        let m1 = a.stamp(2, "one");
        let m2 = a.stamp(2, "two");
        assert!(b.accept(1, m2.clone()).is_empty());
        assert!(b.accept(1, m1).is_empty());
        assert_eq!(b.accept(1, m0.clone()), vec!["zero", "one", "two"]);
        // Duplicates and messages absurdly far ahead are dropped.
        assert!(b.accept(1, m0).is_empty());
        assert!(
            b.accept(
                1,
                Sequenced {
                    seq: 5000,
                    msg: "far"
                }
            )
            .is_empty()
        );
        b.forget(1);
        assert_eq!(b.accept(1, m2), Vec::<&str>::new());
        assert_eq!(
            b.accept(
                1,
                Sequenced {
                    seq: 0,
                    msg: "again"
                }
            ),
            vec!["again"]
        );
    }
}
