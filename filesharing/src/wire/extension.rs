//! The extension protocol (BEP 10): the extension handshake, and BEP 9's metadata messages
//! (`ut_metadata`), with which peers hand each other the info dictionary of a magnet link.

use std::collections::BTreeMap;

use bt_bencode::ByteString;
use serde::{Deserialize, Serialize};

/// The number we give `ut_metadata` in our extension handshake; peers send us metadata
/// messages under it.
pub const UT_METADATA: u8 = 3;
/// Bytes per metadata piece (BEP 9).
pub const METADATA_PIECE_LEN: usize = 16 * 1024;
/// Largest info dictionary fetched from peers (about 400,000 pieces' hashes).
pub const MAX_METADATA_LEN: u64 = 8 << 20;

/// The extension handshake's dictionary (message 20, extension 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtHandshake {
    /// Extension names and the numbers the sender wants them sent under (0: disabled).
    #[serde(default)]
    pub m: BTreeMap<String, i64>,
    /// BEP 9: bytes of the info dictionary, if the sender has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_size: Option<i64>,
    /// The sender's client and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<ByteString>,
    /// Requests the sender queues before dropping more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reqq: Option<i64>,
}

impl ExtHandshake {
    /// Ours: `ut_metadata`, and the metadata's size when we have it.
    pub fn ours(metadata_size: Option<usize>, reqq: usize) -> Self {
        ExtHandshake {
            m: [("ut_metadata".to_string(), UT_METADATA as i64)].into(),
            metadata_size: metadata_size.map(|s| s as i64),
            v: Some(ByteString::from(format!(
                "p2p {}",
                env!("CARGO_PKG_VERSION")
            ))),
            reqq: Some(reqq as i64),
        }
    }

    /// The number the sender wants `ut_metadata` messages under, if it speaks it.
    pub fn ut_metadata(&self) -> Option<u8> {
        self.m
            .get("ut_metadata")
            .and_then(|&id| u8::try_from(id).ok())
            .filter(|&id| id != 0)
    }

    /// The metadata size it announces, if plausible.
    pub fn metadata_len(&self) -> Option<u64> {
        self.metadata_size
            .and_then(|s| u64::try_from(s).ok())
            .filter(|&s| s > 0 && s <= MAX_METADATA_LEN)
    }

    /// The payload of the handshake message.
    pub fn encode(&self) -> Vec<u8> {
        bt_bencode::to_vec(self).expect("a handshake always encodes")
    }

    /// Reads a peer's handshake; `None` if it is not one.
    pub fn decode(payload: &[u8]) -> Option<Self> {
        bt_bencode::from_slice(payload).ok()
    }
}

/// A BEP 9 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataMessage {
    /// Asks for a piece of the info dictionary.
    Request(u32),
    /// A piece, with the dictionary's total size.
    Data {
        /// Piece number.
        piece: u32,
        /// Bytes of the whole dictionary.
        total_size: u64,
        /// The piece's bytes.
        data: Vec<u8>,
    },
    /// The sender will not send this piece.
    Reject(u32),
}

#[derive(Serialize, Deserialize)]
struct Header {
    msg_type: i64,
    piece: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    total_size: Option<i64>,
}

impl MetadataMessage {
    /// The message's payload (after the extension number).
    pub fn encode(&self) -> Vec<u8> {
        let (msg_type, piece, total_size, data) = match self {
            MetadataMessage::Request(p) => (0, *p, None, &[][..]),
            MetadataMessage::Data {
                piece,
                total_size,
                data,
            } => (1, *piece, Some(*total_size as i64), &data[..]),
            MetadataMessage::Reject(p) => (2, *p, None, &[][..]),
        };
        let header = Header {
            msg_type,
            piece: piece as i64,
            total_size,
        };
        let mut out = bt_bencode::to_vec(&header).expect("a header always encodes");
        out.extend_from_slice(data);
        out
    }

    /// Reads a metadata message; `None` if it is not one.
    pub fn decode(payload: &[u8]) -> Option<Self> {
        let mut de = bt_bencode::Deserializer::from_slice(payload);
        let header = Header::deserialize(&mut de).ok()?;
        let rest = &payload[de.byte_offset()..];
        let piece = u32::try_from(header.piece).ok()?;
        match header.msg_type {
            0 => Some(MetadataMessage::Request(piece)),
            1 => Some(MetadataMessage::Data {
                piece,
                total_size: u64::try_from(header.total_size?).ok()?,
                data: rest.to_vec(),
            }),
            2 => Some(MetadataMessage::Reject(piece)),
            _ => None,
        }
    }
}

/// Gathers an info dictionary piece by piece and checks it against the info-hash.
#[derive(Debug)]
pub struct MetadataAssembler {
    info_hash: crate::InfoHash,
    len: usize,
    pieces: Vec<Option<Vec<u8>>>,
}

impl MetadataAssembler {
    /// For a dictionary of `len` bytes (as a peer announced; `None` if implausible).
    pub fn new(info_hash: crate::InfoHash, len: u64) -> Option<Self> {
        if len == 0 || len > MAX_METADATA_LEN {
            return None;
        }
        let len = len as usize;
        Some(MetadataAssembler {
            info_hash,
            len,
            pieces: vec![None; len.div_ceil(METADATA_PIECE_LEN)],
        })
    }

    /// The number of pieces.
    pub fn pieces(&self) -> u32 {
        self.pieces.len() as u32
    }

    /// Takes a piece; once all are in, the dictionary if its hash is the info-hash. A
    /// piece of the wrong size is ignored; a whole that fails the hash is dropped.
    pub fn add(&mut self, piece: u32, data: Vec<u8>) -> Result<Option<Vec<u8>>, &'static str> {
        let i = piece as usize;
        let want = METADATA_PIECE_LEN.min(self.len.saturating_sub(i * METADATA_PIECE_LEN));
        if i >= self.pieces.len() || data.len() != want {
            return Err("a metadata piece of the wrong size");
        }
        self.pieces[i] = Some(data);
        if self.pieces.iter().any(Option::is_none) {
            return Ok(None);
        }
        let whole: Vec<u8> = self
            .pieces
            .iter_mut()
            .flat_map(|p| p.take().unwrap_or_default())
            .collect();
        if crate::InfoHash::of(&whole) != self.info_hash {
            return Err("the metadata does not match the info-hash");
        }
        Ok(Some(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfoHash;

    #[test]
    fn metadata_messages_round_trip_and_garbage_is_none() {
        for m in [
            MetadataMessage::Request(3),
            MetadataMessage::Reject(0),
            MetadataMessage::Data {
                piece: 1,
                total_size: 20_000,
                data: vec![7; 3616],
            },
        ] {
            assert_eq!(MetadataMessage::decode(&m.encode()), Some(m));
        }
        assert_eq!(MetadataMessage::decode(b"d8:msg_typei9e5:piecei0ee"), None);
        assert_eq!(MetadataMessage::decode(b"garbage"), None);
        let h = ExtHandshake::ours(Some(1234), 500);
        let back = ExtHandshake::decode(&h.encode()).unwrap();
        assert_eq!(back.ut_metadata(), Some(UT_METADATA));
        assert_eq!(back.metadata_len(), Some(1234));
    }

    #[test]
    fn metadata_is_assembled_and_checked() {
        let info: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let hash = InfoHash::of(&info);
        let mut a = MetadataAssembler::new(hash, info.len() as u64).unwrap();
        assert_eq!(a.pieces(), 3);
        assert!(a.add(0, vec![0; 5]).is_err());
        assert_eq!(a.add(2, info[32_768..].to_vec()), Ok(None));
        assert_eq!(a.add(0, info[..16_384].to_vec()), Ok(None));
        assert_eq!(
            a.add(1, info[16_384..32_768].to_vec()),
            Ok(Some(info.clone()))
        );
        let mut bad = MetadataAssembler::new(InfoHash([0; 20]), 10).unwrap();
        assert!(bad.add(0, vec![1; 10]).is_err());
        assert!(MetadataAssembler::new(hash, MAX_METADATA_LEN + 1).is_none());
    }
}
