//! Scribe's parameters.

use std::time::Duration;

/// Scribe's parameters. The timing defaults are OverSim's (parent timeout 6 s, child
/// timeout 60 s, a heartbeat every 3 s); FreePastry has no heartbeats and relies on its
/// overlay's failure detection, which our requests' timeouts give as well.
#[derive(Clone, Debug, PartialEq)]
pub struct ScribeConfig {
    /// A parent sends a heartbeat to a child it sent nothing else to for this long. The
    /// tree's periodic work (heartbeats, refreshes, timeouts, the root check) runs
    /// six times as often: see [`ScribeConfig::tick_interval`].
    pub heartbeat_interval: Duration,
    /// A child that heard nothing from its parent for this long joins again.
    pub parent_timeout: Duration,
    /// A parent drops a child that has not refreshed its subscription for this long.
    pub child_timeout: Duration,
    /// A child refreshes its subscription this often (a third of the child timeout, so
    /// two refreshes may be lost before the parent drops it).
    pub refresh_interval: Duration,
    /// The bottleneck remover's limit: a node with more children than this in a group hands
    /// the newest ones to their siblings (`usize::MAX`: off).
    pub max_children: usize,
    /// Largest payload published or anycast, in bytes (at most the node's value limit).
    pub max_payload: usize,
    /// Most groups one node keeps state for (as member, forwarder or root); joins beyond it
    /// pass the node by.
    pub max_groups: usize,
    /// How long a message that arrived ahead of a missing earlier one from the same
    /// publisher waits for it before the gap is given up on.
    pub reorder_timeout: Duration,
}

impl ScribeConfig {
    /// How often a node runs its groups' periodic work: a sixth of the heartbeat interval,
    /// so that a silent parent is noticed at most that long after the parent timeout (as
    /// OverSim's per-group timers notice it at once) rather than up to a whole heartbeat
    /// period later, which alone would leave no time to re-join within the three heartbeat
    /// periods a tree should take to heal.
    pub fn tick_interval(&self) -> Duration {
        self.heartbeat_interval / 6
    }
}

impl Default for ScribeConfig {
    fn default() -> Self {
        ScribeConfig {
            heartbeat_interval: Duration::from_secs(3),
            parent_timeout: Duration::from_secs(6),
            child_timeout: Duration::from_secs(60),
            refresh_interval: Duration::from_secs(20),
            max_children: 32,
            max_payload: 64 << 10,
            max_groups: 4096,
            reorder_timeout: Duration::from_secs(2),
        }
    }
}
