//! The DHT, the first application: `put`/`get`/`remove` on a key's replica set over any
//! routing algorithm, with versions assigned by the key's root, hand-over when the replica
//! set changes, anti-entropy repair after failures, and hand-over of every record when its
//! node leaves; and set-valued, expiring records (`announce`/`members`: many members under
//! one key, each kept alive by its announcer), copied to the replica set and pushed on to it
//! by every repair pass.

mod app;
mod config;
mod messages;
mod reads;
mod replicas;
mod set_ops;
mod sets;

pub use app::Dht;
pub use config::DhtConfig;
pub use messages::{DhtCommand, DhtEvent, DhtMsg, DhtTimer};
pub use sets::{MAX_MEMBER_BYTES, MAX_MEMBERS, MAX_SET_KEYS, MAX_TTL, Member, SetStore};
