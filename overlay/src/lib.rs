//! The overlay layer of `p2p`: identifiers, the key-based-routing trait every routing
//! algorithm implements, the node that adds lookups and `route` on top of any of them and
//! hosts applications (the DHT is the first), and the two drivers.
//!
//! Protocol logic is sans-IO: a [`Node`] takes [`Input`]s with the current time and a
//! seeded generator, and returns [`Output`]s for its driver to carry out.

pub mod app;
pub mod apps;
pub mod config;
pub mod contact;
pub mod dht;
pub mod error;
pub mod id;
pub mod io;
pub mod limits;
mod lookup;
#[cfg(feature = "net")]
pub mod net;
pub mod node;
pub mod probe_queue;
pub mod recent;
mod recursive;
mod round_trips;
mod route;
pub mod routing;
pub mod sim;
pub mod small_map;
mod step_around;
pub mod store;
pub mod time;
mod visited;
pub mod wire;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use app::{AppCtx, Application, CtxOf, Forward, OverlayView, TimerId};
pub use apps::{AppSet, Here, Layer, Member, Nothing, Pick, SetCtx, There};
pub use config::{LookupMode, NodeConfig};
pub use contact::{Address, Contact};
pub use dht::{Dht, DhtCommand, DhtConfig, DhtEvent, DhtMsg};
pub use error::{DecodeError, DhtError, InvalidMessage, LookupError, ProtocolError};
pub use id::{Key, NodeId};
pub use io::{Command, CommandOf, Ctx, Event, EventOf, Input, NodeTimer, Output, TimerOf};
pub use limits::Limits;
pub use node::{DefaultApps, Node, NodeError, NodeStats, Phase};
pub use probe_queue::ProbeQueue;
pub use recent::{Recent, RecentlyDead};
pub use routing::{Action, Message, Out, ReqId, Routing, RoutingOut, Step};
pub use small_map::SmallMap;
pub use store::{Record, Store, Version};
pub use time::Time;
pub use wire::{Request, Response, Wire, WireOf};
