//! Chord's parameters.

use std::time::Duration;

/// Chord's tunables, with the defaults used in the benchmarks.
#[derive(Clone, Debug, PartialEq)]
pub struct ChordConfig {
    /// Length of the successor list (`r` in the paper); it bounds how many consecutive
    /// failures the ring survives.
    pub successors: usize,
    /// Period of `stabilize` (ask the successor for its predecessor and successor list).
    pub stabilize_interval: Duration,
    /// Period of `fix_fingers`, which refreshes one distinct finger per call, in turn.
    pub fix_fingers_interval: Duration,
    /// Period of `check_predecessor`.
    pub check_predecessor_interval: Duration,
    /// Wait before retrying a failed join.
    pub join_retry: Duration,
    /// Take the next hop from the whole successor list as well as the fingers: the
    /// closest preceding node of both, as in the Chord journal paper's variant of
    /// `closest_preceding_node` (ToN 2003) and in OverSim. Lookups for keys within the
    /// successor list's reach then take one hop instead of several, and a routed message
    /// for such a key goes straight to the root the list names (`Routing::root_shortcut`).
    /// Off by default: the SIGCOMM paper's path lengths (½·log2 N), which the simulator
    /// benchmarks reproduce, are those of the fingers alone (the successor list then
    /// serves as fallbacks).
    pub route_through_successors: bool,
}

impl Default for ChordConfig {
    fn default() -> Self {
        ChordConfig {
            successors: 16,
            stabilize_interval: Duration::from_secs(30),
            fix_fingers_interval: Duration::from_secs(30),
            check_predecessor_interval: Duration::from_secs(30),
            join_retry: Duration::from_secs(5),
            route_through_successors: false,
        }
    }
}
