//! The deterministic discrete-event simulator: one of the two drivers of [`crate::Node`].

mod bootstrap;
mod churn;
mod latency;
mod parallel;
mod queue;
mod simulator;
mod stats;
mod topology;
mod truth;

pub use bootstrap::Bootstrap;
pub use churn::ChurnConfig;
pub use latency::LatencyModel;
pub use parallel::build_in_parallel;
pub use queue::EventQueue;
pub use simulator::{AppFactory, DefaultEvent, SimConfig, SimEvent, Simulator};
pub use stats::LookupStats;
pub use topology::{TransitStubConfig, Underlay};
pub use truth::{ClosestTruth, GroundTruth, SURROGATE_DIGIT_BITS, SuccessorTruth, SurrogateTruth};

use std::time::Duration;

use crate::contact::Contact;
use crate::routing::Routing;

/// What the simulator needs from a routing algorithm beyond [`Routing`]: ground truth,
/// tables built directly from the membership, and the paper's hop-count formula.
pub trait SimRouting: Routing<Addr = u32> {
    /// Who is really responsible for a key.
    type Truth: GroundTruth<Self>;

    /// The tables the protocol converges to, built directly from the full membership
    /// (`members` sorted by id); one node per member, in the same order, each passed
    /// through `wrap` as it is built (the simulator wraps it in its `Node` at once, so a
    /// million tables are never held twice).
    fn oracle<T: Send>(
        members: &[Contact<u32>],
        config: &Self::Config,
        wrap: &(dyn Fn(Self) -> T + Sync),
    ) -> Vec<T>;

    /// The maintenance timers a node runs once joined, with their first delays.
    fn maintenance_timers(&self, config: &Self::Config) -> Vec<(Duration, Self::Timer)>;

    /// Whether this node's tables equal the converged `ideal`.
    fn agrees_with(&self, ideal: &Self) -> bool;

    /// How many of `nodes` (the live, joined nodes, sorted by id) have converged tables.
    /// By default each is compared with the [`SimRouting::oracle`] tables of the same
    /// membership; an algorithm whose converged state depends on history (CAN's zones)
    /// checks its own invariants instead.
    fn converged(nodes: &[&Self], config: &Self::Config) -> usize {
        let members: Vec<Contact<u32>> = nodes.iter().map(|n| n.me().clone()).collect();
        let ideal = Self::oracle(&members, config, &|r| r);
        nodes
            .iter()
            .zip(&ideal)
            .filter(|(n, ideal)| n.agrees_with(ideal))
            .count()
    }

    /// The paper's expected mean hop count for `n` nodes.
    fn theory_hops(n: usize, config: &Self::Config) -> f64;

    /// The algorithm's parameters, for reports (`("successors", "16")`, ...).
    fn params(config: &Self::Config) -> Vec<(&'static str, String)>;
}
