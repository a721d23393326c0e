//! What the simulator needs from Tapestry: ground truth, the converged maps, the theory.

use std::sync::Arc;
use std::time::Duration;

use overlay::sim::{SURROGATE_DIGIT_BITS, SimRouting, SurrogateTruth, build_in_parallel};
use overlay::{Contact, Key};

use crate::config::TapestryConfig;
use crate::messages::TapestryTimer;
use crate::neighbour_map::{BASE, DIGIT_BITS, NeighbourMap};
use crate::tapestry::Tapestry;

const _: () = assert!(DIGIT_BITS == SURROGATE_DIGIT_BITS);

/// The converged map of the node at `k` in the sorted `ring`: every entry holds the first
/// `1 + backups` nodes with its prefix. The oracle knows no proximity, so it cannot rank
/// them as the protocol's probes would. `picked` is scratch space reused between nodes.
fn converged(
    ring: &[Contact<u32>],
    k: usize,
    cfg: &Arc<TapestryConfig>,
    picked: &mut Vec<Contact<u32>>,
) -> Tapestry<u32> {
    let me = ring[k].clone();
    let width = cfg.backups + 1;
    picked.clear();
    let mut rows = 0;
    for level in 0..Key::digit_count(DIGIT_BITS) {
        let (lo, hi) = me.id.prefix_range(level, DIGIT_BITS);
        let from = ring.partition_point(|c| c.id < lo);
        let to = ring.partition_point(|c| c.id <= hi);
        if to - from <= 1 {
            // Nobody else shares this prefix: every deeper level is empty too.
            break;
        }
        rows = level as usize + 1;
        let own = me.id.digit(level, DIGIT_BITS);
        for col in 0..BASE as u32 {
            if col == own {
                continue;
            }
            let (lo, hi) = me
                .id
                .with_digit(level, DIGIT_BITS, col)
                .prefix_range(level + 1, DIGIT_BITS);
            let start = from + ring[from..to].partition_point(|c| c.id < lo);
            let within = ring[start..to].iter().take_while(|c| c.id <= hi);
            picked.extend(within.take(width).cloned());
        }
    }
    let mut map = NeighbourMap::new(me.id, cfg.backups);
    map.reserve(picked.len(), rows);
    for c in picked.iter() {
        map.insert(c, None);
    }
    Tapestry::from_map(me, Arc::clone(cfg), map)
}

impl SimRouting for Tapestry<u32> {
    type Truth = SurrogateTruth;

    fn oracle<T: Send>(
        members: &[Contact<u32>],
        config: &TapestryConfig,
        wrap: &(dyn Fn(Self) -> T + Sync),
    ) -> Vec<T> {
        let config = Arc::new(config.clone());
        build_in_parallel(members.len(), Vec::new, |picked, k| {
            wrap(converged(members, k, &config, picked))
        })
    }

    fn maintenance_timers(&self, config: &TapestryConfig) -> Vec<(Duration, TapestryTimer<u32>)> {
        vec![
            (config.ping_interval, TapestryTimer::Heartbeat),
            (config.table_interval, TapestryTimer::TableMaintenance),
            (config.republish_interval, TapestryTimer::Republish),
        ]
    }

    fn agrees_with(&self, ideal: &Self) -> bool {
        // Surrogate routing is right when exactly the entries with nodes behind them are
        // filled; which nodes fill them is proximity's choice.
        self.map.occupancy() == ideal.map.occupancy()
    }

    fn theory_hops(n: usize, _config: &TapestryConfig) -> f64 {
        (n.max(1) as f64).log2() / DIGIT_BITS as f64
    }

    fn params(config: &TapestryConfig) -> Vec<(&'static str, String)> {
        vec![
            ("b", DIGIT_BITS.to_string()),
            ("backups", config.backups.to_string()),
            ("salts", config.salts.to_string()),
            (
                "ping_interval_s",
                config.ping_interval.as_secs_f64().to_string(),
            ),
            (
                "table_interval_s",
                config.table_interval.as_secs_f64().to_string(),
            ),
            (
                "republish_interval_s",
                config.republish_interval.as_secs_f64().to_string(),
            ),
        ]
    }
}
