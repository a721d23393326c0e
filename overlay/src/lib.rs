//! The overlay layer of `p2p`: identifiers, the key-based-routing trait every routing
//! algorithm implements, the node that adds lookups, `route` and the DHT on top of any of
//! them, and the deterministic simulator that drives it.
//!
//! Protocol logic is sans-IO: a [`Node`] takes [`Input`]s with the current time and a
//! seeded generator, and returns [`Output`]s for its driver to carry out.

pub mod app;
pub mod config;
pub mod contact;
mod dht;
pub mod error;
pub mod id;
pub mod io;
pub mod limits;
mod lookup;
#[cfg(feature = "net")]
pub mod net;
pub mod node;
pub mod recently_dead;
mod route;
pub mod routing;
pub mod sim;
pub mod small_map;
pub mod store;
pub mod time;
mod visited;
pub mod wire;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use app::Application;
pub use config::NodeConfig;
pub use contact::{Address, Contact};
pub use error::{DecodeError, DhtError, InvalidMessage, LookupError, ProtocolError};
pub use id::{Key, NodeId};
pub use io::{Command, Ctx, Event, Input, NodeTimer, Output};
pub use limits::Limits;
pub use node::{Node, NodeError, NodeStats, Phase};
pub use recently_dead::RecentlyDead;
pub use routing::{Action, Message, Out, ReqId, Routing, RoutingOut, Step};
pub use small_map::SmallMap;
pub use store::{Record, Store, Version};
pub use time::Time;
pub use wire::{Request, Response, Wire, WireOf};
