//! Errors of the overlay layer.

use serde::{Deserialize, Serialize};

/// A message broke a bound or an invariant; it is dropped before it touches any state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    /// A list is longer than allowed.
    #[error("{what} has {len} entries, at most {max} are allowed")]
    TooLong {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A byte string is larger than allowed.
    #[error("{what} is {len} bytes, at most {max} are allowed")]
    TooLarge {
        /// Which field.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds an impossible value.
    #[error("{0}")]
    Bad(String),
}

/// A message could not be turned into a well-formed, valid message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Larger than the frame limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    Oversized {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not CBOR of the expected shape (garbage, truncated, wrong fields).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// Well-formed but out of bounds.
    #[error("invalid message: {0}")]
    Invalid(#[from] InvalidMessage),
}

/// A valid message that does not fit the protocol state (an answer nobody asked for, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The message was not expected now.
    #[error("unexpected message: {0}")]
    Unexpected(String),
    /// A request this node can answer only once it has joined; while joining it answers
    /// [`crate::Response::Unavailable`], so the requester neither waits for a timeout nor
    /// takes the node for failed.
    #[error("request before the join finished")]
    NotJoined,
    /// A response to no request in flight: mostly one that came after its request timed
    /// out (the request was already counted as failed), which a loaded network produces.
    #[error("response {0} matches no request in flight (late after its timeout?)")]
    Late(u64),
    /// The message failed validation.
    #[error(transparent)]
    Invalid(#[from] InvalidMessage),
}

/// Why an iterative lookup gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LookupError {
    /// Every candidate failed or none was known.
    #[error("no route to the key: every candidate failed")]
    NoRoute,
    /// The hop limit was reached (a routing loop or badly broken tables).
    #[error("hop limit reached")]
    TooManyHops,
    /// The node has not joined an overlay.
    #[error("the node has not joined an overlay")]
    NotJoined,
}

/// Why a DHT operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DhtError {
    /// The key's root could not be found.
    #[error("lookup failed: {0}")]
    Lookup(#[from] LookupError),
    /// No replica answered.
    #[error("no replica of the key answered")]
    Unreachable,
    /// The value is larger than the limit.
    #[error("value of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
}
