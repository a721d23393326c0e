//! What travels over libp2p: the node's [`Wire`] messages with the sender's contact, and the
//! discovery handshake.

use libp2p::{Multiaddr, StreamProtocol};
use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::error::DecodeError;
use crate::limits::Limits;
use crate::net::peer_addr::{MAX_PEER_ADDRS, PeerAddr};
use crate::routing::Message;
use crate::wire::{Wire, decode_cbor, encode_cbor};

/// Version of the overlay protocols; bumped when the wire format changes incompatibly, so
/// old and new nodes refuse each other at protocol negotiation instead of misreading.
///
/// Version 2 frames every message with its length on one long-lived stream per
/// connection; version 1 sent each request and its answer on a stream of their own.
pub const PROTOCOL_VERSION: u32 = 2;

/// The protocol name of routing algorithm `name`: `/p2p/<name>/<version>`.
pub fn protocol_name(name: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/p2p/{name}/{PROTOCOL_VERSION}"))
        .expect("algorithm names are plain lowercase words")
}

/// The discovery handshake's protocol name.
pub const HELLO_PROTOCOL: StreamProtocol = StreamProtocol::new("/p2p/hello/1");

/// One node message on the network: the sender names itself (its contact is checked
/// against the connection's authenticated peer id before anything else), and a message of
/// an application names that application's protocol (`dht/1`), which the receiver checks
/// against the application it would hand the message to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope<M, P> {
    /// The sender.
    pub from: Contact<PeerAddr>,
    /// The protocol of the application whose message this is, if it is one.
    #[serde(default)]
    pub app: Option<String>,
    /// The message.
    pub wire: Wire<PeerAddr, M, P>,
}

impl<M: Message, P: Message> Envelope<M, P> {
    /// Encodes as CBOR.
    pub fn encode(&self) -> Vec<u8> {
        encode_cbor(self)
    }

    /// Decodes CBOR and checks every bound; never panics on any input.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        let env: Self = decode_cbor(bytes, limits)?;
        env.wire.validate(limits)?;
        if env.from.addr.addrs.len() > MAX_PEER_ADDRS {
            return Err(DecodeError::Malformed(format!(
                "the sender names {} addresses, at most {MAX_PEER_ADDRS} are allowed",
                env.from.addr.addrs.len()
            )));
        }
        Ok(env)
    }
}

/// "Which overlay are you in?" — sent to peers found by mDNS before joining through them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
    /// The asking node's routing algorithm.
    pub overlay: String,
    /// Where the asking node listens (at most [`MAX_PEER_ADDRS`] are kept), so that the
    /// answerer can tell other nodes on the LAN of it. Absent from older nodes' hellos.
    #[serde(default)]
    pub addrs: Vec<Multiaddr>,
}

/// The answer to [`Hello`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HelloReply {
    /// The answering node.
    pub contact: Contact<PeerAddr>,
    /// Its routing algorithm.
    pub overlay: String,
    /// Whether it has joined (can take joins).
    pub joined: bool,
    /// Other peers the answerer found on the LAN while it was looking for an overlay (at
    /// most [`MAX_LAN_PEERS`]). mDNS may show each of several nodes started together only
    /// some of the others; passing them on lets every one of them hear of all the others
    /// before deciding who creates the overlay. Absent from older nodes' replies.
    #[serde(default)]
    pub lan: Vec<PeerAddr>,
}

/// Most LAN peers one [`HelloReply`] passes on.
pub const MAX_LAN_PEERS: usize = 32;
