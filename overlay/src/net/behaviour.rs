//! The libp2p behaviour of one `p2p node`: the overlay (which hosts the node), the
//! discovery handshake, identify and mDNS.

use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{identify, identity::Keypair, mdns};

use std::sync::Arc;

use crate::apps::AppSet;
use crate::dht::Dht;
use crate::net::config::NetConfig;
use crate::net::envelope::{HELLO_PROTOCOL, Hello, HelloReply};
use crate::net::error::NetError;
use crate::net::overlay_behaviour::OverlayBehaviour;
use crate::net::peer_addr::PeerAddr;
use crate::routing::Routing;

/// The applications of a `p2p node`: the DHT, then the extra applications `X`.
pub type NodeApps<X> = (Dht<PeerAddr>, X);

/// Everything one node speaks: the overlay hosting the DHT and the extra applications
/// `X`, discovery, identify and mDNS.
#[derive(NetworkBehaviour)]
pub(crate) struct NodeBehaviour<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>> {
    pub(crate) overlay: OverlayBehaviour<R, NodeApps<X>>,
    pub(crate) hello: request_response::cbor::Behaviour<Hello, HelloReply>,
    pub(crate) identify: identify::Behaviour,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
}

impl<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>> NodeBehaviour<R, X> {
    pub(crate) fn new(
        key: &Keypair,
        cfg: &NetConfig<R::Config>,
        extra: X,
    ) -> Result<Self, NetError> {
        let peer = key.public().to_peer_id();
        let apps = (Dht::new(Arc::new(cfg.dht.clone())), extra);
        let overlay =
            OverlayBehaviour::with_apps(peer, cfg.routing.clone(), cfg.node.clone(), apps);
        let rr =
            request_response::Config::default().with_request_timeout(cfg.node.request_timeout * 4);
        let hello =
            request_response::cbor::Behaviour::new([(HELLO_PROTOCOL, ProtocolSupport::Full)], rr);
        let identify =
            identify::Behaviour::new(identify::Config::new("/p2p/id/1".into(), key.public()));
        let mdns = if cfg.mdns {
            let m = mdns::tokio::Behaviour::new(mdns::Config::default(), peer)
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
