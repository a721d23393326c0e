//! The finger table, stored by runs.
//!
//! Finger `i` of node `n` is the successor of `n + 2^i`, for `i` in `0..160`. In a network
//! of `N` nodes only about `log2 N` of the 160 entries are distinct: entry `i` equals entry
//! `i - 1` whenever `n + 2^i` does not pass it. The table keeps one entry per run (the first
//! index and the node), so a node costs `O(log N)` memory instead of 160 contacts, while
//! `finger(i)` still answers every index exactly.

use overlay::{Contact, Key, NodeId};

/// Chord's finger table as runs of equal entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerTable<A> {
    /// `(first index, node)`, sorted by index; run `k` covers indices up to the next run.
    runs: Vec<(u8, Contact<A>)>,
}

impl<A> Default for FingerTable<A> {
    fn default() -> Self {
        FingerTable { runs: Vec::new() }
    }
}

impl<A: Clone + PartialEq> FingerTable<A> {
    /// The node of finger `i`, if the table covers it.
    pub fn finger(&self, i: u8) -> Option<&Contact<A>> {
        let k = self.runs.partition_point(|(first, _)| *first <= i);
        k.checked_sub(1).map(|k| &self.runs[k].1)
    }

    /// Sets fingers `i..end` to `node`: runs that started inside that range are gone, since
    /// `node` is their successor too; indices from `end` on keep the node they had.
    pub fn set_run(&mut self, i: u8, end: u8, node: Contact<A>) {
        let tail = self.finger(end).cloned();
        self.runs.retain(|(first, _)| *first < i || *first >= end);
        if let Some(tail) = tail
            && (end as u32) < overlay::id::KEY_BITS
            && !self.runs.iter().any(|(first, _)| *first == end)
        {
            let at = self.runs.partition_point(|(first, _)| *first < end);
            self.runs.insert(at, (end, tail));
        }
        let at = self.runs.partition_point(|(first, _)| *first < i);
        self.runs.insert(at, (i, node));
    }

    /// Drops every run that starts below `i` (those fingers are the successor itself).
    pub fn clear_below(&mut self, i: u8) {
        self.runs.retain(|(first, _)| *first >= i);
    }

    /// Drops every run that starts at or above `i`.
    pub fn clear_from(&mut self, i: u8) {
        self.runs.retain(|(first, _)| *first < i);
    }

    /// Drops every run that points at `id`; lower runs then cover its indices, which is
    /// still correct routing (they precede it), until the next sweep repairs them.
    pub fn remove(&mut self, id: &NodeId) -> bool {
        let before = self.runs.len();
        self.runs.retain(|(_, c)| c.id != *id);
        before != self.runs.len()
    }

    /// The distinct fingers, lowest index first.
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = &Contact<A>> {
        self.runs.iter().map(|(_, c)| c)
    }

    /// The runs, for comparing tables.
    pub fn runs(&self) -> &[(u8, Contact<A>)] {
        &self.runs
    }

    /// Number of runs (distinct finger entries).
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The runs with adjacent duplicates merged: two tables that route alike compare equal.
    pub fn normalized(&self) -> Vec<(u8, &Contact<A>)> {
        let mut out: Vec<(u8, &Contact<A>)> = Vec::with_capacity(self.runs.len());
        for (i, c) in &self.runs {
            if out.last().is_none_or(|(_, last)| *last != c) {
                out.push((*i, c));
            }
        }
        out
    }
}

/// The first finger index whose start `n + 2^i` lies beyond `node`, i.e. the smallest `i`
/// with `2^i > distance(n, node)`.
pub fn first_index_beyond(n: &Key, node: &Key) -> u32 {
    n.distance_to(node).bit_length()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: u8) -> Contact<u32> {
        Contact::new(Key([b; 20]), b as u32)
    }

    #[test]
    fn runs_answer_every_index() {
        let mut t = FingerTable::default();
        t.set_run(100, 120, c(1));
        t.set_run(120, 160, c(2));
        assert_eq!(t.finger(99), None);
        assert_eq!(t.finger(100), Some(&c(1)));
        assert_eq!(t.finger(119), Some(&c(1)));
        assert_eq!(t.finger(159), Some(&c(2)));
        // A new run swallows the runs it covers.
        t.set_run(110, 140, c(3));
        assert_eq!(t.finger(105), Some(&c(1)));
        assert_eq!(t.finger(139), Some(&c(3)));
        assert_eq!(t.finger(159), Some(&c(2)));
        assert_eq!(t.len(), 3);
        assert!(t.remove(&c(3).id));
        assert_eq!(t.finger(139), Some(&c(1)));
    }

    #[test]
    fn first_index_beyond_is_the_bit_length() {
        let n = Key::ZERO;
        assert_eq!(first_index_beyond(&n, &Key::pow2(10)), 11);
        assert_eq!(
            first_index_beyond(&n, &Key::pow2(10).wrapping_sub(&Key::pow2(0))),
            10
        );
    }
}
