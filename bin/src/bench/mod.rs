//! The benchmarks behind `p2p bench`.

pub mod build;
pub mod churn;
pub mod clock_sync;
pub mod coordination;
pub mod growth;
pub mod hops;
pub mod kad;
pub mod locate;
pub mod multicast;
pub mod net;
pub mod net_churn;
pub mod net_multicast;
pub mod plot;
pub mod plot_coordination;
pub mod plot_multicast;
pub mod plot_swarm;
pub mod progress;
pub mod rows;
pub mod stats;
pub mod swarm;
pub mod table;
pub mod transfer;
