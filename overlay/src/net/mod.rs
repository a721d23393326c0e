//! The libp2p driver: one [`crate::Node`] of any routing algorithm as a real peer, over
//! TCP + Noise + Yamux, with mDNS discovery on the LAN, identify, and messages in CBOR,
//! framed on one long-lived stream per connection under the algorithm's own protocol name
//! (`/p2p/chord/2`).
//!
//! [`spawn`] starts a node on the tokio runtime and returns a [`NetHandle`] through which
//! the application puts, gets, looks up and leaves.

mod behaviour;
mod config;
mod dial_failure;
mod discovery;
mod driver;
mod envelope;
mod error;
mod frames;
mod handle;
pub mod identity;
mod overlay_behaviour;
mod peer_addr;
mod persist;
mod resolve;
mod swarm_settings;
mod timers;

pub use behaviour::NodeApps;
pub use config::NetConfig;
pub use driver::{spawn, spawn_with};
pub use envelope::{Envelope, Hello, HelloReply, protocol_name};
pub use error::{ApiError, NetError};
pub use frames::{Frame, Frames, FramesEvent, Unsent};
pub use handle::{LookupReport, NetHandle, NodeStatus};
pub use overlay_behaviour::{DefaultNetEvent, OverlayBehaviour, OverlayEvent};
pub use peer_addr::{PeerAddr, contact_from_multiaddr, node_id_of};
pub use persist::RecordDb;
pub use swarm_settings::swarm_settings;
