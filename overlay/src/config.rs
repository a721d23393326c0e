//! Parameters of a node that do not depend on the routing algorithm.

use std::time::Duration;

use crate::limits::Limits;

/// Node parameters shared by every routing algorithm.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Replication factor `r`: copies of each key, on `replica_set(key, r)`.
    pub replication: usize,
    /// How long a request waits for its response before the peer counts as failed.
    pub request_timeout: Duration,
    /// Period of replica repair (anti-entropy with the replica set).
    pub repair_interval: Duration,
    /// Delay of the extra repair pass after the neighbour set changed.
    pub repair_after_change: Duration,
    /// How long a tombstone is kept so old replicas cannot resurrect a removed value.
    pub tombstone_ttl: Duration,
    /// Hop limit of a lookup or routed message (loop guard).
    pub max_hops: u32,
    /// Contacts returned per routing step (the best next hop plus fallbacks).
    pub step_width: usize,
    /// Whether [`crate::Event::NeighborUpdate`] events are emitted.
    pub report_updates: bool,
    /// Bounds on network input.
    pub limits: Limits,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            replication: 3,
            request_timeout: Duration::from_secs(1),
            repair_interval: Duration::from_secs(30),
            repair_after_change: Duration::from_secs(1),
            tombstone_ttl: Duration::from_secs(24 * 3600),
            // CAN in two dimensions takes O(N^(1/2)) hops: about 160 at 100,000 nodes.
            max_hops: 1024,
            step_width: 4,
            report_updates: false,
            limits: Limits::default(),
        }
    }
}
