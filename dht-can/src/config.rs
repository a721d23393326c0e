//! CAN's parameters.

use std::time::Duration;

/// CAN's tunables, with the defaults used in the benchmarks.
#[derive(Clone, Debug, PartialEq)]
pub struct CanConfig {
    /// Dimensions of the coordinate space (`d`, 1 to 16).
    pub dims: usize,
    /// Period of the update messages each node sends its neighbours (zones and neighbour
    /// lists); a neighbour that stops answering them has failed.
    pub update_interval: Duration,
    /// Takeover timer of a node whose zone is as large as the failed one's; it scales with
    /// the ratio of the two volumes, so the smallest neighbour claims first.
    pub takeover_delay: Duration,
    /// Wait before retrying a failed join.
    pub join_retry: Duration,
    /// The paper's "more uniform partitioning": the owner of a joining node's point lets
    /// a neighbour with a larger zone split instead, so zone volumes even out.
    pub uniform_partitioning: bool,
    /// Greedy next hops among the neighbours' neighbours too (their zones come with every
    /// neighbour's listing): a lookup moves up to two zones a hop, as in Manku, Naor and
    /// Wieder's "Know thy neighbor's neighbor" (STOC 2004); and among the owners this
    /// node's lookups ended at, whose zones it asks for (the last `far_peers`). Off by
    /// default: the CAN paper's path lengths ((d/4)·N^(1/d)), which the simulator
    /// benchmarks reproduce, are those of neighbours alone.
    pub two_hop_routing: bool,
    /// With two-hop routing: owners found by lookups kept with their zones as next hops
    /// (0: none). 64 cover every zone of a small network in a few kilobytes.
    pub far_peers: usize,
}

impl Default for CanConfig {
    fn default() -> Self {
        CanConfig {
            dims: 2,
            update_interval: Duration::from_secs(30),
            takeover_delay: Duration::from_secs(5),
            join_retry: Duration::from_secs(5),
            uniform_partitioning: true,
            two_hop_routing: false,
            far_peers: 64,
        }
    }
}
