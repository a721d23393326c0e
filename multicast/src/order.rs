//! Delivery in publication order per publisher: a hold-back queue with a timeout on gaps.

use std::collections::BTreeMap;

use overlay::Time;

use crate::messages::Publication;

/// Most messages held back for one publisher; past it the oldest gap is given up on.
const MAX_HELD: usize = 1024;

/// What a node has received from one publisher in one group.
#[derive(Clone, Debug)]
pub struct Inbox {
    /// The sequence number delivered next.
    next: u64,
    /// Messages that arrived ahead of a missing one, with when they arrived.
    held: BTreeMap<u64, (Publication, Time)>,
}

impl Default for Inbox {
    fn default() -> Self {
        // Publishers number their messages from 1. A member that subscribed later waits
        // for the earlier ones like for any gap: they may only be late.
        Inbox {
            next: 1,
            held: BTreeMap::new(),
        }
    }
}

impl Inbox {
    /// Takes `p`: returns `None` if it was seen before, else the messages now deliverable
    /// in order (empty while `p` waits behind a gap).
    pub fn accept(&mut self, p: Publication, now: Time) -> Option<Vec<Publication>> {
        if p.seq < self.next || self.held.contains_key(&p.seq) {
            return None;
        }
        self.held.insert(p.seq, (p, now));
        if self.held.len() > MAX_HELD {
            self.skip_gap();
        }
        Some(self.ready())
    }

    /// Gives up on gaps held for longer than up to `cutoff` and returns what follows them.
    pub fn flush(&mut self, cutoff: Time) -> Vec<Publication> {
        let mut out = Vec::new();
        while self
            .held
            .first_key_value()
            .is_some_and(|(_, (_, at))| *at <= cutoff)
        {
            self.skip_gap();
            out.extend(self.ready());
        }
        out
    }

    /// Whether messages wait behind a gap.
    pub fn is_waiting(&self) -> bool {
        !self.held.is_empty()
    }

    fn skip_gap(&mut self) {
        if let Some((&first, _)) = self.held.first_key_value() {
            self.next = first;
        }
    }

    fn ready(&mut self) -> Vec<Publication> {
        let mut out = Vec::new();
        while let Some((p, _)) = self.held.remove(&self.next) {
            out.push(p);
            self.next += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay::Key;

    fn p(seq: u64) -> Publication {
        Publication {
            group: Key::hash("g"),
            publisher: Key::hash("p"),
            seq,
            payload: vec![seq as u8],
        }
    }

    fn seqs(ps: Vec<Publication>) -> Vec<u64> {
        ps.into_iter().map(|p| p.seq).collect()
    }

    #[test]
    fn holds_back_until_the_gap_fills_and_drops_duplicates() {
        let mut inbox = Inbox::default();
        assert_eq!(
            inbox.accept(p(2), Time(0)).map(seqs),
            Some(vec![]),
            "1 may be late"
        );
        assert_eq!(inbox.accept(p(1), Time(1)).map(seqs), Some(vec![1, 2]));
        assert_eq!(inbox.accept(p(4), Time(1)).map(seqs), Some(vec![]));
        assert_eq!(inbox.accept(p(4), Time(2)), None, "duplicate held message");
        assert_eq!(inbox.accept(p(3), Time(3)).map(seqs), Some(vec![3, 4]));
        assert_eq!(
            inbox.accept(p(3), Time(4)),
            None,
            "duplicate delivered message"
        );
        assert!(!inbox.is_waiting());
    }

    #[test]
    fn a_gap_is_given_up_after_its_timeout() {
        let mut inbox = Inbox::default();
        inbox.accept(p(1), Time(0));
        inbox.accept(p(3), Time(10));
        inbox.accept(p(4), Time(11));
        assert!(inbox.flush(Time(9)).is_empty(), "not yet");
        assert_eq!(seqs(inbox.flush(Time(10))), vec![3, 4]);
        assert_eq!(
            inbox.accept(p(2), Time(12)),
            None,
            "late after its gap was skipped"
        );
        assert_eq!(inbox.accept(p(5), Time(13)).map(seqs), Some(vec![5]));
    }

    #[test]
    fn a_late_subscriber_waits_for_earlier_messages_only_as_long_as_for_a_gap() {
        let mut inbox = Inbox::default();
        assert_eq!(inbox.accept(p(40), Time(5)).map(seqs), Some(vec![]));
        assert_eq!(seqs(inbox.flush(Time(5))), vec![40]);
        assert_eq!(inbox.accept(p(41), Time(6)).map(seqs), Some(vec![41]));
    }
}
