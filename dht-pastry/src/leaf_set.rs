//! The leaf set: the numerically closest nodes on each side of a node's id.

use std::cmp::Ordering;

use overlay::{Contact, Key};

/// The `L/2` nearest nodes counter-clockwise (`left`, smaller ids) and clockwise (`right`,
/// larger ids) of `me`, nearest first. In a network of at most `L` other nodes a node can
/// sit on both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct LeafSet<A> {
    me: Key,
    half: usize,
    left: Vec<Contact<A>>,
    right: Vec<Contact<A>>,
}

impl<A: Clone + PartialEq> LeafSet<A> {
    /// An empty leaf set of `size` nodes around `me`.
    pub fn new(me: Key, size: usize) -> Self {
        let half = size.div_ceil(2).max(1);
        LeafSet {
            me,
            half,
            left: Vec::with_capacity(half),
            right: Vec::with_capacity(half),
        }
    }

    /// Nodes counter-clockwise of this one, nearest first.
    pub fn left(&self) -> &[Contact<A>] {
        &self.left
    }

    /// Nodes clockwise of this one, nearest first.
    pub fn right(&self) -> &[Contact<A>] {
        &self.right
    }

    /// Every node in the set once, nearest first, alternating sides.
    pub fn nodes(&self) -> impl Iterator<Item = &Contact<A>> {
        let (l, r) = (&self.left, &self.right);
        (0..l.len().max(r.len()))
            .flat_map(move |i| {
                // A node on both sides (small networks) is listed once, from the left.
                let right = r.get(i).filter(|c| !l.iter().any(|x| x.id == c.id));
                [l.get(i), right]
            })
            .flatten()
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.nodes().count()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.left.is_empty() && self.right.is_empty()
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: &Key) -> bool {
        self.left.iter().chain(&self.right).any(|c| c.id == *id)
    }

    /// Offers a node. Returns `None` if the set did not take it, else the nodes it pushed
    /// out of the set.
    pub fn insert(&mut self, c: &Contact<A>) -> Option<Vec<Contact<A>>> {
        if !self.would_take(c) {
            return None;
        }
        let me = self.me;
        let mut out = Vec::new();
        out.extend(insert_side(&mut self.left, self.half, c, |x| {
            x.distance_to(&me)
        }));
        out.extend(insert_side(&mut self.right, self.half, c, |x| {
            me.distance_to(x)
        }));
        out.retain(|x| !self.contains(&x.id));
        out.dedup_by(|a, b| a.id == b.id);
        Some(out)
    }

    /// Whether [`LeafSet::insert`] would take `c`.
    pub fn would_take(&self, c: &Contact<A>) -> bool {
        if c.id == self.me || self.contains(&c.id) {
            return false;
        }
        let me = self.me;
        let fits = |side: &[Contact<A>], d: Key, dist: &dyn Fn(&Key) -> Key| {
            side.len() < self.half || side.last().is_some_and(|x| d < dist(&x.id))
        };
        fits(&self.left, c.id.distance_to(&me), &|x| x.distance_to(&me))
            || fits(&self.right, me.distance_to(&c.id), &|x| me.distance_to(x))
    }

    /// Whether `id` lies inside the stretch of ring the set spans, strictly between its
    /// farthest nodes on either side, or the set wraps or has an empty side (so spans
    /// nothing it could check against). A side left short by a failure spans only up to
    /// its farthest node: beyond that, nodes it has not heard of may be missing.
    pub fn spans(&self, id: &Key) -> bool {
        self.reaches(id, false)
    }

    /// Whether `id` lies between the set's farthest nodes on either side (`ends`: or is
    /// one of them), or the set wraps or has an empty side.
    fn reaches(&self, id: &Key, ends: bool) -> bool {
        let (Some(l), Some(r)) = (self.left.last(), self.right.last()) else {
            return true;
        };
        let me = self.me;
        let inside = |o: Ordering| o.is_lt() || (ends && o.is_eq());
        self.wraps()
            || inside(id.distance_to(&me).cmp(&l.id.distance_to(&me)))
            || inside(me.distance_to(id).cmp(&me.distance_to(&r.id)))
    }

    /// Removes a node; returns it if it was there.
    pub fn remove(&mut self, id: &Key) -> Option<Contact<A>> {
        let found = self
            .left
            .iter()
            .chain(&self.right)
            .find(|c| c.id == *id)
            .cloned();
        self.left.retain(|c| c.id != *id);
        self.right.retain(|c| c.id != *id);
        found
    }

    /// Whether the set holds every node there is: the sides meet.
    pub fn wraps(&self) -> bool {
        // Any known node is on both sides' lists unless they are full of nearer ones, so a
        // node that knows everyone has the sides overlapping.
        self.is_empty()
            || self
                .left
                .iter()
                .any(|c| self.right.iter().any(|r| r.id == c.id))
    }

    /// Whether `key` lies within the range the set covers, so that its root is known.
    pub fn covers(&self, key: &Key) -> bool {
        self.reaches(key, true)
    }

    /// This node and the set, the `num` numerically closest to `key` first.
    pub fn closest(&self, key: &Key, me: &Contact<A>, num: usize) -> Vec<Contact<A>> {
        let mut all: Vec<&Contact<A>> = std::iter::once(me).chain(self.nodes()).collect();
        all.sort_by(|a, b| key.cmp_distance(&a.id, &b.id));
        all.into_iter().take(num).cloned().collect()
    }

    /// The farthest node on the side `key` lies on, from which a hole on that side is
    /// repaired.
    pub fn farthest_towards(&self, key: &Key) -> Option<&Contact<A>> {
        let left_side = key.distance_to(&self.me) < self.me.distance_to(key);
        let (first, second) = if left_side {
            (&self.left, &self.right)
        } else {
            (&self.right, &self.left)
        };
        first.last().or(second.last())
    }
}

/// Inserts `c` into one side kept sorted by `dist` and at most `half` long; returns the
/// node pushed off the far end, if any.
fn insert_side<A: Clone>(
    side: &mut Vec<Contact<A>>,
    half: usize,
    c: &Contact<A>,
    dist: impl Fn(&Key) -> Key,
) -> Option<Contact<A>> {
    let d = dist(&c.id);
    let at = side.partition_point(|x| dist(&x.id) < d);
    if at >= half {
        return None;
    }
    side.insert(at, c.clone());
    if side.len() > half { side.pop() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: u8) -> Contact<u32> {
        Contact::new(Key([b; 20]), b as u32)
    }

    #[test]
    fn keeps_nearest_on_each_side() {
        let mut s = LeafSet::new(Key([0x80; 20]), 4);
        for b in [0x10, 0x70, 0x78, 0x90, 0xa0, 0xf0, 0x60] {
            s.insert(&c(b));
        }
        let ids = |v: &[Contact<u32>]| v.iter().map(|c| c.addr).collect::<Vec<_>>();
        assert_eq!(ids(s.left()), vec![0x78, 0x70]);
        assert_eq!(ids(s.right()), vec![0x90, 0xa0]);
        assert!(!s.wraps());
        assert!(s.covers(&Key([0x71; 20])));
        assert!(!s.covers(&Key([0x6f; 20])));
        assert!(s.covers(&Key([0xa0; 20])));
        assert!(!s.covers(&Key([0xa1; 20])));
    }

    #[test]
    fn a_side_thinned_by_a_failure_spans_only_to_its_farthest_node() {
        let mut s = LeafSet::new(Key([0x80; 20]), 4);
        for b in [0x60, 0x70, 0x90, 0xa0] {
            s.insert(&c(b));
        }
        assert!(s.remove(&Key([0x60; 20])).is_some());
        assert!(s.spans(&Key([0x71; 20])));
        assert!(s.spans(&Key([0x9f; 20])));
        // The left side has room, and takes a node from beyond the failed one, but the
        // set cannot tell whether nearer ones are missing.
        assert!(s.would_take(&c(0x20)));
        assert!(!s.spans(&Key([0x20; 20])));
        assert!(!s.spans(&Key([0xa1; 20])));
    }

    #[test]
    fn small_network_wraps_and_lists_each_node_once() {
        let mut s = LeafSet::new(Key([0x80; 20]), 8);
        for b in [0x10, 0x90, 0xf0] {
            s.insert(&c(b));
        }
        assert!(s.wraps());
        assert_eq!(s.len(), 3);
        assert!(s.covers(&Key([0x00; 20])));
        let me = c(0x80);
        let root = s.closest(&Key([0x05; 20]), &me, 1);
        assert_eq!(root[0].addr, 0x10);
        assert!(s.remove(&Key([0x90; 20])).is_some());
        assert_eq!(s.len(), 2);
    }
}
