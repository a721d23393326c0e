//! Maekawa's voting sets from a grid: the members, in ring order, fill a grid row by row,
//! ⌈√N⌉ wide, and a member's set is its row and its column. Any two sets meet (a row of
//! one crosses the column of the other, and a short last row is covered by the other's
//! row), and a member is in the set of exactly those in its own set.

use crate::view::{MemberId, View};

/// The voting set of `member` in `view` (the member itself included); empty if it is not in
/// the view.
pub fn grid_quorum<P: MemberId>(view: &View<P>, member: P) -> Vec<P> {
    let members = view.members();
    let Ok(i) = members.binary_search(&member) else {
        return Vec::new();
    };
    let width = width(members.len());
    members
        .iter()
        .enumerate()
        .filter(|(j, _)| j / width == i / width || j % width == i % width)
        .map(|(_, p)| *p)
        .collect()
}

/// ⌈√n⌉.
fn width(n: usize) -> usize {
    let mut w = (n as f64).sqrt() as usize;
    while w * w < n {
        w += 1;
    }
    w.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_two_sets_meet_and_membership_is_symmetric() {
        for n in 1..=70u32 {
            let view = View::new(1, 0..n);
            let sets: Vec<Vec<u32>> = (0..n).map(|p| grid_quorum(&view, p)).collect();
            for a in 0..n as usize {
                assert!(sets[a].contains(&(a as u32)));
                assert!(sets[a].len() < 2 * width(n as usize));
                for b in 0..n as usize {
                    assert!(sets[a].iter().any(|p| sets[b].contains(p)), "n={n} {a} {b}");
                    assert_eq!(sets[a].contains(&(b as u32)), sets[b].contains(&(a as u32)));
                }
            }
        }
        assert_eq!(
            grid_quorum(&View::new(1, 0..16u32), 5),
            vec![1, 4, 5, 6, 7, 9, 13]
        );
        assert!(grid_quorum(&View::new(1, 0..4u32), 9).is_empty());
    }
}
