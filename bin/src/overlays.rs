//! The routing algorithms the command line can select, and their parameters.

use std::time::Duration;

use dht_chord::ChordConfig;

use crate::cli::{CommonArgs, OverlayArg};

/// One routing algorithm.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Chord.
    Chord,
}

impl Overlay {
    /// The algorithms `--overlay` names (`all` expands to every one).
    pub fn selected(arg: OverlayArg) -> Vec<Overlay> {
        match arg {
            OverlayArg::Chord | OverlayArg::All => vec![Overlay::Chord],
        }
    }
}

/// Chord's parameters from the command line.
pub fn chord_config(common: &CommonArgs) -> ChordConfig {
    let round = Duration::from_secs_f64(common.maintenance);
    ChordConfig {
        successors: common.successors as usize,
        stabilize_interval: round,
        fix_fingers_interval: round,
        check_predecessor_interval: round,
        ..ChordConfig::default()
    }
}
