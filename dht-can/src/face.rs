//! The faces of a zone, and the parts of them that no known zone covers.
//!
//! The zones of all nodes tile the torus, so the zones of a node's neighbours cover every
//! face of its own. A part of a face that no known zone covers is a neighbour the node has
//! missed: nodes that joined at the same moment each learned of the other's zone before it
//! split, and in two dimensions two cells sharing a face may have no third neighbour in
//! common to introduce them.

use overlay::Key;

use crate::zone::{MAX_DEPTH, Zone};

/// Bit positions (counted from the most significant) of the first `depth` split bits that
/// split dimension `j` of `d`.
fn positions(depth: u8, j: usize, d: usize) -> impl DoubleEndedIterator<Item = u32> {
    (j as u32..u32::from(depth)).step_by(d)
}

impl Zone {
    /// The zone of the same size across this zone's face in dimension `j` (`up`: on the
    /// side of larger coordinates), on the torus; `None` when the zone spans the whole
    /// dimension and so has no face in it.
    pub fn across(&self, j: usize, up: bool, d: usize) -> Option<Zone> {
        let mut path = self.path();
        let mut any = false;
        // Adding or subtracting one unit in dimension `j`: flip bits from the least
        // significant of that coordinate until one flips the carry (or borrow) away.
        for pos in positions(self.depth(), j, d).rev() {
            any = true;
            let bit = 1u128 << (127 - pos);
            let was_set = path & bit != 0;
            path ^= bit;
            if was_set != up {
                break;
            }
        }
        any.then(|| Zone::from_path(path, self.depth()))
    }

    /// The two halves of this zone, the lower along the split dimension first; `None` at
    /// the deepest level.
    pub fn halves(&self) -> Option<[Zone; 2]> {
        if self.depth() >= MAX_DEPTH {
            return None;
        }
        let bit = 1u128 << (127 - u32::from(self.depth()));
        let next = self.depth() + 1;
        Some([
            Zone::from_path(self.path(), next),
            Zone::from_path(self.path() | bit, next),
        ])
    }

    /// A key whose point lies inside this zone, away from its low corner.
    pub fn inner_key(&self) -> Key {
        let mut path = self.path();
        if self.depth() < MAX_DEPTH {
            path |= 1u128 << (127 - u32::from(self.depth()));
        }
        let mut bytes = [0u8; overlay::id::KEY_BYTES];
        bytes[..16].copy_from_slice(&path.to_be_bytes());
        Key(bytes)
    }
}

/// The first part of a face of `zone` (in `d` dimensions) that none of `known` covers, as
/// a zone holding nothing but uncovered points next to the face; `None` when the faces are
/// covered.
pub fn uncovered_face(zone: &Zone, d: usize, known: &[Zone]) -> Option<Zone> {
    (0..d)
        .flat_map(|j| [(j, true), (j, false)])
        .find_map(|(j, up)| {
            let cell = zone.across(j, up, d)?;
            // Across an upper face, the part next to it is the lower side of `cell`.
            uncovered_next_to(cell, j, up, d, known)
        })
}

/// The first part of `cell` on its side `low` (`true`: lower) in dimension `j` that none
/// of `known` covers.
fn uncovered_next_to(cell: Zone, j: usize, low: bool, d: usize, known: &[Zone]) -> Option<Zone> {
    if known.iter().any(|k| k.covers(&cell)) {
        return None;
    }
    if !known.iter().any(|k| cell.covers(k)) {
        return Some(cell);
    }
    let [lower, upper] = cell.halves()?;
    if usize::from(cell.depth()) % d == j {
        let next = if low { lower } else { upper };
        return uncovered_next_to(next, j, low, d, known);
    }
    uncovered_next_to(lower, j, low, d, known)
        .or_else(|| uncovered_next_to(upper, j, low, d, known))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(bits: &str) -> Zone {
        let path = bits
            .chars()
            .enumerate()
            .filter(|(_, c)| *c == '1')
            .fold(0u128, |p, (i, _)| p | 1u128 << (127 - i));
        Zone::from_path(path, bits.len() as u8)
    }

    #[test]
    fn the_zone_across_a_face_wraps_around_the_torus() {
        // In two dimensions x takes bits 0, 2, ...: "00" is x in [0, 1/2), y in [0, 1/2).
        assert_eq!(zone("00").across(0, true, 2), Some(zone("10")));
        assert_eq!(zone("00").across(0, false, 2), Some(zone("10")));
        assert_eq!(zone("0010").across(0, true, 2), Some(zone("1000")));
        assert_eq!(zone("1000").across(0, false, 2), Some(zone("0010")));
        assert_eq!(zone("0").across(1, true, 2), None);
        let z = zone("0110");
        assert!(
            z.bounds(2)
                .abuts(&z.across(1, true, 2).unwrap().bounds(2), 2)
        );
    }

    #[test]
    fn a_face_is_covered_by_finer_zones_that_tile_it() {
        // "00" spans x in [0, 1/2): across both x faces lies "10", whose lower x half "100"
        // is next to the face at 1/2 and whose upper half "101" is next to the one at 0.
        let me = zone("00");
        let known = [zone("1000"), zone("1001"), zone("101"), zone("01")];
        assert_eq!(uncovered_face(&me, 2, &known), None);
        let no_upper = [zone("1000"), zone("1001"), zone("01")];
        assert_eq!(uncovered_face(&me, 2, &no_upper), Some(zone("101")));
        let half_face = [zone("1000"), zone("101"), zone("01")];
        assert_eq!(uncovered_face(&me, 2, &half_face), Some(zone("1001")));
    }

    #[test]
    fn a_face_nobody_known_touches_is_uncovered_whole() {
        assert_eq!(
            uncovered_face(&zone("00"), 2, &[zone("01")]),
            Some(zone("10"))
        );
    }

    #[test]
    fn an_inner_key_lies_in_its_zone() {
        let z = zone("01101");
        assert!(z.contains(&z.inner_key()));
    }
}
