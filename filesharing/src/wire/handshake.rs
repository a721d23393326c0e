//! The 68-byte handshake that opens every connection, with the reserved bits that announce
//! extensions.

use super::WireError;
use crate::InfoHash;

/// Bytes in a handshake.
pub const HANDSHAKE_LEN: usize = 68;
const PROTOCOL: &[u8; 20] = b"\x13BitTorrent protocol";

/// A peer's 20-byte id, chosen by the peer.
pub type PeerId = [u8; 20];

/// The handshake: the swarm (info-hash), the sender's id and the extensions it supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The eight reserved bytes, whose bits name extensions.
    pub reserved: [u8; 8],
    /// The torrent the connection is for.
    pub info_hash: InfoHash,
    /// The sender's peer id.
    pub peer_id: PeerId,
}

impl Handshake {
    /// Ours: the fast extension (BEP 6). The extension protocol's bit is set by
    /// [`Handshake::with_extensions`] once a caller speaks it.
    pub fn new(info_hash: InfoHash, peer_id: PeerId) -> Self {
        let mut reserved = [0; 8];
        reserved[7] |= 0x04;
        Handshake {
            reserved,
            info_hash,
            peer_id,
        }
    }

    /// The same, announcing the extension protocol (BEP 10) too.
    pub fn with_extensions(mut self) -> Self {
        self.reserved[5] |= 0x10;
        self
    }

    /// Whether the sender speaks the fast extension.
    pub fn fast(&self) -> bool {
        self.reserved[7] & 0x04 != 0
    }

    /// Whether the sender speaks the extension protocol.
    pub fn extended(&self) -> bool {
        self.reserved[5] & 0x10 != 0
    }

    /// The handshake's bytes.
    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut out = [0; HANDSHAKE_LEN];
        out[..20].copy_from_slice(PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved);
        out[28..48].copy_from_slice(&self.info_hash.0);
        out[48..].copy_from_slice(&self.peer_id);
        out
    }

    /// Reads a handshake from its 68 bytes.
    pub fn decode(bytes: &[u8; HANDSHAKE_LEN]) -> Result<Self, WireError> {
        if &bytes[..20] != PROTOCOL {
            return Err(WireError::NotBitTorrent);
        }
        let mut h = Handshake {
            reserved: [0; 8],
            info_hash: InfoHash([0; 20]),
            peer_id: [0; 20],
        };
        h.reserved.copy_from_slice(&bytes[20..28]);
        h.info_hash.0.copy_from_slice(&bytes[28..48]);
        h.peer_id.copy_from_slice(&bytes[48..]);
        Ok(h)
    }
}
