//! A BitTorrent tracker (BEP 3's HTTP announce, BEP 23's compact peer lists, BEP 7's
//! `peers6`, BEP 48's scrape) as a state machine: requests in, bencoded answers out, time
//! given by the caller. `p2p tracker` serves it over HTTP. The peer's side, the announce
//! and scrape URLs and the answers, is here too.

mod client;
mod request;
mod scrape_client;
mod swarm;

pub use client::{AnnounceError, AnnounceResponse, announce_url, parse_announce_response};
pub use request::{AnnounceRequest, Event, RequestError, parse_announce, parse_scrape};
pub use scrape_client::{ScrapeCounts, parse_scrape_response, scrape_url};
pub use swarm::{Tracker, TrackerConfig};
