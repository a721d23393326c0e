//! Building the simulated network before measuring it.

use std::sync::Arc;
use std::time::Duration;

use overlay::{AppSet, Contact, Dht, DhtConfig};

use overlay::sim::{SimConfig, SimRouting, Simulator};

use crate::bench::progress::bar;
use crate::cli::{BuildArg, CommonArgs};

/// Growth per maintenance round while building by protocol: the network grows by this
/// fraction of its size each round.
pub const GROWTH_PER_ROUND: f64 = 0.1;

/// An empty simulation as the command line says, whose nodes host the DHT with
/// `replication` copies of each key.
pub fn simulator<R: SimRouting>(
    config: &R::Config,
    common: &CommonArgs,
    replication: usize,
) -> Simulator<R> {
    let cfg = SimConfig {
        latency: common.latency.clone(),
        loss: common.loss,
        ..SimConfig::default()
    };
    let round = Duration::from_secs_f64(common.maintenance);
    let dht = Arc::new(DhtConfig {
        replication,
        repair_interval: round,
        ..DhtConfig::paced_by(round)
    });
    let make_apps = Arc::new(move |_: &Contact<u32>| (Dht::new(Arc::clone(&dht)), ()));
    Simulator::with_apps(config.clone(), cfg, common.seed, make_apps)
}

/// Fills `sim` with `n` nodes as `--build` says; returns the fraction of nodes whose tables
/// had converged at the end.
pub fn build<R: SimRouting, S: AppSet<u32>>(
    sim: &mut Simulator<R, S>,
    n: usize,
    common: &CommonArgs,
) -> f64 {
    match common.build {
        BuildArg::Oracle => {
            sim.build_oracle(n);
            1.0
        }
        BuildArg::Protocol => {
            let pb = bar(n as u64, "joins", common.quiet);
            let round = Duration::from_secs_f64(common.maintenance);
            sim.grow(n, round, GROWTH_PER_ROUND, |_, k| {
                if k % 256 == 0 || k == n {
                    pb.set_position(k as u64);
                }
            });
            pb.finish_and_clear();
            let pb = bar(100, "converging", common.quiet);
            pb.set_message("% of nodes with converged tables");
            let deadline = sim.now() + round * 100;
            let mut fraction = sim.converged_fraction();
            while fraction < 1.0 && sim.now() < deadline {
                let next = sim.now() + round;
                sim.run_until(next);
                fraction = sim.converged_fraction();
                pb.set_position((fraction * 100.0) as u64);
            }
            pb.finish_and_clear();
            fraction
        }
    }
}
