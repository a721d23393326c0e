//! The routing algorithms the command line can select, and their parameters.

use std::time::Duration;

use dht_can::{Can, CanConfig};
use dht_chord::{Chord, ChordConfig};
use dht_pastry::{Pastry, PastryConfig};
use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::sim::SimRouting;

use crate::cli::{CommonArgs, OverlayArg};

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
        let cans: Vec<Overlay> = common.dimensions.iter().map(|&d| Overlay::Can(d)).collect();
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
            Overlay::Chord => job.run::<Chord<u32>>(chord_config(common), self.label()),
            Overlay::Pastry => job.run::<Pastry<u32>>(pastry_config(common), self.label()),
            Overlay::Tapestry => job.run::<Tapestry<u32>>(tapestry_config(common), self.label()),
            Overlay::Can(d) => job.run::<Can<u32>>(can_config(common, d), self.label()),
        }
    }
}

fn round(common: &CommonArgs) -> Duration {
    Duration::from_secs_f64(common.maintenance)
}

/// Chord's parameters from the command line.
pub fn chord_config(common: &CommonArgs) -> ChordConfig {
    let round = round(common);
    ChordConfig {
        successors: common.successors as usize,
        stabilize_interval: round,
        fix_fingers_interval: round,
        check_predecessor_interval: round,
        ..ChordConfig::default()
    }
}

/// Pastry's parameters from the command line.
pub fn pastry_config(common: &CommonArgs) -> PastryConfig {
    let round = round(common);
    PastryConfig {
        b: common.digit_bits,
        leaf_set: common.leaf_set as usize,
        leaf_interval: round,
        table_interval: round * 2,
        ..PastryConfig::default()
    }
}

/// Tapestry's parameters from the command line.
pub fn tapestry_config(common: &CommonArgs) -> TapestryConfig {
    let round = round(common);
    TapestryConfig {
        backups: common.backups as usize,
        ping_interval: round,
        table_interval: round * 2,
        ..TapestryConfig::default()
    }
}

/// CAN's parameters from the command line, in `d` dimensions.
pub fn can_config(common: &CommonArgs, d: usize) -> CanConfig {
    CanConfig {
        dims: d,
        update_interval: round(common),
        ..CanConfig::default()
    }
}
