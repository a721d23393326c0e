//! A BitTorrent tracker (BEP 3's HTTP announce, BEP 23's compact peer lists, BEP 7's
//! `peers6`, BEP 48's scrape) as a state machine: requests in, bencoded answers out, time
//! given by the caller. `p2p tracker` serves it over HTTP.

mod request;
mod swarm;

pub use request::{AnnounceRequest, Event, RequestError, parse_announce, parse_scrape};
pub use swarm::{Tracker, TrackerConfig};
