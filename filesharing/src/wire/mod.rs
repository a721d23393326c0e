//! The peer wire protocol (BEP 3) with the fast extension (BEP 6) and the extension
//! protocol's framing (BEP 10): the handshake and the length-prefixed messages, encoded and
//! decoded without I/O. Every length read from a peer is checked against a limit before
//! anything is allocated for it.

mod decode;
mod extension;
mod handshake;
mod message;

pub use decode::{Decoder, MAX_MESSAGE_BYTES};
pub use extension::{
    ExtHandshake, MAX_METADATA_LEN, METADATA_PIECE_LEN, MetadataAssembler, MetadataMessage,
    UT_METADATA,
};
pub use handshake::{HANDSHAKE_LEN, Handshake, PeerId};
pub use message::{BLOCK_LEN, Message};

/// Why bytes from a peer are not the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The first 20 bytes are not `\x13BitTorrent protocol`.
    #[error("not a BitTorrent handshake")]
    NotBitTorrent,
    /// A message longer than any this side accepts.
    #[error("a {0}-byte message, more than the {MAX_MESSAGE_BYTES} accepted")]
    TooLong(u32),
    /// A known message whose payload has the wrong length.
    #[error("message {id} with a {len}-byte payload")]
    BadLength {
        /// The message id.
        id: u8,
        /// The payload's length.
        len: usize,
    },
}

#[cfg(test)]
mod tests;
