//! The libp2p behaviour of one node: the overlay's request-response protocol, the discovery
//! handshake, identify and mDNS.

use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{identify, identity::Keypair, mdns};

use crate::net::codec::FrameCodec;
use crate::net::config::NetConfig;
use crate::net::envelope::{HELLO_PROTOCOL, Hello, HelloReply, protocol_name};
use crate::net::error::NetError;

/// The overlay protocol's request-response behaviour: CBOR [`crate::net::Envelope`]s,
/// framed by [`FrameCodec`] and decoded by the driver.
pub(crate) type OverlayProtocol = request_response::Behaviour<FrameCodec>;

/// Everything one node speaks. Later applications plug in beside `overlay`.
#[derive(NetworkBehaviour)]
pub(crate) struct NodeBehaviour {
    pub(crate) overlay: OverlayProtocol,
    pub(crate) hello: request_response::cbor::Behaviour<Hello, HelloReply>,
    pub(crate) identify: identify::Behaviour,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
}

impl NodeBehaviour {
    pub(crate) fn new<C>(key: &Keypair, name: &str, cfg: &NetConfig<C>) -> Result<Self, NetError> {
        let max = cfg.node.limits.max_message_bytes as u64;
        // Our own timeouts decide when a peer has failed; the transport's only reclaims
        // streams a peer never answers.
        let rr =
            request_response::Config::default().with_request_timeout(cfg.node.request_timeout * 4);
        let codec = FrameCodec { max };
        let overlay = request_response::Behaviour::with_codec(
            codec,
            [(protocol_name(name), ProtocolSupport::Full)],
            rr.clone(),
        );
        let hello =
            request_response::cbor::Behaviour::new([(HELLO_PROTOCOL, ProtocolSupport::Full)], rr);
        let identify =
            identify::Behaviour::new(identify::Config::new("/p2p/id/1".into(), key.public()));
        let mdns = if cfg.mdns {
            let m = mdns::tokio::Behaviour::new(mdns::Config::default(), key.public().to_peer_id())
                .map_err(|e| NetError::Setup(format!("mDNS: {e}")))?;
            Some(m)
        } else {
            None
        };
        Ok(NodeBehaviour {
            overlay,
            hello,
            identify,
            mdns: mdns.into(),
        })
    }
}
