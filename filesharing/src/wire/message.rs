//! The messages after the handshake, each `<length: u32><id: u8><payload>`.

/// The block size every client requests (BEP 3 practice; larger requests are refused by
/// most clients).
pub const BLOCK_LEN: u32 = 16 * 1024;

/// One message of the peer wire protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Zero-length message that keeps an idle connection open.
    KeepAlive,
    /// The sender will not answer requests.
    Choke,
    /// The sender will answer requests.
    Unchoke,
    /// The sender wants pieces the receiver has.
    Interested,
    /// The sender wants nothing from the receiver.
    NotInterested,
    /// The sender now has this piece.
    Have(u32),
    /// The pieces the sender has, high bit first; sent only first.
    Bitfield(Vec<u8>),
    /// Ask for a block.
    Request {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Bytes wanted.
        length: u32,
    },
    /// A block's data.
    Piece {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Withdraw a request.
    Cancel {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Bytes wanted.
        length: u32,
    },
    /// The sender's DHT port (BEP 5).
    Port(u16),
    /// BEP 6: the sender suggests this piece.
    SuggestPiece(u32),
    /// BEP 6: the sender has every piece.
    HaveAll,
    /// BEP 6: the sender has no piece.
    HaveNone,
    /// BEP 6: the sender will not answer this request.
    RejectRequest {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// Bytes wanted.
        length: u32,
    },
    /// BEP 6: the receiver may request this piece even while choked.
    AllowedFast(u32),
    /// BEP 10: an extension's message; id 0 is the extension handshake.
    Extended {
        /// The extension's id, as the receiver numbered it.
        id: u8,
        /// Bencoded dictionary, possibly followed by data.
        payload: Vec<u8>,
    },
    /// A message id this side does not know; ignored, as BEP 3 asks.
    Unknown(u8),
}

pub(super) mod id {
    pub const CHOKE: u8 = 0;
    pub const UNCHOKE: u8 = 1;
    pub const INTERESTED: u8 = 2;
    pub const NOT_INTERESTED: u8 = 3;
    pub const HAVE: u8 = 4;
    pub const BITFIELD: u8 = 5;
    pub const REQUEST: u8 = 6;
    pub const PIECE: u8 = 7;
    pub const CANCEL: u8 = 8;
    pub const PORT: u8 = 9;
    pub const SUGGEST: u8 = 0x0D;
    pub const HAVE_ALL: u8 = 0x0E;
    pub const HAVE_NONE: u8 = 0x0F;
    pub const REJECT: u8 = 0x10;
    pub const ALLOWED_FAST: u8 = 0x11;
    pub const EXTENDED: u8 = 20;
}

impl Message {
    /// Appends the message, with its length prefix, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let triple = |out: &mut Vec<u8>, id: u8, a: u32, b: u32, c: u32| {
            out.extend_from_slice(&13u32.to_be_bytes());
            out.push(id);
            for x in [a, b, c] {
                out.extend_from_slice(&x.to_be_bytes());
            }
        };
        let bare = |out: &mut Vec<u8>, id: u8| {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.push(id);
        };
        let index = |out: &mut Vec<u8>, id: u8, i: u32| {
            out.extend_from_slice(&5u32.to_be_bytes());
            out.push(id);
            out.extend_from_slice(&i.to_be_bytes());
        };
        match self {
            Message::KeepAlive => out.extend_from_slice(&0u32.to_be_bytes()),
            Message::Choke => bare(out, id::CHOKE),
            Message::Unchoke => bare(out, id::UNCHOKE),
            Message::Interested => bare(out, id::INTERESTED),
            Message::NotInterested => bare(out, id::NOT_INTERESTED),
            Message::HaveAll => bare(out, id::HAVE_ALL),
            Message::HaveNone => bare(out, id::HAVE_NONE),
            Message::Unknown(i) => bare(out, *i),
            Message::Have(i) => index(out, id::HAVE, *i),
            Message::SuggestPiece(i) => index(out, id::SUGGEST, *i),
            Message::AllowedFast(i) => index(out, id::ALLOWED_FAST, *i),
            Message::Bitfield(bits) => {
                out.extend_from_slice(&(1 + bits.len() as u32).to_be_bytes());
                out.push(id::BITFIELD);
                out.extend_from_slice(bits);
            }
            Message::Request {
                index,
                begin,
                length,
            } => triple(out, id::REQUEST, *index, *begin, *length),
            Message::Cancel {
                index,
                begin,
                length,
            } => triple(out, id::CANCEL, *index, *begin, *length),
            Message::RejectRequest {
                index,
                begin,
                length,
            } => triple(out, id::REJECT, *index, *begin, *length),
            Message::Piece { index, begin, data } => {
                out.extend_from_slice(&(9 + data.len() as u32).to_be_bytes());
                out.push(id::PIECE);
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(&begin.to_be_bytes());
                out.extend_from_slice(data);
            }
            Message::Port(p) => {
                out.extend_from_slice(&3u32.to_be_bytes());
                out.push(id::PORT);
                out.extend_from_slice(&p.to_be_bytes());
            }
            Message::Extended { id: ext, payload } => {
                out.extend_from_slice(&(2 + payload.len() as u32).to_be_bytes());
                out.push(id::EXTENDED);
                out.push(*ext);
                out.extend_from_slice(payload);
            }
        }
    }

    /// The message's bytes, with its length prefix.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
