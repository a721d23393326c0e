//! Coordination over the members of a `p2p` overlay: logical clocks, distributed mutual
//! exclusion, leader election and physical clock synchronisation.
//!
//! Every algorithm is a sans-IO state machine at one member of a group [`View`]: messages
//! and new views go in, messages to other members come out. [`run_cluster`] drives one
//! algorithm at every member of a seeded, simulated cluster (random delays, crashes, joins)
//! with a checker that sees every entry and exit. Over a real or simulated overlay,
//! [`service::Coordination`] runs them between the members of groups that
//! [`membership`] keeps: an election and clock synchronisation per group, and named locks
//! with the algorithm chosen at run time ([`choice`]).

pub mod choice;
pub mod clock;
mod cluster;
pub mod election;
mod election_cluster;
mod gone;
pub mod membership;
pub mod mutex;
mod schedule;
pub mod service;
pub mod sync;
mod sync_cluster;
mod view;

pub use cluster::{ClusterConfig, ClusterReport, Member, run_cluster};
pub use election_cluster::{ElectionConfig, ElectionReport, Starters, run_elections};
pub use sync_cluster::{Reference, SyncConfig, SyncReport, run_sync};
pub use view::{MemberId, View};
