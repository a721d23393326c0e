//! The routing algorithms the command line can select, and their parameters.

use std::time::Duration;

use dht_can::{Can, CanConfig};
use dht_chord::{Chord, ChordConfig};
use dht_pastry::{Pastry, PastryConfig};
use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::Routing;
use overlay::net::PeerAddr;
use overlay::sim::SimRouting;

use crate::cli::{CommonArgs, NextHopsArg, OverlayArg, RoutingArgs};

/// One routing algorithm with the parameters that make it a separate series.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Chord.
    Chord,
    /// Pastry.
    Pastry,
    /// Tapestry.
    Tapestry,
    /// CAN in this many dimensions.
    Can(usize),
}

/// Something to do with one overlay, whatever its routing algorithm (a benchmark run).
pub trait WithOverlay {
    /// What the run gives.
    type Out;
    /// Runs with algorithm `R`, its parameters, and the overlay's label for reports.
    fn run<R: SimRouting>(&mut self, config: R::Config, label: String) -> Self::Out;
}

impl Overlay {
    /// The overlays `--overlay` names (`all` expands to every one).
    pub fn selected(common: &CommonArgs) -> Vec<Overlay> {
        let cans: Vec<Overlay> = common
            .routing
            .dimensions
            .iter()
            .map(|&d| Overlay::Can(d))
            .collect();
        match common.overlay.unwrap_or(OverlayArg::Chord) {
            OverlayArg::Chord => vec![Overlay::Chord],
            OverlayArg::Pastry => vec![Overlay::Pastry],
            OverlayArg::Tapestry => vec![Overlay::Tapestry],
            OverlayArg::Can => cans,
            OverlayArg::All => [Overlay::Chord, Overlay::Pastry, Overlay::Tapestry]
                .into_iter()
                .chain(cans)
                .collect(),
        }
    }

    /// The name in tables, plots and JSON (`variant`).
    pub fn label(self) -> String {
        match self {
            Overlay::Chord => "chord".into(),
            Overlay::Pastry => "pastry".into(),
            Overlay::Tapestry => "tapestry".into(),
            Overlay::Can(d) => format!("can d={d}"),
        }
    }

    /// Runs `job` with this overlay's algorithm and its parameters from the command line.
    pub fn with<J: WithOverlay>(self, common: &CommonArgs, job: &mut J) -> J::Out {
        match self {
            Overlay::Chord => {
                let config = chord_config(&common.routing, round(common), NextHopsArg::Basic);
                job.run::<Chord<u32>>(config, self.label())
            }
            Overlay::Pastry => {
                job.run::<Pastry<u32>>(pastry_config(&common.routing, round(common)), self.label())
            }
            Overlay::Tapestry => job.run::<Tapestry<u32>>(
                tapestry_config(&common.routing, round(common)),
                self.label(),
            ),
            Overlay::Can(d) => {
                let config = can_config(&common.routing, round(common), d, NextHopsArg::Basic);
                job.run::<Can<u32>>(config, self.label())
            }
        }
    }
}

/// Something to do with a real node, whatever its routing algorithm (`p2p node`, `p2p demo`).
pub trait WithNetRouting {
    /// What it gives.
    type Out;
    /// Runs with algorithm `R` and its parameters.
    fn run<R: Routing<Addr = PeerAddr>>(self, config: R::Config) -> Self::Out;
}

/// Runs `job` with the real-network algorithm `overlay` names (`all` is not one), with
/// maintenance rounds of `round`; CAN uses the first of `--dimensions`.
pub fn with_net_routing<J: WithNetRouting>(
    overlay: OverlayArg,
    args: &RoutingArgs,
    round: Duration,
    job: J,
) -> anyhow::Result<J::Out> {
    Ok(match overlay {
        OverlayArg::Chord => {
            job.run::<Chord<PeerAddr>>(chord_config(args, round, NextHopsArg::Extended))
        }
        OverlayArg::Pastry => job.run::<Pastry<PeerAddr>>(pastry_config(args, round)),
        OverlayArg::Tapestry => job.run::<Tapestry<PeerAddr>>(TapestryConfig {
            // Each node a real node probes holds a connection (two descriptors when both
            // ends live in one process, as in `p2p demo`), and a new one a handshake: backups
            // are probed only when they move up.
            backup_probes: Some(0),
            ..tapestry_config(args, round)
        }),
        OverlayArg::Can => {
            let d = args.dimensions[0];
            job.run::<Can<PeerAddr>>(can_config(args, round, d, NextHopsArg::Extended))
        }
        OverlayArg::All => {
            anyhow::bail!("a node runs one routing algorithm: pick chord, pastry, tapestry or can")
        }
    })
}

fn round(common: &CommonArgs) -> Duration {
    Duration::from_secs_f64(common.maintenance)
}

/// Chord's parameters from the command line; next hops as `next_hops` unless
/// `--next-hops` says.
pub fn chord_config(args: &RoutingArgs, round: Duration, next_hops: NextHopsArg) -> ChordConfig {
    ChordConfig {
        successors: args.successors as usize,
        stabilize_interval: round,
        fix_fingers_interval: round,
        check_predecessor_interval: round,
        join_retry: ChordConfig::default().join_retry.min(round),
        route_through_successors: args.extended_next_hops(next_hops),
    }
}

/// Pastry's parameters from the command line.
pub fn pastry_config(args: &RoutingArgs, round: Duration) -> PastryConfig {
    PastryConfig {
        b: args.digit_bits,
        leaf_set: args.leaf_set as usize,
        leaf_interval: round,
        table_interval: round * 2,
        join_retry: PastryConfig::default().join_retry.min(round),
        discover_nearby: args.discover_nearby,
        ..PastryConfig::default()
    }
}

/// Tapestry's parameters from the command line.
pub fn tapestry_config(args: &RoutingArgs, round: Duration) -> TapestryConfig {
    TapestryConfig {
        backups: args.backups as usize,
        ping_interval: round,
        table_interval: round * 2,
        join_retry: TapestryConfig::default().join_retry.min(round),
        ..TapestryConfig::default()
    }
}

/// CAN's takeover timer (for equal volumes) with maintenance rounds of `round`: a fifth of
/// a round, at least a second and at most the paper's five seconds (reached from 25-second
/// rounds, so the simulator's 30-second rounds keep it), and never more than a round.
/// At `p2p node`'s 5-second rounds a crashed zone is then claimed a second after its
/// neighbours find the crash rather than a whole round later.
fn takeover_delay(round: Duration) -> Duration {
    (round / 5)
        .clamp(Duration::from_secs(1), CanConfig::default().takeover_delay)
        .min(round)
}

/// CAN's parameters from the command line, in `d` dimensions; next hops as `next_hops`
/// unless `--next-hops` says.
pub fn can_config(
    args: &RoutingArgs,
    round: Duration,
    d: usize,
    next_hops: NextHopsArg,
) -> CanConfig {
    CanConfig {
        dims: d,
        two_hop_routing: args.extended_next_hops(next_hops),
        update_interval: round,
        takeover_delay: takeover_delay(round),
        join_retry: CanConfig::default().join_retry.min(round),
        ..CanConfig::default()
    }
}
