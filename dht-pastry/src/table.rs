//! Pastry's routing table: row `i` holds, for each digit `d`, a node sharing the first `i`
//! digits with this node and having `d` as digit `i`.

use overlay::{Contact, Key};

/// A routing-table entry with the round-trip time measured to it, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<A> {
    /// The node.
    pub contact: Contact<A>,
    /// Measured round-trip time in microseconds (proximity metric), when probed.
    pub rtt: Option<u32>,
}

/// The routing table, rows allocated as far as they hold anything.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutingTable<A> {
    me: Key,
    b: u32,
    cols: usize,
    slots: Vec<Option<Entry<A>>>,
}

impl<A: Clone> RoutingTable<A> {
    /// An empty table for `me` with base-`2^b` digits.
    pub fn new(me: Key, b: u32) -> Self {
        RoutingTable {
            me,
            b,
            cols: 1 << b,
            slots: Vec::new(),
        }
    }

    /// Bits per digit.
    pub fn b(&self) -> u32 {
        self.b
    }

    /// Rows allocated.
    pub fn rows(&self) -> usize {
        self.slots.len() / self.cols
    }

    /// The slot (row, column) where `id` belongs; `None` for this node's own id.
    pub fn slot_of(&self, id: &Key) -> Option<(usize, usize)> {
        if *id == self.me {
            return None;
        }
        let row = self.me.shared_prefix_digits(id, self.b);
        Some((row as usize, id.digit(row, self.b) as usize))
    }

    /// The entry at `(row, col)`.
    pub fn get(&self, row: usize, col: usize) -> Option<&Entry<A>> {
        self.slots.get(row * self.cols + col)?.as_ref()
    }

    /// Puts `entry` at `(row, col)`, replacing what was there.
    pub fn set(&mut self, row: usize, col: usize, entry: Entry<A>) {
        let i = row * self.cols + col;
        if i >= self.slots.len() {
            self.slots.resize((row + 1) * self.cols, None);
        }
        self.slots[i] = Some(entry);
    }

    /// Empties the slot holding `id`; returns the slot if it held it.
    pub fn remove(&mut self, id: &Key) -> Option<(usize, usize)> {
        let (row, col) = self.slot_of(id)?;
        let i = row * self.cols + col;
        let slot = self.slots.get_mut(i)?;
        if slot.as_ref().is_some_and(|e| e.contact.id == *id) {
            *slot = None;
            self.trim();
            return Some((row, col));
        }
        None
    }

    /// Drops empty rows at the end.
    fn trim(&mut self) {
        while self.rows() > 0
            && self.slots[(self.rows() - 1) * self.cols..]
                .iter()
                .all(Option::is_none)
        {
            self.slots.truncate((self.rows() - 1) * self.cols);
        }
    }

    /// The entries of row `row`.
    pub fn row(&self, row: usize) -> impl Iterator<Item = &Entry<A>> {
        let from = (row * self.cols).min(self.slots.len());
        let to = ((row + 1) * self.cols).min(self.slots.len());
        self.slots[from..to].iter().flatten()
    }

    /// Every entry, row by row.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<A>> {
        self.slots.iter().flatten()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries().count()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// Which slots are filled, row by row (trailing empty rows trimmed).
    pub fn occupancy(&self) -> Vec<bool> {
        self.slots.iter().map(Option::is_some).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_shared_prefix() {
        let me = Key([0x12; 20]);
        let mut t: RoutingTable<u32> = RoutingTable::new(me, 4);
        let mut other = [0x12; 20];
        other[0] = 0x17;
        let id = Key(other);
        assert_eq!(t.slot_of(&id), Some((1, 7)));
        assert_eq!(t.slot_of(&me), None);
        t.set(
            1,
            7,
            Entry {
                contact: Contact::new(id, 9),
                rtt: None,
            },
        );
        assert_eq!(t.rows(), 2);
        assert_eq!(t.get(1, 7).map(|e| e.contact.addr), Some(9));
        assert_eq!(t.remove(&id), Some((1, 7)));
        assert_eq!(t.rows(), 0);
    }
}
