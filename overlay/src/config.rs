//! Parameters of a node that do not depend on the routing algorithm.

use std::time::Duration;

use crate::limits::Limits;

/// Node parameters shared by every routing algorithm.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// How long a request waits for its response before the peer counts as failed.
    pub request_timeout: Duration,
    /// With `Some(floor)`, a request the node core answers on receipt (a routed message's
    /// hop, a lookup's step) waits three of the shortest round trips seen to its peer, at
    /// least `floor` (`request_timeout` for a peer not heard from yet), so a crashed next
    /// hop costs a few round trips rather than a full request timeout. `None` (the
    /// default, and real nodes') gives every request `request_timeout`: on a loaded host
    /// the delays of the moment say more than the shortest round trip seen. The simulator
    /// sets it ([`crate::sim::SimConfig`]); under a latency model whose delays vary from
    /// message to message (`uniform`), the shortest round trip understates the usual one,
    /// and a live peer may time out.
    pub prompt_timeout_floor: Option<Duration>,
    /// Hop limit of a lookup or routed message (loop guard).
    pub max_hops: u32,
    /// Contacts returned per routing step (the best next hop plus fallbacks).
    pub step_width: usize,
    /// How this node's lookups travel, unless a [`crate::Command::Lookup`] names a mode.
    /// A lookup made while joining (through the bootstrap node) is always iterative.
    pub lookup_mode: LookupMode,
    /// Whether [`crate::Event::NeighborUpdate`] events are emitted.
    pub report_updates: bool,
    /// Bounds on network input.
    pub limits: Limits,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            request_timeout: Duration::from_secs(1),
            prompt_timeout_floor: None,
            // CAN in two dimensions takes O(N^(1/2)) hops: about 160 at 100,000 nodes.
            max_hops: 1024,
            step_width: 4,
            lookup_mode: LookupMode::Iterative,
            report_updates: false,
            limits: Limits::default(),
        }
    }
}

/// How a lookup travels towards its key's root (OverSim's routing types).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LookupMode {
    /// The initiator asks one node after another for its next hop: a round trip from the
    /// initiator per hop, every failure seen and routed around by the initiator.
    #[default]
    Iterative,
    /// Semi-recursive: each node passes the lookup on to its next hop (which acknowledges
    /// it at once, so a failed hop is detected and routed around where it failed), and the
    /// node that finds the root answers the initiator directly: one message per hop and
    /// one back (a first hop that finds the root answers in its acknowledgement). If no
    /// answer comes within two request timeouts, the initiator goes on iteratively, and
    /// whichever answer comes first ends the lookup.
    Recursive,
}

impl LookupMode {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LookupMode::Iterative => "iterative",
            LookupMode::Recursive => "recursive",
        }
    }
}
