//! Framing: turns the bytes of a stream into messages as they arrive, whatever the chunks.

use super::message::id;
use super::{Message, WireError};

/// Longest message accepted: a 16 KiB block with its header, or a bitfield of 2²⁰ pieces,
/// with room for an extension message such as a metadata piece (BEP 9).
pub const MAX_MESSAGE_BYTES: u32 = 1 << 20;

/// Collects a stream's bytes and yields the messages in them.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet made into messages.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message, `None` if more bytes are needed. An error means the stream
    /// is not the protocol, and the connection should be closed.
    pub fn next_message(&mut self) -> Result<Option<Message>, WireError> {
        let rest = &self.buf[self.start..];
        if rest.len() < 4 {
            self.compact();
            return Ok(None);
        }
        let len = u32::from_be_bytes(rest[..4].try_into().expect("four bytes"));
        if len > MAX_MESSAGE_BYTES {
            return Err(WireError::TooLong(len));
        }
        let total = 4 + len as usize;
        if rest.len() < total {
            self.compact();
            return Ok(None);
        }
        let body = &rest[4..total];
        let message = parse(body)?;
        self.start += total;
        Ok(Some(message))
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so that the
    /// buffer does not grow with the stream.
    fn compact(&mut self) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

fn parse(body: &[u8]) -> Result<Message, WireError> {
    let Some((&kind, payload)) = body.split_first() else {
        return Ok(Message::KeepAlive);
    };
    let bad = || WireError::BadLength {
        id: kind,
        len: payload.len(),
    };
    let u32_at = |i: usize| u32::from_be_bytes(payload[i..i + 4].try_into().expect("4 bytes"));
    let want = |n: usize| {
        if payload.len() == n {
            Ok(())
        } else {
            Err(bad())
        }
    };
    Ok(match kind {
        id::CHOKE => want(0).map(|_| Message::Choke)?,
        id::UNCHOKE => want(0).map(|_| Message::Unchoke)?,
        id::INTERESTED => want(0).map(|_| Message::Interested)?,
        id::NOT_INTERESTED => want(0).map(|_| Message::NotInterested)?,
        id::HAVE_ALL => want(0).map(|_| Message::HaveAll)?,
        id::HAVE_NONE => want(0).map(|_| Message::HaveNone)?,
        id::HAVE => want(4).map(|_| Message::Have(u32_at(0)))?,
        id::SUGGEST => want(4).map(|_| Message::SuggestPiece(u32_at(0)))?,
        id::ALLOWED_FAST => want(4).map(|_| Message::AllowedFast(u32_at(0)))?,
        id::BITFIELD => Message::Bitfield(payload.to_vec()),
        id::REQUEST | id::CANCEL | id::REJECT => {
            want(12)?;
            let (index, begin, length) = (u32_at(0), u32_at(4), u32_at(8));
            match kind {
                id::REQUEST => Message::Request {
                    index,
                    begin,
                    length,
                },
                id::CANCEL => Message::Cancel {
                    index,
                    begin,
                    length,
                },
                _ => Message::RejectRequest {
                    index,
                    begin,
                    length,
                },
            }
        }
        id::PIECE => {
            if payload.len() < 8 {
                return Err(bad());
            }
            Message::Piece {
                index: u32_at(0),
                begin: u32_at(4),
                data: payload[8..].to_vec(),
            }
        }
        id::PORT => {
            want(2)?;
            Message::Port(u16::from_be_bytes([payload[0], payload[1]]))
        }
        id::EXTENDED => {
            let (&ext, rest) = payload.split_first().ok_or_else(bad)?;
            Message::Extended {
                id: ext,
                payload: rest.to_vec(),
            }
        }
        other => Message::Unknown(other),
    })
}
