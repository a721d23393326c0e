//! The DHT, the first application: `put`/`get`/`remove` on a key's replica set over any
//! routing algorithm, with versions assigned by the key's root, hand-over when the replica
//! set changes, anti-entropy repair after failures, and hand-over of every record when its
//! node leaves.

mod app;
mod config;
mod messages;
mod replicas;

pub use app::Dht;
pub use config::DhtConfig;
pub use messages::{DhtCommand, DhtEvent, DhtMsg, DhtTimer};
