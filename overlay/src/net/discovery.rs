//! Joining without a bootstrap address: peers found by mDNS are asked which overlay they are
//! in; a node joins through one that has joined, and when none has, the node with the
//! smallest id among those starting together creates the overlay (so nodes started at the
//! same moment form one overlay, not several).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use libp2p::{Multiaddr, PeerId};

use crate::contact::Contact;
use crate::net::envelope::{HelloReply, MAX_LAN_PEERS};
use crate::net::peer_addr::{MAX_PEER_ADDRS, PeerAddr, is_genuine};

/// What a node that is not in an overlay yet should do now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Join through this node.
    Join(Contact<PeerAddr>),
    /// Start a new overlay.
    Create,
    /// Keep listening.
    Wait,
}

/// The peers found on the LAN and what they answered.
#[derive(Default)]
pub(crate) struct Discovery {
    /// Until when to listen before a node may create an overlay; `None` when not
    /// discovering (a bootstrap was given, or the node has started).
    pub(crate) deadline: Option<Instant>,
    lan: BTreeMap<PeerId, Vec<Multiaddr>>,
    replies: BTreeMap<PeerId, HelloReply>,
    /// Peers found whose last hello failed (gone, or not a p2p node).
    silent: BTreeSet<PeerId>,
}

impl Discovery {
    /// Records a peer found by mDNS; returns whether it is new.
    pub(crate) fn found(&mut self, peer: PeerId, addr: Multiaddr) -> bool {
        let addrs = self.lan.entry(peer).or_default();
        let new = addrs.is_empty();
        if !addrs.contains(&addr) && addrs.len() < MAX_PEER_ADDRS {
            addrs.push(addr);
        }
        new
    }

    /// Records a peer that asked us which overlay we are in: it is on the LAN too, even
    /// if mDNS has not told us. (libp2p's mDNS stops querying once it hears one answer,
    /// so a node that starts a moment later is found by the earlier nodes only through its
    /// hello; without this they could create an overlay without waiting for it.) Returns
    /// whether the peer is new.
    /// `addrs` are where it says it listens, kept to pass on to others.
    pub(crate) fn asked_by(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) -> bool {
        let new = !self.lan.contains_key(&peer);
        let known = self.lan.entry(peer).or_default();
        for addr in addrs {
            if known.len() >= MAX_PEER_ADDRS {
                break;
            }
            if !known.contains(&addr) {
                known.push(addr);
            }
        }
        new
    }

    /// Peers found on the LAN.
    pub(crate) fn peers(&self) -> impl Iterator<Item = &PeerId> {
        self.lan.keys()
    }

    /// Records a peer's answer; an answer whose contact does not match the peer is ignored.
    /// Returns the LAN peers the answer told of that were not known yet (never `me`), with
    /// their addresses, so that they can be asked too.
    pub(crate) fn answered(
        &mut self,
        me: &PeerId,
        peer: PeerId,
        mut reply: HelloReply,
    ) -> Vec<PeerAddr> {
        if !is_genuine(&reply.contact, &peer) {
            return Vec::new();
        }
        let told = std::mem::take(&mut reply.lan);
        self.silent.remove(&peer);
        self.replies.insert(peer, reply);
        let mut new = Vec::new();
        for other in told.into_iter().take(MAX_LAN_PEERS) {
            if other.peer == *me || other.peer == peer || self.lan.contains_key(&other.peer) {
                continue;
            }
            let mut addrs = other.addrs;
            addrs.truncate(MAX_PEER_ADDRS);
            self.lan.insert(other.peer, addrs.clone());
            new.push(PeerAddr {
                peer: other.peer,
                addrs,
            });
        }
        new
    }

    /// The LAN peers to pass on to `asker` in a reply: those with an address, but not the
    /// asker itself.
    pub(crate) fn lan_for(&self, asker: &PeerId) -> Vec<PeerAddr> {
        self.lan
            .iter()
            .filter(|(p, addrs)| *p != asker && !addrs.is_empty())
            .take(MAX_LAN_PEERS)
            .map(|(p, addrs)| PeerAddr {
                peer: *p,
                addrs: addrs.clone(),
            })
            .collect()
    }

    /// Records that a peer did not answer its hello.
    pub(crate) fn unanswered(&mut self, peer: PeerId) {
        self.silent.insert(peer);
    }

    /// What to do now, for node `me` of overlay `overlay`.
    pub(crate) fn decide(&self, me: &Contact<PeerAddr>, overlay: &str, now: Instant) -> Decision {
        let same: Vec<&HelloReply> = self
            .replies
            .values()
            .filter(|r| r.overlay == overlay)
            .collect();
        if let Some(r) = same.iter().find(|r| r.joined) {
            return Decision::Join(r.contact.clone());
        }
        // A peer that has neither answered nor failed may be the one that will create
        // the overlay: wait for it.
        let all_heard = self
            .lan
            .keys()
            .all(|p| self.replies.contains_key(p) || self.silent.contains(p));
        match self.deadline {
            Some(d) if now < d => Decision::Wait,
            _ if all_heard && same.iter().all(|r| r.contact.id > me.id) => Decision::Create,
            _ => Decision::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::net::peer_addr::node_id_of;

    fn contact(peer: PeerId) -> Contact<PeerAddr> {
        Contact::new(
            node_id_of(&peer),
            PeerAddr {
                peer,
                addrs: vec![],
            },
        )
    }

    fn reply(peer: PeerId, overlay: &str, joined: bool) -> HelloReply {
        HelloReply {
            contact: contact(peer),
            overlay: overlay.into(),
            joined,
            lan: vec![],
        }
    }

    /// A peer id that is none of the test's peers, for the node deciding.
    fn outsider() -> PeerId {
        PeerId::random()
    }

    /// Three random peers, in the order of their node ids.
    fn three_peers_by_id() -> (PeerId, PeerId, PeerId) {
        let mut peers: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        peers.sort_by_key(node_id_of);
        (peers[0], peers[1], peers[2])
    }

    #[test]
    fn the_smallest_id_creates_and_the_others_join_through_a_joined_peer() {
        let now = Instant::now();
        let (small, mid, large) = three_peers_by_id();
        let mut d = Discovery {
            deadline: Some(now + Duration::from_secs(3)),
            ..Discovery::default()
        };
        d.answered(&outsider(), small, reply(small, "chord", false));
        d.answered(&outsider(), large, reply(large, "chord", false));
        assert_eq!(d.decide(&contact(mid), "chord", now), Decision::Wait);
        let later = now + Duration::from_secs(4);
        assert_eq!(d.decide(&contact(mid), "chord", later), Decision::Wait);
        let mut d_small = Discovery::default();
        d_small.found(mid, Multiaddr::empty());
        d_small.found(large, Multiaddr::empty());
        d_small.answered(&outsider(), mid, reply(mid, "chord", false));
        assert_eq!(
            d_small.decide(&contact(small), "chord", later),
            Decision::Wait
        );
        d_small.unanswered(large);
        assert_eq!(
            d_small.decide(&contact(small), "chord", later),
            Decision::Create
        );
        d.answered(&outsider(), small, reply(small, "chord", true));
        assert_eq!(
            d.decide(&contact(mid), "chord", now),
            Decision::Join(contact(small))
        );
    }

    #[test]
    fn a_peer_known_only_by_its_hello_is_waited_for() {
        // mDNS showed `mid` only `large`; `small` started a moment later, found `mid` and
        // asked it. `mid` must not create before it has heard `small`.
        let now = Instant::now();
        let (small, mid, large) = three_peers_by_id();
        let mut d = Discovery::default();
        d.found(large, Multiaddr::empty());
        d.answered(&outsider(), large, reply(large, "chord", false));
        assert_eq!(d.decide(&contact(mid), "chord", now), Decision::Create);
        assert!(d.asked_by(small, vec![]));
        assert!(!d.asked_by(small, vec![]));
        assert_eq!(d.decide(&contact(mid), "chord", now), Decision::Wait);
        d.answered(&outsider(), small, reply(small, "chord", false));
        assert_eq!(d.decide(&contact(mid), "chord", now), Decision::Wait);
        d.answered(&outsider(), small, reply(small, "chord", true));
        assert_eq!(
            d.decide(&contact(mid), "chord", now),
            Decision::Join(contact(small))
        );
    }

    #[test]
    fn peers_told_of_in_an_answer_are_waited_for() {
        // As on a LAN where mDNS showed `mid` and `small` only `large`: `large` heard of
        // both, and its answer tells `mid` of `small`, which `mid` must then wait for.
        let now = Instant::now();
        let (small, mid, large) = three_peers_by_id();
        let addr: Multiaddr = "/ip4/10.0.0.1/tcp/4001".parse().unwrap();
        let mut d = Discovery::default();
        d.found(large, addr.clone());
        let mut answer = reply(large, "chord", false);
        answer.lan = vec![
            PeerAddr {
                peer: small,
                addrs: vec![addr.clone()],
            },
            PeerAddr {
                peer: mid,
                addrs: vec![addr.clone()],
            },
        ];
        let told = d.answered(&mid, large, answer.clone());
        assert_eq!(told.len(), 1, "only `small` is new to `mid`");
        assert_eq!(told[0].peer, small);
        assert_eq!(d.decide(&contact(mid), "chord", now), Decision::Wait);
        assert!(d.answered(&mid, large, answer).is_empty());
        assert_eq!(d.lan_for(&large).len(), 1, "`large` is not told of itself");
        let asker = PeerId::random();
        assert!(d.asked_by(asker, vec![addr.clone()]));
        assert_eq!(
            d.lan_for(&large).len(),
            2,
            "a peer that asked is passed on with the address it gave"
        );
        assert!(d.asked_by(PeerId::random(), vec![]));
        assert_eq!(d.lan_for(&large).len(), 2, "one without an address is not");
        d.answered(&mid, small, reply(small, "chord", true));
        assert_eq!(
            d.decide(&contact(mid), "chord", now),
            Decision::Join(contact(small))
        );
    }

    #[test]
    fn peers_of_another_overlay_and_forged_answers_are_ignored() {
        let now = Instant::now();
        let me = PeerId::random();
        let other = PeerId::random();
        let mut d = Discovery::default();
        d.answered(&outsider(), other, reply(other, "pastry", true));
        d.answered(&outsider(), other, reply(PeerId::random(), "chord", true));
        assert_eq!(d.decide(&contact(me), "chord", now), Decision::Create);
    }
}
