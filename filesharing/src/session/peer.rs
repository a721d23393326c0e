//! What the session knows of one connected peer.

use std::collections::VecDeque;
use std::time::Duration;

use super::bitfield::Bitfield;
use super::rate::Rate;

/// A block: piece, offset, length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRef {
    /// Piece index.
    pub index: u32,
    /// Offset in the piece.
    pub begin: u32,
    /// Bytes.
    pub length: u32,
}

/// One connection's state, both directions.
#[derive(Debug)]
pub(super) struct Peer {
    pub fast: bool,
    /// The number it wants BEP 9 messages under, if it speaks BEP 9.
    pub ut_metadata: Option<u8>,
    pub has: Bitfield,
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
    /// Our requests to it, oldest first, with when each was sent.
    pub requested: VecDeque<(BlockRef, Duration)>,
    /// Its requests to us not yet read from storage.
    pub wanted: VecDeque<BlockRef>,
    /// Blocks read for it and not yet written to its socket.
    pub reads_in_flight: usize,
    /// Pieces it may request while choked (BEP 6).
    pub allowed_fast: Vec<u32>,
    pub down: Rate,
    pub up: Rate,
    pub last_block: Duration,
    pub last_received: Duration,
    pub last_sent: Duration,
}

impl Peer {
    pub fn new(pieces: u32, fast: bool, now: Duration) -> Self {
        Peer {
            fast,
            ut_metadata: None,
            has: Bitfield::empty(pieces),
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            requested: VecDeque::new(),
            wanted: VecDeque::new(),
            reads_in_flight: 0,
            allowed_fast: Vec::new(),
            down: Rate::default(),
            up: Rate::default(),
            last_block: now,
            last_received: now,
            last_sent: now,
        }
    }

    /// Whether it has sent no block for `after` while we wanted some and it let us ask.
    pub fn snubbed(&self, now: Duration, after: Duration) -> bool {
        self.am_interested && !self.peer_choking && now.saturating_sub(self.last_block) > after
    }
}
