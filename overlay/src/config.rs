//! Parameters of a node that do not depend on the routing algorithm.

use std::time::Duration;

use crate::limits::Limits;

/// Node parameters shared by every routing algorithm.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// How long a request waits for its response before the peer counts as failed.
    pub request_timeout: Duration,
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
            request_timeout: Duration::from_secs(1),
            // CAN in two dimensions takes O(N^(1/2)) hops: about 160 at 100,000 nodes.
            max_hops: 1024,
            step_width: 4,
            report_updates: false,
            limits: Limits::default(),
        }
    }
}
