//! Pastry with nearby-node discovery before each join: networks grown that way pass the
//! same conformance checks as the paper's join through the bootstrap node itself.

use dht_pastry::{Pastry, PastryConfig};
use overlay::conformance;

type C = Pastry<u32>;

fn discovering() -> PastryConfig {
    PastryConfig {
        discover_nearby: true,
        ..PastryConfig::default()
    }
}

#[test]
fn lookups_reach_the_root() {
    conformance::lookups_reach_the_root::<C>(&discovering());
}

#[test]
fn put_get_from_any_node() {
    conformance::put_get_from_any_node::<C>(&discovering());
}

#[test]
fn crash_then_repair_keeps_surviving_keys() {
    conformance::crash_then_repair_keeps_surviving_keys::<C>(&discovering());
}

#[test]
fn same_seed_same_run() {
    conformance::same_seed_same_run::<C>(&discovering());
}
