//! The messages nodes exchange: one envelope for the routing algorithm's own messages, the
//! generic lookup, `route`, and the DHT; with bounds checks and the CBOR codec.

use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::error::{DecodeError, InvalidMessage};
use crate::id::Key;
use crate::id::NodeId;
use crate::limits::Limits;
use crate::routing::{Message, ReqId, Routing, Step};
use crate::store::{Record, Version};

/// A request from one node to another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request<M> {
    /// The routing algorithm's own message.
    Routing(M),
    /// One step of an iterative lookup: "what is your next hop for `key`?"
    FindNext {
        /// The key being looked up.
        key: Key,
        /// Nodes that did not answer this lookup: the receiver routes as if they had
        /// failed.
        #[serde(default)]
        avoid: Vec<NodeId>,
    },
    /// A message routed recursively towards `key`'s root (the common API's `route`).
    Route {
        /// Destination key.
        key: Key,
        /// Application payload.
        payload: Vec<u8>,
        /// Hops taken so far.
        hops: u32,
    },
    /// Store these records; a root given `replicate` copies them to its replica set.
    Store {
        /// The records.
        records: Vec<Record>,
        /// Whether the receiver should replicate them.
        replicate: bool,
    },
    /// Return the record for `key`.
    Fetch {
        /// The key.
        key: Key,
    },
    /// Anti-entropy: "I hold these versions; which do you want?"
    Offer {
        /// Keys with the version the sender holds.
        entries: Vec<(Key, Version)>,
    },
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response<A, M> {
    /// The routing algorithm's own message.
    Routing(M),
    /// The answer to `FindNext`.
    Next(Step<A>),
    /// Done (route forwarded or delivered, records stored).
    Ack,
    /// The answer to `Fetch`.
    Fetched(Option<Record>),
    /// The answer to `Offer`: the keys the receiver lacks or holds older.
    Want {
        /// Keys to send.
        keys: Vec<Key>,
    },
    /// The receiver cannot serve requests (it has not joined or is leaving).
    Unavailable,
}

/// Everything that travels between two nodes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Wire<A, M> {
    /// A request; the receiver answers with the same id.
    Request {
        /// Correlates the response.
        id: ReqId,
        /// The request.
        body: Request<M>,
    },
    /// A response to request `id`.
    Response {
        /// The request's id.
        id: ReqId,
        /// The response.
        body: Response<A, M>,
    },
}

/// The [`Wire`] type of routing algorithm `R`.
pub type WireOf<R> = Wire<<R as Routing>::Addr, <R as Routing>::Msg>;

fn check_records(limits: &Limits, records: &[Record]) -> Result<(), InvalidMessage> {
    limits.list("records", records.len())?;
    let mut total = 0usize;
    for r in records {
        let len = r.value.as_ref().map_or(0, Vec::len);
        limits.value("value", len)?;
        total += len;
    }
    if total > limits.max_message_bytes {
        return Err(InvalidMessage::TooLarge {
            what: "records",
            len: total,
            max: limits.max_message_bytes,
        });
    }
    Ok(())
}

fn check_contacts<A>(
    limits: &Limits,
    what: &'static str,
    c: &[Contact<A>],
) -> Result<(), InvalidMessage> {
    limits.list(what, c.len())
}

impl<A, M: Message> Wire<A, M> {
    /// Checks every bound before the message touches any state.
    pub fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            Wire::Request { body, .. } => match body {
                Request::Routing(m) => m.validate(limits),
                Request::FindNext { avoid, .. } => limits.list("avoid", avoid.len()),
                Request::Fetch { .. } => Ok(()),
                Request::Route { payload, .. } => limits.value("payload", payload.len()),
                Request::Store { records, .. } => check_records(limits, records),
                Request::Offer { entries } => limits.list("offer", entries.len()),
            },
            Wire::Response { body, .. } => match body {
                Response::Routing(m) => m.validate(limits),
                Response::Next(step) => check_contacts(limits, "step", step.contacts()),
                Response::Ack | Response::Unavailable => Ok(()),
                Response::Fetched(r) => check_records(limits, r.as_slice()),
                Response::Want { keys } => limits.list("want", keys.len()),
            },
        }
    }
}

/// Encodes any message as CBOR.
pub fn encode_cbor<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    cbor4ii::serde::to_writer(&mut buf, msg).expect("writing CBOR to a Vec cannot fail");
    buf
}

/// Decodes CBOR of at most `limits.max_message_bytes`; never panics on any input. The
/// caller validates the message's contents.
pub fn decode_cbor<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    limits: &Limits,
) -> Result<T, DecodeError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(DecodeError::Oversized {
            len: bytes.len(),
            max: limits.max_message_bytes,
        });
    }
    cbor4ii::serde::from_slice(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))
}

impl<A: Serialize + serde::de::DeserializeOwned, M: Message> Wire<A, M> {
    /// Encodes as CBOR.
    pub fn encode(&self) -> Vec<u8> {
        encode_cbor(self)
    }

    /// Decodes CBOR and validates it; never panics on any input.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        let msg: Self = decode_cbor(bytes, limits)?;
        msg.validate(limits)?;
        Ok(msg)
    }
}
