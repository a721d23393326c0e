//! Logical clocks, usable by every protocol of the crate, and the simulated physical clocks
//! the synchronisation algorithms discipline.

pub mod lamport;
pub mod soft;
pub mod vector;
