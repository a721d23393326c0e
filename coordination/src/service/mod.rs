//! The coordination service a node runs: it joins groups (every node joins `default`),
//! and in each group elects a leader ([`crate::election`]) and keeps a Berkeley estimate
//! of its clock's offset from the group's time ([`crate::sync`]) with the leader as the
//! master; it takes named locks of a group with the chosen mutual-exclusion algorithm
//! ([`crate::mutex`]). Every message between members carries the sender's Lamport and
//! vector clocks.
//!
//! A lock's members are the group's nodes that have used it: lock `L` of group `G` is
//! the membership group `G/lock/L`, which a node joins the first time it asks for `L`.
//! A member that crashes leaves the lock's view within the membership's timeout, and the
//! algorithm recovers what it held, so a dead holder's lock passes on. Local holders at one
//! node are served one at a time, in the order they asked.
//!
//! The leader is the group's highest live member (both elections choose it), which is also
//! the master of clock synchronisation and the central server's coordinator.

mod app;
mod delivery;
mod group_slot;
mod hex;
mod lock_slot;
mod messages;
mod out;

pub use app::Coordination;
pub use messages::{
    ClockSource, CoordinationCommand, CoordinationConfig, CoordinationEvent, CoordinationMsg,
    CoordinationReport, CoordinationTimer, GroupReport, LockReport, Protocol, Stamp, group_key,
    lock_key,
};
