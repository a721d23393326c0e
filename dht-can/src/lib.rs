//! CAN (Ratnasamy et al., "A Scalable Content-Addressable Network", SIGCOMM 2001) as a
//! sans-IO routing algorithm for the `overlay` crate: a d-dimensional torus split into
//! zones, one or more per node; join by splitting the zone holding a random point (the new
//! node's id's point); greedy routing to the neighbour nearest the key's point; graceful
//! hand-over of zones on leave; the takeover algorithm after crashes, in which the
//! neighbour with the smallest zone claims first.

mod can;
mod config;
mod face;
mod far_peers;
mod messages;
mod sim;
mod zone;
mod zone_map;

pub use can::{Can, Neighbour};
pub use config::CanConfig;
pub use messages::{CanMsg, CanTimer, Peer};
pub use sim::CanTruth;
pub use zone::{Bounds, MAX_DEPTH, MAX_DIMS, Point, Zone, Zones, key_path};
pub use zone_map::ZoneMap;
