//! Tapestry's neighbour map: level `l`, digit `d` holds nodes sharing this node's first `l`
//! digits and having `d` as digit `l` — the closest by round-trip time first, then up to
//! `c` backups.
//!
//! Entries are stored flat, row by row, with round-trip times beside the contacts in two
//! bytes each, so a node with a few hundred neighbours costs a few kilobytes (a million of
//! them fit in one simulator).

use overlay::{Contact, Key};

/// Digit width: Tapestry reads ids in base 16.
pub const DIGIT_BITS: u32 = 4;
/// Entries per level.
pub const BASE: usize = 1 << DIGIT_BITS;
/// Kept round-trip times are in units of this many microseconds: fine enough to rank
/// nodes, and two bytes reach a second.
pub const RTT_UNIT_US: u32 = 16;
/// Stored round-trip time of a node not yet probed (after every measured one).
const UNKNOWN: u16 = u16::MAX;
/// Most nodes per entry: slot offsets are kept in two bytes (40 levels of 16 entries).
pub const MAX_WIDTH: usize = 64;

/// A round-trip time in microseconds as stored; a second or more is "far".
fn stored_rtt(us: u32) -> u16 {
    u16::try_from(us / RTT_UNIT_US).map_or(UNKNOWN - 1, |t| t.min(UNKNOWN - 1))
}

/// What [`NeighbourMap::insert`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Inserted<A> {
    /// The node took a free place in its entry.
    Added,
    /// The node was there; its round-trip time was updated.
    Updated,
    /// The node replaced a farther one, which left the map.
    Replaced(Contact<A>),
    /// The entry is full of nodes at least as close (or the candidate's distance is unknown).
    Rejected,
    /// The node is this node itself.
    Own,
}

/// The neighbour map.
#[derive(Clone, Debug, PartialEq)]
pub struct NeighbourMap<A> {
    me: Key,
    width: usize,
    slots: Vec<Contact<A>>,
    /// `rtts[i]`: round-trip time to `slots[i]`, in [`RTT_UNIT_US`].
    rtts: Vec<u16>,
    /// `ends[row * BASE + col]`: where that entry's slots end in `slots`.
    ends: Vec<u16>,
}

impl<A: Clone> NeighbourMap<A> {
    /// An empty map for `me` keeping `1 + backups` nodes per entry (at most
    /// [`MAX_WIDTH`]).
    pub fn new(me: Key, backups: usize) -> Self {
        NeighbourMap {
            me,
            width: backups.saturating_add(1).min(MAX_WIDTH),
            slots: Vec::new(),
            rtts: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Nodes kept per entry.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Levels allocated (deeper ones are empty).
    pub fn rows(&self) -> usize {
        self.ends.len() / BASE
    }

    /// The entry where `id` belongs; `None` for this node's own id.
    pub fn slot_of(&self, id: &Key) -> Option<(usize, usize)> {
        if *id == self.me {
            return None;
        }
        let row = self.me.shared_prefix_digits(id, DIGIT_BITS);
        Some((row as usize, id.digit(row, DIGIT_BITS) as usize))
    }

    fn bounds(&self, row: usize, col: usize) -> (usize, usize) {
        let i = row * BASE + col;
        if i >= self.ends.len() {
            return (self.slots.len(), self.slots.len());
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (start, self.ends[i] as usize)
    }

    /// The nodes of entry `(row, col)`, closest first.
    pub fn entry(&self, row: usize, col: usize) -> &[Contact<A>] {
        let (from, to) = self.bounds(row, col);
        &self.slots[from..to]
    }

    /// The nodes of level `row`, entry by entry.
    pub fn row(&self, row: usize) -> &[Contact<A>] {
        if row >= self.rows() {
            return &[];
        }
        let (from, _) = self.bounds(row, 0);
        let (_, to) = self.bounds(row, BASE - 1);
        &self.slots[from..to]
    }

    /// Every node in the map, level by level.
    pub fn slots(&self) -> &[Contact<A>] {
        &self.slots
    }

    /// The closest node of every non-empty entry, with its level.
    pub fn primaries(&self) -> impl Iterator<Item = (usize, &Contact<A>)> {
        (0..self.ends.len()).filter_map(|i| {
            let (from, to) = self.bounds(i / BASE, i % BASE);
            (from < to).then(|| (i / BASE, &self.slots[from]))
        })
    }

    /// The closest node of each non-empty entry of level `row`.
    pub fn row_primaries(&self, row: usize) -> impl Iterator<Item = &Contact<A>> {
        (0..BASE).filter_map(move |col| self.entry(row, col).first())
    }

    /// Whether `id` is the closest node of its entry.
    pub fn is_primary(&self, id: &Key) -> bool {
        self.slot_of(id)
            .and_then(|(row, col)| self.entry(row, col).first())
            .is_some_and(|c| c.id == *id)
    }

    /// Number of nodes in the map.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether `id` is in the map.
    pub fn contains(&self, id: &Key) -> bool {
        self.slot_of(id)
            .is_some_and(|(r, c)| self.entry(r, c).iter().any(|s| s.id == *id))
    }

    /// Whether a node `id` of unknown distance would enter without displacing anyone.
    pub fn has_room_for(&self, id: &Key) -> bool {
        self.slot_of(id)
            .is_some_and(|(r, c)| self.entry(r, c).len() < self.width)
    }

    /// Takes note of `c`, with its round-trip time if just measured. Entries stay sorted
    /// closest first; nodes of unknown distance come after measured ones.
    pub fn insert(&mut self, c: &Contact<A>, rtt: Option<u32>) -> Inserted<A> {
        let Some((row, col)) = self.slot_of(&c.id) else {
            return Inserted::Own;
        };
        let rtt = rtt.map_or(UNKNOWN, stored_rtt);
        self.grow_to(row + 1);
        let (from, to) = self.bounds(row, col);
        if let Some(at) = self.slots[from..to].iter().position(|s| s.id == c.id) {
            if rtt == UNKNOWN {
                return Inserted::Updated;
            }
            self.take(from + at);
            let at = from + self.rtts[from..to - 1].partition_point(|&r| r <= rtt);
            self.put(at, c, rtt);
            return Inserted::Updated;
        }
        let at = from + self.rtts[from..to].partition_point(|&r| r <= rtt);
        if to - from < self.width {
            self.put(at, c, rtt);
            self.shift_ends(row * BASE + col, 1);
            return Inserted::Added;
        }
        if at >= to {
            return Inserted::Rejected;
        }
        let evicted = self.take(to - 1);
        self.put(at, c, rtt);
        Inserted::Replaced(evicted)
    }

    fn put(&mut self, at: usize, c: &Contact<A>, rtt: u16) {
        self.slots.insert(at, c.clone());
        self.rtts.insert(at, rtt);
    }

    fn take(&mut self, at: usize) -> Contact<A> {
        self.rtts.remove(at);
        self.slots.remove(at)
    }

    /// Drops `id`; returns its entry and whether the entry is now empty.
    pub fn remove(&mut self, id: &Key) -> Option<(usize, usize, bool)> {
        let (row, col) = self.slot_of(id)?;
        let (from, to) = self.bounds(row, col);
        let at = self.slots[from..to].iter().position(|s| s.id == *id)?;
        self.take(from + at);
        self.shift_ends(row * BASE + col, -1);
        self.trim();
        Some((row, col, to - from == 1))
    }

    /// Makes room for `slots` nodes over `rows` levels at once, so a map built in one go
    /// allocates once instead of leaving a trail of outgrown buffers.
    pub fn reserve(&mut self, slots: usize, rows: usize) {
        self.slots.reserve_exact(slots);
        self.rtts.reserve_exact(slots);
        self.ends
            .reserve_exact((rows * BASE).saturating_sub(self.ends.len()));
    }

    /// Which entries are non-empty, level by level (trailing empty levels trimmed).
    pub fn occupancy(&self) -> Vec<bool> {
        (0..self.ends.len())
            .map(|i| {
                let (from, to) = self.bounds(i / BASE, i % BASE);
                from < to
            })
            .collect()
    }

    fn grow_to(&mut self, rows: usize) {
        let end = self.slots.len() as u16;
        while self.rows() < rows {
            self.ends.extend([end; BASE]);
        }
    }

    fn shift_ends(&mut self, from_entry: usize, by: i8) {
        for e in &mut self.ends[from_entry..] {
            *e = e.wrapping_add_signed(by as i16);
        }
    }

    fn trim(&mut self) {
        while self.rows() > 0 {
            let (from, _) = self.bounds(self.rows() - 1, 0);
            if from < self.slots.len() {
                break;
            }
            self.ends.truncate(self.ends.len() - BASE);
        }
        if self.ends.capacity() > 2 * self.ends.len() + BASE {
            self.ends.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(first: u8, second: u8) -> Key {
        let mut k = [0u8; 20];
        k[0] = first;
        k[1] = second;
        Key(k)
    }

    #[test]
    fn far_nodes_rank_before_unprobed_ones() {
        assert_eq!(stored_rtt(0), 0);
        assert_eq!(stored_rtt(RTT_UNIT_US * 7 + 1), 7);
        assert_eq!(stored_rtt(u32::MAX), UNKNOWN - 1);
        let me = key(0x12, 0);
        let mut m: NeighbourMap<u32> = NeighbourMap::new(me, 1);
        let far = Contact::new(key(0x17, 1), 1);
        let unprobed = Contact::new(key(0x17, 2), 2);
        m.insert(&unprobed, None);
        m.insert(&far, Some(5_000_000));
        assert_eq!(m.entry(1, 7)[0].addr, 1);
    }

    #[test]
    fn entries_keep_the_closest_first_and_at_most_width() {
        let me = key(0x12, 0);
        let mut m: NeighbourMap<u32> = NeighbourMap::new(me, 1);
        let a = Contact::new(key(0x17, 1), 1);
        let b = Contact::new(key(0x17, 2), 2);
        let c = Contact::new(key(0x17, 3), 3);
        assert_eq!(m.slot_of(&a.id), Some((1, 7)));
        assert_eq!(m.insert(&a, Some(50_000)), Inserted::Added);
        assert_eq!(m.insert(&b, None), Inserted::Added);
        assert_eq!(
            m.insert(&c, None),
            Inserted::Rejected,
            "full, distance unknown"
        );
        assert_eq!(m.insert(&c, Some(10_000)), Inserted::Replaced(b.clone()));
        let ids: Vec<u32> = m.entry(1, 7).iter().map(|s| s.addr).collect();
        assert_eq!(ids, vec![3, 1]);
        assert_eq!(m.insert(&a, Some(5_000)), Inserted::Updated);
        assert_eq!(m.entry(1, 7)[0].addr, 1);
        assert_eq!(m.rows(), 2);
        assert!(m.entry(0, 3).is_empty());
        let d = Contact::new(key(0x40, 0), 4);
        m.insert(&d, None);
        assert_eq!(m.primaries().count(), 2);
        assert_eq!(m.remove(&a.id), Some((1, 7, false)));
        assert_eq!(m.remove(&c.id), Some((1, 7, true)));
        assert_eq!(m.rows(), 1, "the empty level is trimmed");
        assert_eq!(m.entry(0, 4)[0].addr, 4);
        assert_eq!(m.insert(&Contact::new(me, 0), None), Inserted::Own);
    }
}
