//! Pastry (Rowstron and Druschel, "Pastry: Scalable, decentralized object location and
//! routing for large-scale peer-to-peer systems", Middleware 2001) as a sans-IO routing
//! algorithm for the `overlay` crate: ids read as base-`2^b` digits, a routing table of
//! `2^b` columns per shared-prefix row, a leaf set of the `L` numerically closest nodes, a
//! neighbourhood set of the `M` nearest by round-trip time; proximity neighbour selection
//! by probing; join along the route to the new node's own id (optionally from a nearby node
//! found first); leaf-set and lazy routing-table repair.

mod config;
mod discovery;
mod joiners;
mod leaf_set;
mod messages;
mod pastry;
mod sim;
mod table;

pub use config::PastryConfig;
pub use leaf_set::LeafSet;
pub use messages::{PastryMsg, PastryTimer};
pub use pastry::Pastry;
pub use table::{Entry, RoutingTable};
