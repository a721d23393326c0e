//! How one libp2p node reaches another: its peer id and the addresses it listens on.

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::contact::Contact;
use crate::id::{Key, NodeId};
use crate::net::error::NetError;

/// Most addresses one contact carries (bounds what a peer can make others store).
pub const MAX_PEER_ADDRS: usize = 4;

/// The address of a node on the real network: its libp2p peer id and the addresses it
/// announced itself. A node fixes its own addresses once it listens, so every copy of its
/// contact in other nodes' tables is the same value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct PeerAddr {
    /// The peer id (the hash of its public key).
    pub peer: PeerId,
    /// Where it listens.
    pub addrs: Vec<Multiaddr>,
}

/// The overlay id of a peer: SHA-1 of its peer id, which is derived from its public key, so
/// no node can choose where it sits.
pub fn node_id_of(peer: &PeerId) -> NodeId {
    let digest = Sha1::digest(peer.to_bytes());
    Key::from_slice(&digest).expect("SHA-1 digests are 20 bytes")
}

/// Whether `contact` is what `peer` must be: its id derived from the peer id and at most
/// [`MAX_PEER_ADDRS`] addresses.
pub fn is_genuine(contact: &Contact<PeerAddr>, peer: &PeerId) -> bool {
    contact.addr.peer == *peer
        && contact.id == node_id_of(peer)
        && contact.addr.addrs.len() <= MAX_PEER_ADDRS
}

/// The contact a multiaddress names: it must end in `/p2p/<peer id>`, from which the node
/// id follows.
pub fn contact_from_multiaddr(addr: &Multiaddr) -> Result<Contact<PeerAddr>, NetError> {
    let Some(Protocol::P2p(peer)) = addr.iter().last() else {
        return Err(NetError::NoPeerId(addr.clone()));
    };
    let dial: Multiaddr = addr
        .iter()
        .filter(|p| !matches!(p, Protocol::P2p(_)))
        .collect();
    Ok(Contact::new(
        node_id_of(&peer),
        PeerAddr {
            peer,
            addrs: vec![dial],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bootstrap_address_needs_its_peer_id() {
        let peer = PeerId::random();
        let with: Multiaddr = format!("/ip4/10.0.0.1/tcp/4001/p2p/{peer}")
            .parse()
            .unwrap();
        let c = contact_from_multiaddr(&with).unwrap();
        assert_eq!(c.id, node_id_of(&peer));
        assert_eq!(
            c.addr.addrs,
            vec!["/ip4/10.0.0.1/tcp/4001".parse().unwrap()]
        );
        let without: Multiaddr = "/ip4/10.0.0.1/tcp/4001".parse().unwrap();
        assert!(matches!(
            contact_from_multiaddr(&without),
            Err(NetError::NoPeerId(_))
        ));
    }

    #[test]
    fn a_contact_with_a_chosen_id_is_not_genuine() {
        let peer = PeerId::random();
        let mut c = Contact::new(
            node_id_of(&peer),
            PeerAddr {
                peer,
                addrs: vec![],
            },
        );
        assert!(is_genuine(&c, &peer));
        assert!(!is_genuine(&c, &PeerId::random()));
        c.id = Key([7; 20]);
        assert!(!is_genuine(&c, &peer));
    }
}
