//! Pastry's parameters.

use std::time::Duration;

/// Pastry's tunables, with the paper's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct PastryConfig {
    /// Bits per digit (`b`): ids are read as base-`2^b` numbers; the routing table has
    /// `2^b` columns.
    pub b: u32,
    /// Leaf-set size (`L`): the `L/2` numerically closest nodes on each side.
    pub leaf_set: usize,
    /// Neighbourhood-set size (`M`): the nodes closest by measured round-trip time.
    pub neighbourhood: usize,
    /// Period of leaf-set maintenance (exchange with the nearest leaf on each side).
    pub leaf_interval: Duration,
    /// Period of routing-table maintenance (one row exchange per non-empty row).
    pub table_interval: Duration,
    /// Round-trip probes a node may have in flight to compare candidates by proximity.
    pub max_probes: usize,
    /// Wait before retrying a failed join.
    pub join_retry: Duration,
    /// Before joining, look for a node near this one, starting from the bootstrap node,
    /// and join through it (Castro et al. 2002): proximity neighbour selection builds its
    /// tables from the node a join starts at. Off by default: the paper's join assumes a
    /// nearby bootstrap node, and it costs a round trip per row plus a probe per entry.
    pub discover_nearby: bool,
}

impl Default for PastryConfig {
    fn default() -> Self {
        PastryConfig {
            b: 4,
            leaf_set: 16,
            neighbourhood: 32,
            leaf_interval: Duration::from_secs(30),
            table_interval: Duration::from_secs(60),
            max_probes: 16,
            join_retry: Duration::from_secs(5),
            discover_nearby: false,
        }
    }
}
