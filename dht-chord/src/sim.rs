//! What the simulator needs from Chord: ground truth, the converged tables, the theory.

use std::time::Duration;

use overlay::id::KEY_BITS;
use overlay::sim::{SimRouting, SuccessorTruth};
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

/// The converged state of the node at `k` in the sorted `ring`.
fn converged(ring: &[Contact<u32>], k: usize, cfg: &ChordConfig) -> Chord<u32> {
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
        let found = &ring[successor_index(ring, &start)];
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

    fn oracle(members: &[Contact<u32>], config: &ChordConfig) -> Vec<Self> {
        // Each node's tables depend only on the sorted ring: build them on every core.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = members.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..members.len())
                .step_by(chunk)
                .map(|from| {
                    let to = (from + chunk).min(members.len());
                    s.spawn(move || {
                        (from..to)
                            .map(|k| converged(members, k, config))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("oracle thread panicked"))
                .collect()
        })
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
