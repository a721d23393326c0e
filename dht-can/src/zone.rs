//! Zones of the d-dimensional torus `[0,1)^d` and the points keys map to.
//!
//! A zone is a node of the binary partition tree CAN's joins build: each split halves a
//! zone along the next dimension in turn (depth `k` splits dimension `k mod d`). A zone is
//! therefore named by its path of split bits, and a key's point is chosen so that the
//! point's path is the key's own bits: coordinate `j` takes key bits `j, j+d, j+2d, ...`.
//! Whether a zone holds a key is then a prefix test, and the zones of all nodes partition
//! the key space as they partition the torus.

use overlay::{InvalidMessage, Key};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// A node's zones, inline while there is one (nearly always): routing a hop reads the
/// zones of every neighbour, and a separate allocation for each was a cache miss apiece.
pub type Zones = SmallVec<[Zone; 1]>;

/// Most dimensions supported.
pub const MAX_DIMS: usize = 16;
/// Deepest zone: paths are 128 bits.
pub const MAX_DEPTH: u8 = 128;

/// The first 128 bits of a key, the part of it zones look at.
pub fn key_path(key: &Key) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&key.as_bytes()[..16]);
    u128::from_be_bytes(b)
}

/// Splits interleaved bits by dimension: dimension `j` takes bits `j, j+d, j+2d, ...` of
/// the first `len` bits of `words` (big-endian, most significant first), at most 64 of
/// them. Returns each dimension's bits, left-aligned, and how many it took.
///
/// Every lookup hop does this for the key and for each neighbour's zone, so it avoids
/// walking bit by bit through the dimensions (a division and a memory round trip per bit
/// took a large share of a hop's time).
fn deinterleave(words: [u64; 3], len: usize, d: usize) -> ([u64; MAX_DIMS], [u8; MAX_DIMS]) {
    let mut coords = [0u64; MAX_DIMS];
    let mut taken = [0u8; MAX_DIMS];
    if d == 2 {
        // The default, and the case with the longest paths: a shift-and-mask de-interleave.
        // Two coordinates of 64 bits use up the first 128 bits.
        let len = len.min(128);
        let keep = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        let x = (((words[0] as u128) << 64) | words[1] as u128) & keep;
        coords[0] = even_bits(x >> 1);
        coords[1] = even_bits(x);
        taken[0] = len.div_ceil(2) as u8;
        taken[1] = (len / 2) as u8;
        return (coords, taken);
    }
    // One dimension at a time, its bits gathered in a register.
    for j in 0..d.min(len) {
        let (mut c, mut n, mut k) = (0u64, 0u8, j);
        while k < len && n < 64 {
            c |= ((words[k / 64] >> (63 - k % 64)) & 1) << (63 - n);
            n += 1;
            k += d;
        }
        coords[j] = c;
        taken[j] = n;
    }
    (coords, taken)
}

/// Bits 0, 2, 4, ... of `x` (counting from the least significant), packed in order.
fn even_bits(x: u128) -> u64 {
    let mut x = x & 0x5555_5555_5555_5555_5555_5555_5555_5555;
    x = (x | x >> 1) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
    x = (x | x >> 2) & 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f;
    x = (x | x >> 4) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
    x = (x | x >> 8) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
    x = (x | x >> 16) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
    x = (x | x >> 32) & 0x0000_0000_0000_0000_ffff_ffff_ffff_ffff;
    x as u64
}

/// The parts of `zones` that none of `holes` covers.
pub fn subtract<'a>(zones: &[Zone], holes: impl IntoIterator<Item = &'a Zone>) -> Vec<Zone> {
    let mut rest = zones.to_vec();
    for h in holes {
        if rest.iter().any(|z| z.covers(h) || h.covers(z)) {
            rest = rest.iter().flat_map(|z| z.minus(h)).collect();
        }
    }
    rest
}

/// One zone: the first `depth` bits of `path` (the rest are zero).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Zone {
    hi: u64,
    lo: u64,
    depth: u8,
}

impl Zone {
    /// The whole torus.
    pub const WHOLE: Zone = Zone {
        hi: 0,
        lo: 0,
        depth: 0,
    };

    /// The zone of the first `depth` bits of `path`.
    pub fn from_path(path: u128, depth: u8) -> Zone {
        let path = if depth == 0 {
            0
        } else {
            path & (u128::MAX << (128 - depth as u32))
        };
        Zone {
            hi: (path >> 64) as u64,
            lo: path as u64,
            depth,
        }
    }

    /// The split bits, most significant first.
    pub fn path(&self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }

    /// Number of splits from the whole torus.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Checks a zone that came from the network.
    pub fn validate(&self) -> Result<(), InvalidMessage> {
        if self.depth > MAX_DEPTH || Zone::from_path(self.path(), self.depth) != *self {
            return Err(InvalidMessage::Bad(format!(
                "zone of depth {} with bits set past its depth",
                self.depth
            )));
        }
        Ok(())
    }

    /// Whether `path` (a key's first 128 bits) lies in this zone.
    #[inline]
    pub fn contains_path(&self, path: u128) -> bool {
        self.depth == 0 || (path ^ self.path()) >> (128 - self.depth as u32) == 0
    }

    /// Whether `key`'s point lies in this zone.
    pub fn contains(&self, key: &Key) -> bool {
        self.contains_path(key_path(key))
    }

    /// Whether `other` lies inside this zone (or is it).
    pub fn covers(&self, other: &Zone) -> bool {
        other.depth >= self.depth && self.contains_path(other.path())
    }

    /// The half of this zone holding `key`'s point, after splitting it along the next
    /// dimension; `None` at the deepest level.
    pub fn half_towards(&self, key: &Key) -> Option<Zone> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        Some(Zone::from_path(key_path(key), self.depth + 1))
    }

    /// The half of this zone on `key`'s side of the next split (the half holding the
    /// point when the zone does); `None` at the deepest level.
    pub fn half_by(&self, key: &Key) -> Option<Zone> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let bit = 1u128 << (127 - self.depth as u32);
        Some(Zone::from_path(
            self.path() | (key_path(key) & bit),
            self.depth + 1,
        ))
    }

    /// The other half of the zone this one was split from.
    pub fn sibling(&self) -> Option<Zone> {
        if self.depth == 0 {
            return None;
        }
        let bit = 1u128 << (128 - self.depth as u32);
        Some(Zone::from_path(self.path() ^ bit, self.depth))
    }

    /// The zone this one and its sibling were split from.
    pub fn parent(&self) -> Option<Zone> {
        (self.depth > 0).then(|| Zone::from_path(self.path(), self.depth - 1))
    }

    /// This zone without `other`, as the fewest zones: itself when the two are apart,
    /// nothing when `other` covers it, else the siblings of `other` and of its ancestors
    /// below this zone.
    pub fn minus(&self, other: &Zone) -> Vec<Zone> {
        if other.covers(self) {
            return Vec::new();
        }
        if !self.covers(other) {
            return vec![*self];
        }
        let mut rest = Vec::with_capacity((other.depth - self.depth) as usize);
        let mut z = *other;
        while z.depth > self.depth {
            rest.push(
                z.sibling()
                    .expect("deeper than self, so not the whole torus"),
            );
            z = z
                .parent()
                .expect("deeper than self, so not the whole torus");
        }
        rest
    }

    /// Share of the torus, `2^-depth`.
    pub fn volume(&self) -> f64 {
        (-(self.depth as f64)).exp2()
    }

    /// The zone's extent per dimension in `d` dimensions.
    pub fn bounds(&self, d: usize) -> Bounds {
        let (lo, levels) = deinterleave([self.hi, self.lo, 0], self.depth as usize, d);
        Bounds { lo, levels }
    }
}

/// A key's point: coordinate `j` in fixed point (`2^64` is 1), from key bits `j, j+d, ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    coords: [u64; MAX_DIMS],
}

impl Point {
    /// The point of `key` in `d` dimensions.
    pub fn of(key: &Key, d: usize) -> Point {
        let mut words = [0u64; 3];
        for (w, chunk) in words.iter_mut().zip(key.as_bytes().chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *w = u64::from_be_bytes(b);
        }
        Point {
            coords: deinterleave(words, overlay::id::KEY_BITS as usize, d).0,
        }
    }

    /// Coordinate `j` as a fraction in `[0, 1)`.
    pub fn coord(&self, j: usize) -> f64 {
        self.coords[j] as f64 / 2f64.powi(64)
    }
}

/// A zone's extent: in dimension `j` it spans `[lo[j], lo[j] + 2^-levels[j])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    lo: [u64; MAX_DIMS],
    levels: [u8; MAX_DIMS],
}

impl Bounds {
    /// Length in dimension `j` in fixed point; `None` for the whole dimension.
    fn len(&self, j: usize) -> Option<u64> {
        (self.levels[j] > 0).then(|| 1u64 << (64 - self.levels[j] as u32))
    }

    /// Squared torus distance from `p` to the nearest point of this zone (0 inside), with
    /// coordinates as fractions of 1.
    pub fn distance2(&self, p: &Point, d: usize) -> f64 {
        let mut sum = 0.0;
        for j in 0..d {
            let Some(len) = self.len(j) else { continue };
            let off = p.coords[j].wrapping_sub(self.lo[j]);
            if off < len {
                continue;
            }
            let below = self.lo[j].wrapping_sub(p.coords[j]);
            let above = off - len;
            let gap = below.min(above) as f64 / 2f64.powi(64);
            sum += gap * gap;
        }
        sum
    }

    /// Squared torus distance from `p` to this zone's centre, to break ties between zones
    /// at the same distance.
    pub fn centre_distance2(&self, p: &Point, d: usize) -> f64 {
        let mut sum = 0.0;
        for j in 0..d {
            let Some(len) = self.len(j) else { continue };
            let centre = self.lo[j].wrapping_add(len / 2);
            let a = centre.wrapping_sub(p.coords[j]);
            let gap = a.min(a.wrapping_neg()) as f64 / 2f64.powi(64);
            sum += gap * gap;
        }
        sum
    }

    /// Whether a zone inside `self` could abut `other`: the spans overlap in every
    /// dimension but at most one, and in that one they touch (sub-zones only shrink the
    /// spans, so a region failing this holds no neighbour of `other`).
    pub fn may_hold_neighbour_of(&self, other: &Bounds, d: usize) -> bool {
        let mut apart = None;
        for j in 0..d {
            if !self.overlaps(other, j) {
                if apart.is_some() {
                    return false;
                }
                apart = Some(j);
            }
        }
        apart.is_none_or(|j| self.touches(other, j))
    }

    /// Whether the spans in dimension `j` overlap.
    fn overlaps(&self, other: &Bounds, j: usize) -> bool {
        match (self.len(j), other.len(j)) {
            (None, _) | (_, None) => true,
            (Some(a), Some(b)) => {
                other.lo[j].wrapping_sub(self.lo[j]) < a || self.lo[j].wrapping_sub(other.lo[j]) < b
            }
        }
    }

    /// Whether the spans in dimension `j` touch end to end (on the torus).
    fn touches(&self, other: &Bounds, j: usize) -> bool {
        match (self.len(j), other.len(j)) {
            (Some(a), Some(b)) => {
                self.lo[j].wrapping_add(a) == other.lo[j]
                    || other.lo[j].wrapping_add(b) == self.lo[j]
            }
            _ => false,
        }
    }

    /// CAN's neighbour relation: the spans overlap in `d - 1` dimensions and touch in
    /// the remaining one.
    pub fn abuts(&self, other: &Bounds, d: usize) -> bool {
        let mut apart = None;
        for j in 0..d {
            if !self.overlaps(other, j) {
                if apart.is_some() {
                    return false;
                }
                apart = Some(j);
            }
        }
        apart.is_some_and(|j| self.touches(other, j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn halves_of_a_zone_abut_and_merge_back() {
        let k = Key::hash("x");
        let a = Zone::WHOLE.half_towards(&k).unwrap();
        let b = a.sibling().unwrap();
        assert_eq!(a.parent(), Some(Zone::WHOLE));
        assert_eq!(b.parent(), Some(Zone::WHOLE));
        assert!(a.contains(&k) && !b.contains(&k));
        for d in 1..=10 {
            assert!(a.bounds(d).abuts(&b.bounds(d), d), "d={d}");
        }
    }

    #[test]
    fn a_zone_minus_a_part_of_it_leaves_the_rest() {
        let whole = Zone::from_path(0, 1);
        let part = Zone::from_path(0b1011 << 124, 4);
        let rest = Zone::from_path(0b1 << 127, 1).minus(&part);
        assert_eq!(rest.len(), 3);
        let v: f64 = rest.iter().map(Zone::volume).sum();
        assert!((v + part.volume() - 0.5).abs() < 1e-12);
        assert!(rest.iter().all(|z| !z.covers(&part) && !part.covers(z)));
        assert_eq!(whole.minus(&part), vec![whole]);
        assert!(part.minus(&Zone::WHOLE).is_empty());
    }

    #[test]
    fn diagonal_quarters_are_not_neighbours() {
        // In 2-d, quarters (0,0) and (1,1) touch only at corners.
        let q00 = Zone::from_path(0, 2);
        let q11 = Zone::from_path(0b11 << 126, 2);
        let q01 = Zone::from_path(0b01 << 126, 2);
        assert!(!q00.bounds(2).abuts(&q11.bounds(2), 2));
        assert!(q00.bounds(2).abuts(&q01.bounds(2), 2));
    }

    /// Coordinate `j` takes bits `j, j+d, ...` of `bits` (most significant first), at
    /// most 64 of them: the definition, bit by bit.
    fn gathered(
        bits: impl Fn(usize) -> u64,
        len: usize,
        d: usize,
    ) -> ([u64; MAX_DIMS], [u8; MAX_DIMS]) {
        let mut coords = [0u64; MAX_DIMS];
        let mut taken = [0u8; MAX_DIMS];
        for k in 0..len {
            let j = k % d;
            if taken[j] < 64 {
                coords[j] |= bits(k) << (63 - taken[j]);
                taken[j] += 1;
            }
        }
        (coords, taken)
    }

    proptest! {
        #[test]
        fn points_and_bounds_take_every_dth_bit(key in any::<[u8; 20]>(), depth in 0u8..=128, d in 1usize..=MAX_DIMS) {
            let key = Key(key);
            let bit = |k: usize| ((key.as_bytes()[k / 8] >> (7 - k % 8)) & 1) as u64;
            // Two dimensions have their own shortcut: always check it too.
            for d in [d, 2] {
                prop_assert_eq!(Point::of(&key, d).coords, gathered(bit, 160, d).0);
                let (lo, levels) = gathered(bit, depth as usize, d);
                let b = Zone::from_path(key_path(&key), depth).bounds(d);
                prop_assert_eq!((b.lo, b.levels), (lo, levels));
            }
        }

        #[test]
        fn a_key_is_inside_the_zone_its_point_is_in(key in any::<[u8; 20]>(), depth in 0u8..=40, d in 1usize..=10) {
            let key = Key(key);
            let zone = Zone::from_path(key_path(&key), depth);
            prop_assert!(zone.contains(&key));
            prop_assert_eq!(zone.bounds(d).distance2(&Point::of(&key, d), d), 0.0);
            prop_assert!(zone.validate().is_ok());
            if let Some(s) = zone.sibling() {
                prop_assert!(!s.contains(&key));
                // Zones are half-open: a point on the zone's lower bound in the dimension
                // of the last split lies at distance 0 from the sibling below it.
                let p = Point::of(&key, d);
                let j = (usize::from(depth) - 1) % d;
                let on_shared_bound = zone.bounds(d).lo[j] == p.coords[j];
                prop_assert!(s.bounds(d).distance2(&p, d) > 0.0 || on_shared_bound);
            }
        }
    }
}
