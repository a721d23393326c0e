//! What several of CAN's simulator tests share.

use std::time::Duration;

use dht_can::{Can, CanConfig};
use overlay::sim::{LatencyModel, SimConfig, Simulator};
use overlay::{Command, Key, NodeConfig};

/// A simulator with real nodes' settings (1 s maintenance rounds and timeouts, a fixed
/// timeout per request) over links of 1 ms to `slowest` each way.
pub fn real_settings(seed: u64, slowest: Duration) -> Simulator<Can<u32>> {
    let cfg = CanConfig {
        update_interval: Duration::from_secs(1),
        takeover_delay: Duration::from_secs(1),
        join_retry: Duration::from_secs(1),
        two_hop_routing: true,
        ..CanConfig::default()
    };
    let sim_cfg = SimConfig {
        latency: LatencyModel::Uniform {
            min: Duration::from_millis(1),
            max: slowest,
        },
        node: NodeConfig {
            request_timeout: Duration::from_secs(1),
            prompt_timeout_floor: None,
            ..NodeConfig::default()
        },
        ..SimConfig::default()
    };
    Simulator::new(cfg, sim_cfg, seed)
}

/// Starts one node, then a second later `nodes - 1` more joining through it at once.
pub fn start_together(sim: &mut Simulator<Can<u32>>, nodes: usize) {
    let first = sim.spawn(None);
    sim.run_until(sim.now() + Duration::from_secs(1));
    for _ in 1..nodes {
        sim.spawn(Some(first));
    }
}

/// Issues `count` lookups of random keys, each from a random joined node.
pub fn random_lookups(sim: &mut Simulator<Can<u32>>, count: u64) {
    for op in 0..count {
        let from = sim.random_joined().expect("nodes");
        let key = Key::random(sim.rng());
        sim.command(from, Command::lookup(op, key));
    }
}
