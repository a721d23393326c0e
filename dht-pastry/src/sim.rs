//! What the simulator needs from Pastry: ground truth, the converged tables, the theory.

use std::time::Duration;

use overlay::sim::{ClosestTruth, SimRouting, build_in_parallel};
use overlay::{Contact, Key};

use crate::config::PastryConfig;
use crate::leaf_set::LeafSet;
use crate::messages::PastryTimer;
use crate::pastry::Pastry;
use crate::table::{Entry, RoutingTable};

/// The first node in `ring` (sorted by id) within `[lo, hi]`, if any.
fn first_in(ring: &[Contact<u32>], lo: &Key, hi: &Key) -> Option<usize> {
    let i = ring.partition_point(|c| c.id < *lo);
    (i < ring.len() && ring[i].id <= *hi).then_some(i)
}

/// The converged state of the node at `k` in the sorted `ring`. Routing-table slots take
/// the first node with the slot's prefix: the oracle knows no proximity, so it cannot make
/// the choice proximity neighbour selection would.
fn converged(ring: &[Contact<u32>], k: usize, cfg: &PastryConfig) -> Pastry<u32> {
    let n = ring.len();
    let me = ring[k].clone();
    let mut leaf = LeafSet::new(me.id, cfg.leaf_set);
    let half = cfg.leaf_set.div_ceil(2);
    for j in 1..n.min(half + 1) {
        leaf.insert(&ring[(k + j) % n]);
        leaf.insert(&ring[(k + n - j) % n]);
    }
    let b = cfg.b;
    let mut table = RoutingTable::new(me.id, b);
    for row in 0..Key::digit_count(b) {
        // Nobody else shares this row's prefix: every deeper row is empty too.
        let (lo, hi) = me.id.prefix_range(row, b);
        let from = ring.partition_point(|c| c.id < lo);
        let to = ring.partition_point(|c| c.id <= hi);
        if to - from <= 1 {
            break;
        }
        let own = me.id.digit(row, b);
        let width = b.min(overlay::id::KEY_BITS - row * b);
        for col in 0..1u32 << width {
            if col == own {
                continue;
            }
            let (lo, hi) = me.id.with_digit(row, b, col).prefix_range(row + 1, b);
            if let Some(i) = first_in(&ring[from..to], &lo, &hi) {
                table.set(
                    row as usize,
                    col as usize,
                    Entry {
                        contact: ring[from + i].clone(),
                        rtt: None,
                    },
                );
            }
        }
    }
    Pastry::from_tables(me, cfg.clone(), leaf, table)
}

impl SimRouting for Pastry<u32> {
    type Truth = ClosestTruth;

    fn oracle<T: Send>(
        members: &[Contact<u32>],
        config: &PastryConfig,
        wrap: &(dyn Fn(Self) -> T + Sync),
    ) -> Vec<T> {
        build_in_parallel(
            members.len(),
            || (),
            |_, k| wrap(converged(members, k, config)),
        )
    }

    fn maintenance_timers(&self, config: &PastryConfig) -> Vec<(Duration, PastryTimer<u32>)> {
        vec![
            (config.leaf_interval, PastryTimer::LeafMaintenance),
            (config.table_interval, PastryTimer::TableMaintenance),
        ]
    }

    fn agrees_with(&self, ideal: &Self) -> bool {
        // Which node fills a slot is proximity's choice; that the slot is filled is not.
        self.leaf == ideal.leaf && self.table.occupancy() == ideal.table.occupancy()
    }

    fn theory_hops(n: usize, config: &PastryConfig) -> f64 {
        (n.max(1) as f64).log2() / config.b as f64
    }

    fn params(config: &PastryConfig) -> Vec<(&'static str, String)> {
        vec![
            ("b", config.b.to_string()),
            ("leaf_set", config.leaf_set.to_string()),
            ("neighbourhood", config.neighbourhood.to_string()),
            (
                "leaf_interval_s",
                config.leaf_interval.as_secs_f64().to_string(),
            ),
            (
                "table_interval_s",
                config.table_interval.as_secs_f64().to_string(),
            ),
        ]
    }
}
