//! What the simulator needs from Chord: ground truth, the converged tables, the theory.

use std::time::Duration;

use overlay::id::KEY_BITS;
use overlay::sim::{SimRouting, SuccessorTruth, build_in_parallel};
use overlay::{Contact, Key};

use crate::chord::Chord;
use crate::config::ChordConfig;
use crate::finger::{FingerTable, first_index_beyond};
use crate::messages::ChordTimer;

/// The index in `ring` (sorted by id) of the first node at or after `key`, wrapping.
fn successor_index(ring: &[Contact<u32>], key: &Key) -> usize {
    let i = ring.partition_point(|c| c.id < *key);
    if i == ring.len() { 0 } else { i }
}

/// [`successor_index`], starting from `hint`, the answer for a nearby key: neighbouring
/// nodes' fingers land near each other, so a short gallop forward from the last answer
/// replaces most full binary searches (and their cache misses).
fn successor_index_from(ring: &[Contact<u32>], key: &Key, hint: usize) -> usize {
    let n = ring.len();
    let h = hint.min(n - 1);
    if ring[h].id < *key {
        let mut lo = h + 1;
        let mut step = 1;
        let hi = loop {
            let probe = h + step;
            if probe >= n {
                break n;
            }
            if ring[probe].id >= *key {
                break probe;
            }
            lo = probe + 1;
            step *= 2;
        };
        let i = lo + ring[lo..hi].partition_point(|c| c.id < *key);
        return if i == n { 0 } else { i };
    }
    if h == 0 || ring[h - 1].id < *key {
        return h;
    }
    successor_index(ring, key)
}

/// The converged state of the node at `k` in the sorted `ring`; `hints[i]` carries the
/// answer for finger `i` from one node to the next.
fn converged(
    ring: &[Contact<u32>],
    k: usize,
    cfg: &ChordConfig,
    hints: &mut [usize; KEY_BITS as usize],
) -> Chord<u32> {
    let n = ring.len();
    let me = ring[k].clone();
    if n == 1 {
        return Chord::from_tables(me, cfg.clone(), None, Vec::new(), FingerTable::default());
    }
    let pred = Some(ring[(k + n - 1) % n].clone());
    let succ: Vec<Contact<u32>> = (1..n.min(cfg.successors + 1))
        .map(|j| ring[(k + j) % n].clone())
        .collect();
    // The same sweep `fix_fingers` runs, answered from the sorted ring.
    let mut fingers = FingerTable::default();
    let mut i = first_index_beyond(&me.id, &succ[0].id);
    while i < KEY_BITS {
        let start = me.id.wrapping_add(&Key::pow2(i));
        let at = successor_index_from(ring, &start, hints[i as usize]);
        hints[i as usize] = at;
        let found = &ring[at];
        if found.id == me.id {
            break;
        }
        let next = first_index_beyond(&me.id, &found.id).max(i + 1);
        fingers.set_run(i as u8, next.min(KEY_BITS) as u8, found.clone());
        i = next;
    }
    Chord::from_tables(me, cfg.clone(), pred, succ, fingers)
}

impl SimRouting for Chord<u32> {
    type Truth = SuccessorTruth;

    fn oracle<T: Send>(
        members: &[Contact<u32>],
        config: &ChordConfig,
        wrap: &(dyn Fn(Self) -> T + Sync),
    ) -> Vec<T> {
        // Each node's tables depend only on the sorted ring: build them on every core.
        build_in_parallel(
            members.len(),
            || [0usize; KEY_BITS as usize],
            |hints, k| wrap(converged(members, k, config, hints)),
        )
    }

    fn maintenance_timers(&self, config: &ChordConfig) -> Vec<(Duration, ChordTimer<u32>)> {
        vec![
            (config.stabilize_interval, ChordTimer::Stabilize),
            (config.fix_fingers_interval, ChordTimer::FixFingers),
            (
                config.check_predecessor_interval,
                ChordTimer::CheckPredecessor,
            ),
        ]
    }

    fn agrees_with(&self, ideal: &Self) -> bool {
        self.pred == ideal.pred
            && self.succ == ideal.succ
            && self.fingers.normalized() == ideal.fingers.normalized()
    }

    fn theory_hops(n: usize, _config: &ChordConfig) -> f64 {
        0.5 * (n.max(1) as f64).log2()
    }

    fn params(config: &ChordConfig) -> Vec<(&'static str, String)> {
        vec![
            ("successors", config.successors.to_string()),
            (
                "stabilize_s",
                config.stabilize_interval.as_secs_f64().to_string(),
            ),
            (
                "fix_fingers_s",
                config.fix_fingers_interval.as_secs_f64().to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hinted_search_agrees_with_binary_search(
            ids in proptest::collection::btree_set(any::<[u8; 20]>(), 1..200),
            key in any::<[u8; 20]>(),
            hint in 0usize..300,
        ) {
            let ring: Vec<Contact<u32>> = ids.into_iter().enumerate().map(|(i, b)| Contact::new(Key(b), i as u32)).collect();
            let key = Key(key);
            prop_assert_eq!(successor_index_from(&ring, &key, hint), successor_index(&ring, &key));
        }
    }
}
