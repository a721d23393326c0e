//! Chord (Stoica et al., "Chord: A Scalable Peer-to-peer Lookup Service for Internet
//! Applications", SIGCOMM 2001) as a sans-IO routing algorithm for the `overlay` crate:
//! 160-bit ids, finger table, successor list, predecessor; join through any node;
//! `stabilize`, `notify`, `fix_fingers` and `check_predecessor` on timers; graceful leave;
//! recovery from crashed successors and fingers. Lookups are iterative, as in the paper.

mod chord;
mod config;
mod finger;
mod messages;
mod sim;

pub use chord::Chord;
pub use config::ChordConfig;
pub use finger::FingerTable;
pub use messages::{ChordMsg, ChordTimer};
