//! Application-level multicast over any overlay of the `p2p` project.
//!
//! [`Scribe`] (Castro, Druschel, Kermarrec and Rowstron, JSAC 2002) builds one tree per
//! group out of the overlay's own routes: the group id's root is the tree's root, and a
//! join routed towards it makes every node on the way a forwarder that keeps the previous
//! hop as its child. It is an [`overlay::Application`], generic over the routing
//! algorithm, so it runs unchanged over Chord, Pastry, Tapestry and CAN, in the simulator
//! and on real nodes.

mod config;
mod group;
mod messages;
mod order;
mod scribe;

pub use config::ScribeConfig;
pub use group::{Child, Group};
pub use messages::{
    AnycastMsg, GroupId, GroupReport, Publication, ScribeCommand, ScribeEvent, ScribeMsg,
};
pub use order::Inbox;
pub use scribe::{Scribe, ScribeTimer};
