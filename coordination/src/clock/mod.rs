//! Logical clocks, usable by every protocol of the crate.

pub mod lamport;
pub mod vector;
