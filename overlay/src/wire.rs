//! The messages nodes exchange: one envelope for the routing algorithm's own messages, the
//! generic lookup, `route`, and the applications' messages; with bounds checks and the
//! CBOR codec.

use serde::{Deserialize, Serialize};

use crate::apps::AppSet;
use crate::contact::Contact;
use crate::error::{DecodeError, InvalidMessage};
use crate::id::Key;
use crate::id::NodeId;
use crate::limits::Limits;
use crate::routing::{Message, ReqId, Routing, Step};

/// A request from one node to another: the routing algorithm's (`M`), the node's own
/// (lookups and `route`), or an application's (`P`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request<A, M, P> {
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
    /// A recursive lookup passed on hop by hop; the receiver acknowledges it at once, then
    /// passes it on or, if it finds the root, answers `origin` with
    /// [`Request::RootFound`] (or, asked by the origin itself with `answer_in_ack`, with
    /// [`Response::RootFound`] in place of the acknowledgement).
    FindRoot {
        /// The key being looked up.
        key: Key,
        /// The node that started the lookup and gets the answer.
        origin: Contact<A>,
        /// The origin's tag for the lookup.
        lookup: u64,
        /// The nodes it has passed through, the receiver not yet included.
        path: Vec<NodeId>,
        /// Nodes that failed it on the way: the receiver routes as if they had failed.
        avoid: Vec<NodeId>,
        /// Set by the origin, which takes [`Response::RootFound`]: a first hop that finds
        /// the root answers in its acknowledgement, one round trip where an acknowledgement
        /// and a separate answer cost two. Nodes that predate it leave it unset.
        #[serde(default)]
        answer_in_ack: bool,
    },
    /// The answer of a recursive lookup, from the node that found the root to the origin.
    RootFound {
        /// The key looked up.
        key: Key,
        /// The origin's tag for the lookup.
        lookup: u64,
        /// The nodes the lookup passed through, the sender last.
        path: Vec<NodeId>,
        /// The root and its replica set.
        root: Vec<Contact<A>>,
    },
    /// An application's message routed hop by hop towards `key`'s root (the common API's
    /// `route`).
    Route {
        /// Destination key.
        key: Key,
        /// The node that routed it.
        origin: Contact<A>,
        /// Hops taken so far.
        hops: u32,
        /// Whether the sender found the receiver to be the key's root (as an iterative
        /// lookup takes the first `Root` answer): the receiver delivers it, where
        /// routing again from its own tables could send it round a ring still closing.
        #[serde(default)]
        root: bool,
        /// The message.
        msg: P,
        /// Next hops that failed it on the way (the latest few): the receiver routes as
        /// if they had failed, rather than waiting out each of them again. Nodes that
        /// predate it send none.
        #[serde(default)]
        avoid: Vec<NodeId>,
    },
    /// An application's request.
    App(P),
}

impl<A, M, P> Request<A, M, P> {
    /// Whether the node core answers it as soon as it arrives, before any work of the
    /// algorithm or an application: its round trip is a network round trip.
    pub(crate) fn is_answered_on_receipt(&self) -> bool {
        matches!(
            self,
            Request::FindNext { .. }
                | Request::FindRoot { .. }
                | Request::RootFound { .. }
                | Request::Route { .. }
        )
    }
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response<A, M, P> {
    /// The routing algorithm's own message.
    Routing(M),
    /// The answer to `FindNext`.
    Next(Step<A>),
    /// A routed message or recursive lookup was taken over by the next hop, or a
    /// recursive lookup's answer reached its origin.
    Ack,
    /// The answer of a recursive lookup its origin asked this node for with
    /// `answer_in_ack`, this node having found the root.
    RootFound {
        /// The nodes the lookup passed through: the sender.
        path: Vec<NodeId>,
        /// The root and its replica set.
        root: Vec<Contact<A>>,
    },
    /// An application's answer.
    App(P),
    /// The receiver cannot serve requests (it has not joined or is leaving).
    Unavailable,
}

/// Everything that travels between two nodes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Wire<A, M, P> {
    /// A request; the receiver answers with the same id.
    Request {
        /// Correlates the response.
        id: ReqId,
        /// The request.
        body: Request<A, M, P>,
    },
    /// A response to request `id`.
    Response {
        /// The request's id.
        id: ReqId,
        /// The response.
        body: Response<A, M, P>,
    },
}

/// The [`Wire`] type of a node of routing algorithm `R` hosting applications `S`.
pub type WireOf<R, S> =
    Wire<<R as Routing>::Addr, <R as Routing>::Msg, <S as AppSet<<R as Routing>::Addr>>::Msg>;

impl<A, M: Message, P: Message> Wire<A, M, P> {
    /// Checks every bound before the message touches any state.
    pub fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            Wire::Request { body, .. } => match body {
                Request::Routing(m) => m.validate(limits),
                Request::FindNext { avoid, .. } => limits.list("avoid", avoid.len()),
                Request::FindRoot { path, avoid, .. } => {
                    limits.list("path", path.len())?;
                    limits.list("avoid", avoid.len())
                }
                Request::RootFound { path, root, .. } => check_answer(limits, path, root),
                Request::Route { msg, avoid, .. } => {
                    limits.list("avoid", avoid.len())?;
                    msg.validate(limits)
                }
                Request::App(msg) => msg.validate(limits),
            },
            Wire::Response { body, .. } => match body {
                Response::Routing(m) => m.validate(limits),
                Response::Next(step) => limits.list("step", step.contacts().len()),
                Response::Ack | Response::Unavailable => Ok(()),
                Response::RootFound { path, root } => check_answer(limits, path, root),
                Response::App(m) => m.validate(limits),
            },
        }
    }

    /// The application message it carries, if any.
    pub fn app_msg(&self) -> Option<&P> {
        match self {
            Wire::Request {
                body: Request::Route { msg, .. } | Request::App(msg),
                ..
            }
            | Wire::Response {
                body: Response::App(msg),
                ..
            } => Some(msg),
            _ => None,
        }
    }
}

/// Checks the lists of a recursive lookup's answer, sent as a request or in an
/// acknowledgement.
fn check_answer<A>(
    limits: &Limits,
    path: &[NodeId],
    root: &[Contact<A>],
) -> Result<(), InvalidMessage> {
    limits.list("path", path.len())?;
    limits.list("root", root.len())
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

impl<A: Serialize + serde::de::DeserializeOwned, M: Message, P: Message> Wire<A, M, P> {
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
