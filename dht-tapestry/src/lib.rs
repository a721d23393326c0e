//! Tapestry (Zhao, Huang, Stribling, Rhea, Joseph and Kubiatowicz, "Tapestry: A Resilient
//! Global-Scale Overlay for Service Deployment", IEEE JSAC 2004) as a sans-IO routing
//! algorithm for the `overlay` crate: ids read in base 16, a neighbour map whose entries
//! hold the closest node plus `c` backups, surrogate routing so every key has one root all
//! nodes agree on, join by routing to the new id and an acknowledged multicast from its
//! surrogate root, backpointers (who holds whom, so a leave reaches every node pointing at
//! the leaver), heartbeat probes with repair from backups and from nodes of the same
//! level; and object location: `publish` leaves pointers on the way to the object's
//! (salted) roots, `locate` stops at the first pointer, pointers expire unless published
//! again.

mod backpointers;
mod config;
mod messages;
mod multicast;
mod neighbour_map;
mod objects;
mod rotation;
mod sim;
mod tapestry;

pub use config::TapestryConfig;
pub use messages::{TapestryMsg, TapestryTimer};
pub use neighbour_map::{BASE, DIGIT_BITS, Inserted, MAX_WIDTH, NeighbourMap, RTT_UNIT_US};
pub use objects::{Located, salted};
pub use tapestry::Tapestry;
