//! Coordination over the members of a `p2p` overlay: logical clocks, distributed mutual
//! exclusion and (to come) election and clock synchronisation.
//!
//! Every algorithm is a sans-IO state machine at one member of a group [`View`]: messages
//! and new views go in, messages to other members come out. [`run_cluster`] drives one
//! algorithm at every member of a seeded, simulated cluster (random delays, crashes, joins)
//! with a checker that sees every entry and exit.

pub mod clock;
mod cluster;
pub mod mutex;
mod view;

pub use cluster::{ClusterConfig, ClusterReport, Member, run_cluster};
pub use view::{MemberId, View};
