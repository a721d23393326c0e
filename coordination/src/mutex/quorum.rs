//! Maekawa's voting sets. Any two must meet; the smaller they are, the cheaper an entry
//! (3(K−1) messages for a set of K, failure-free). Two constructions, over the members in
//! ring order, and for each group size the one with the smaller sets on average:
//!
//! - **Grid**: the members fill a grid row by row, ⌈√N⌉ wide, and a member's set is its
//!   row and its column, K ≈ 2√N. Any two meet: a row of one crosses the column of the
//!   other, and a short last row is covered by the other's row.
//! - **Projective plane**, as in Maekawa's paper, K ≈ √N: the points of the plane of order
//!   q are the integers modulo q²+q+1 and its lines the translates of a perfect difference
//!   set D (every non-zero residue is a difference of two elements of D in exactly one
//!   way), so two distinct translates share exactly one point. Point i's set is the line
//!   D − i, plus i itself. For N below q²+q+1 the points from N on are lent to members
//!   round-robin (point r to member (r − N) mod N), and a set names the members its points
//!   stand for; the sets still meet pairwise.
//!
//! A plane's sets need not be symmetric once points are lent (a member may vote for one
//! that does not vote for it), so a voter that has to hear from everyone that may hold its
//! vote asks [`electors`], not its own set.

use crate::view::{MemberId, View};

/// Perfect difference sets of the planes of order 2, 3, 4, 5, 7, 8, 9 and 11, by modulus
/// q²+q+1; found by search, checked by the tests below.
const DIFFERENCE_SETS: &[(usize, &[usize])] = &[
    (7, &[0, 1, 3]),
    (13, &[0, 1, 3, 9]),
    (21, &[0, 1, 4, 14, 16]),
    (31, &[0, 1, 3, 8, 12, 18]),
    (57, &[0, 1, 3, 13, 32, 36, 43, 52]),
    (73, &[0, 1, 3, 7, 15, 31, 36, 54, 63]),
    (91, &[0, 1, 3, 9, 27, 49, 56, 61, 77, 81]),
    (133, &[0, 1, 3, 12, 20, 34, 38, 81, 88, 94, 104, 109]),
];

/// The voting set of `member` in `view` (the member itself included): the members whose
/// votes it needs. Empty if it is not in the view.
pub fn voting_set<P: MemberId>(view: &View<P>, member: P) -> Vec<P> {
    let members = view.members();
    let Ok(i) = members.binary_search(&member) else {
        return Vec::new();
    };
    chosen_sets(members.len())
        .swap_remove(i)
        .into_iter()
        .map(|j| members[j])
        .collect()
}

/// The members of `view` whose voting sets hold `member` (itself included): those that
/// may hold its vote. Empty if it is not in the view.
pub fn electors<P: MemberId>(view: &View<P>, member: P) -> Vec<P> {
    let members = view.members();
    let Ok(i) = members.binary_search(&member) else {
        return Vec::new();
    };
    chosen_sets(members.len())
        .iter()
        .enumerate()
        .filter(|(_, set)| set.contains(&i))
        .map(|(j, _)| members[j])
        .collect()
}

/// The mean number of other members a member of a group of `n` asks for votes (K − 1).
pub fn mean_other_voters(n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    others(&chosen_sets(n)) as f64 / n as f64
}

/// The grid voting set of `member` in `view` (the member itself included); empty if it is
/// not in the view. Grid sets are symmetric: a member is in the sets of exactly those in
/// its own set.
pub fn grid_quorum<P: MemberId>(view: &View<P>, member: P) -> Vec<P> {
    let members = view.members();
    let Ok(i) = members.binary_search(&member) else {
        return Vec::new();
    };
    grid_set(members.len(), i)
        .into_iter()
        .map(|j| members[j])
        .collect()
}

/// Every member's set, by index, from the construction with the fewer other voters.
fn chosen_sets(n: usize) -> Vec<Vec<usize>> {
    let grid: Vec<Vec<usize>> = (0..n).map(|i| grid_set(n, i)).collect();
    match plane_sets(n) {
        Some(plane) if others(&plane) < others(&grid) => plane,
        _ => grid,
    }
}

/// How many (member, other voter) pairs `sets` has.
fn others(sets: &[Vec<usize>]) -> usize {
    sets.iter().map(|s| s.len().saturating_sub(1)).sum()
}

fn grid_set(n: usize, i: usize) -> Vec<usize> {
    let width = width(n);
    (0..n)
        .filter(|j| j / width == i / width || j % width == i % width)
        .collect()
}

/// ⌈√n⌉.
fn width(n: usize) -> usize {
    let mut w = n.isqrt();
    while w * w < n {
        w += 1;
    }
    w.max(1)
}

/// Every member's set from the smallest plane with at least `n` points; `None` beyond the
/// planes known here.
fn plane_sets(n: usize) -> Option<Vec<Vec<usize>>> {
    let &(points, diffs) = DIFFERENCE_SETS.iter().find(|(m, _)| *m >= n)?;
    let stands_for = |r: usize| if r < n { r } else { (r - n) % n };
    let sets = (0..n)
        .map(|i| {
            let mut set: Vec<usize> = diffs
                .iter()
                .map(|d| stands_for((d + points - i) % points))
                .chain([i])
                .collect();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    Some(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_sets_are_perfect() {
        for &(m, d) in DIFFERENCE_SETS {
            let q = d.len() - 1;
            assert_eq!(m, q * q + q + 1);
            let mut seen = vec![0; m];
            for a in d {
                for b in d {
                    if a != b {
                        seen[(a + m - b) % m] += 1;
                    }
                }
            }
            assert!(seen[1..].iter().all(|c| *c == 1), "{m}: {seen:?}");
        }
    }

    #[test]
    fn grid_sets_meet_and_are_symmetric() {
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

    #[test]
    fn voting_sets_meet_and_electors_are_their_inverse() {
        for n in 1..=140u32 {
            // Ids that are not 0..n, so that indexes and ids cannot be confused.
            let view = View::new(1, (0..n).map(|i| 3 * i + 7));
            let ids = view.members().to_vec();
            let sets: Vec<Vec<u32>> = ids.iter().map(|p| voting_set(&view, *p)).collect();
            for (a, pa) in ids.iter().enumerate() {
                assert!(sets[a].contains(pa));
                let electors = electors(&view, *pa);
                for (b, pb) in ids.iter().enumerate() {
                    assert!(sets[a].iter().any(|p| sets[b].contains(p)), "n={n} {a} {b}");
                    assert_eq!(electors.contains(pb), sets[b].contains(pa), "n={n}");
                }
            }
        }
        assert!(voting_set(&View::new(1, 0..4u32), 9).is_empty());
        assert!(electors(&View::new(1, 0..4u32), 9).is_empty());
    }

    #[test]
    fn planes_make_sets_near_root_n() {
        // At a plane's own size every set is a line plus the member: q + 1 others at most.
        assert!(
            (0..57u32).all(|p| voting_set(&View::new(1, 0..57u32), p).len() <= 9),
            "q = 7"
        );
        for n in [16usize, 64, 100, 133] {
            let root = (n as f64).sqrt();
            assert!(mean_other_voters(n) < 1.5 * root, "n = {n}");
            assert!(mean_other_voters(n) < (2 * width(n) - 2) as f64, "n = {n}");
        }
    }
}
