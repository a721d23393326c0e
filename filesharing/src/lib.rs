//! BitTorrent-style file sharing: metainfo files (BEP 3) with their info-hash, created from
//! files on disk; magnet links (BEP 9's `magnet:?xt=urn:btih:` form); a tracker (HTTP
//! announce and scrape) as a state machine.
//!
//! ```
//! use filesharing::{InfoHash, Magnet};
//!
//! let m: Magnet = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=demo"
//!     .parse()
//!     .unwrap();
//! assert_eq!(m.name.as_deref(), Some("demo"));
//! assert_eq!(m.info_hash, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a".parse::<InfoHash>().unwrap());
//! ```

pub mod magnet;
pub mod metainfo;
#[cfg(feature = "net")]
pub mod net;
pub mod session;
pub mod storage;
pub mod swarm;
pub mod tracker;
pub mod wire;

pub use magnet::{Magnet, MagnetError};
pub use metainfo::{
    CreateError, CreateOptions, FileEntry, Info, InfoHash, Metainfo, MetainfoError, create,
};
pub use tracker::{Tracker, TrackerConfig};
