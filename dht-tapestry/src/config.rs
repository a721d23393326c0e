//! Tapestry's parameters.

use std::time::Duration;

/// Tapestry's tunables, with the paper's defaults where it gives one.
#[derive(Clone, Debug, PartialEq)]
pub struct TapestryConfig {
    /// Backups kept per neighbour-map entry besides the closest node (`c`).
    pub backups: usize,
    /// Period of the liveness probes of entries' closest nodes.
    pub ping_interval: Duration,
    /// Nodes of the deepest levels (the ones sharing the longest prefixes, where a root's
    /// replicas are) probed every period.
    pub watched: usize,
    /// Other nodes of the map probed per period, in turn (a node of 100,000 knows about
    /// 250).
    pub ping_batch: usize,
    /// How backups are probed. `None`: with the entries' closest nodes, in the rotating
    /// heartbeat. `Some(k)`: the rotation goes to closest nodes only, `k` backups per
    /// period are probed in a slower rotation of their own, and a backup is probed when
    /// it moves up. Real nodes take `Some`: every node probed holds an open connection,
    /// and with backups the map of a node of a few hundred names a quarter of the network.
    pub backup_probes: Option<usize>,
    /// Backpointers probed per heartbeat, in turn, so that crashed ones drop out (a
    /// stale one costs only a wasted notice when this node leaves).
    pub backpointer_probes: usize,
    /// Period of the neighbour-map exchange (one row from one neighbour per row).
    pub table_interval: Duration,
    /// Round-trip probes a node may have in flight to compare candidates by proximity.
    pub max_probes: usize,
    /// Wait before retrying a failed join.
    pub join_retry: Duration,
    /// Roots per object: the object's key salted `0..salts` times, each routed on its own.
    pub salts: u8,
    /// Period at which a server publishes its objects again (pointers are soft state).
    pub republish_interval: Duration,
    /// How long a pointer lives unless it is published again.
    pub pointer_ttl: Duration,
}

impl Default for TapestryConfig {
    fn default() -> Self {
        TapestryConfig {
            backups: 3,
            ping_interval: Duration::from_secs(30),
            watched: 8,
            ping_batch: 8,
            backup_probes: None,
            backpointer_probes: 2,
            table_interval: Duration::from_secs(60),
            max_probes: 16,
            join_retry: Duration::from_secs(5),
            salts: 2,
            republish_interval: Duration::from_secs(120),
            pointer_ttl: Duration::from_secs(300),
        }
    }
}
