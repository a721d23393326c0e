//! A cap on the connections one node keeps open. Many nodes in one process (`p2p demo`)
//! share its file descriptors, and a node whose routing state names more peers than its
//! share would otherwise hold a connection to each of them until it idles out: past the
//! cap, the connections used least recently are closed (the next exchange with that peer
//! dials again), as connection pools in HTTP clients and database drivers do.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::swarm::ConnectionId;

/// A connection used this recently is never closed for the budget: a response or a
/// request may still be on its way over it, and closing it would cost the exchange.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// The open connections of one node, with when each peer was last talked to.
#[derive(Debug)]
pub(crate) struct ConnectionBudget {
    /// Most connections kept open; `None` leaves them to the idle timeout alone.
    max: Option<usize>,
    peers: HashMap<PeerId, Peer>,
    /// Connections open and not yet asked to close.
    open: usize,
}

#[derive(Debug)]
struct Peer {
    connections: Vec<ConnectionId>,
    last_used: Instant,
}

impl ConnectionBudget {
    /// A budget of at most `max` open connections (`None`: no cap).
    pub(crate) fn new(max: Option<usize>) -> Self {
        ConnectionBudget {
            max,
            peers: HashMap::new(),
            open: 0,
        }
    }

    /// Changes the cap; connections over a lower one are closed by the next
    /// [`ConnectionBudget::excess`].
    pub(crate) fn set_max(&mut self, max: Option<usize>) {
        self.max = max;
    }

    /// Connections open and not yet asked to close.
    pub(crate) fn open(&self) -> usize {
        self.open
    }

    /// Connection `connection` to `peer` is established: it counts as a use.
    pub(crate) fn established(&mut self, peer: PeerId, connection: ConnectionId, now: Instant) {
        let p = self.peers.entry(peer).or_insert(Peer {
            connections: Vec::new(),
            last_used: now,
        });
        p.connections.push(connection);
        p.last_used = p.last_used.max(now);
        self.open += 1;
    }

    /// Connection `connection` to `peer` closed (for the budget or not).
    pub(crate) fn closed(&mut self, peer: PeerId, connection: ConnectionId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let before = p.connections.len();
        p.connections.retain(|c| *c != connection);
        self.open -= before - p.connections.len();
        if p.connections.is_empty() {
            self.peers.remove(&peer);
        }
    }

    /// A message went to or came from `peer`.
    pub(crate) fn used(&mut self, peer: &PeerId, now: Instant) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.last_used = p.last_used.max(now);
        }
    }

    /// The connections to close so that no more than the cap stay open: those of the
    /// peers talked to least recently, skipping any `busy` peer (an exchange with it is
    /// under way) and any used within [`GRACE`]. They stop counting at once, so a call
    /// before their closes are seen does not pick them again. Empty while under the cap.
    pub(crate) fn excess(
        &mut self,
        now: Instant,
        busy: &HashSet<PeerId>,
    ) -> Vec<(PeerId, ConnectionId)> {
        let Some(max) = self.max else {
            return Vec::new();
        };
        if self.open <= max {
            return Vec::new();
        }
        let mut idle: Vec<(Instant, PeerId)> = self
            .peers
            .iter()
            .filter(|(peer, p)| {
                !busy.contains(*peer) && now.saturating_duration_since(p.last_used) >= GRACE
            })
            .map(|(peer, p)| (p.last_used, *peer))
            .collect();
        idle.sort_unstable();
        let mut close = Vec::new();
        for (_, peer) in idle {
            if self.open <= max {
                break;
            }
            let Some(p) = self.peers.remove(&peer) else {
                continue;
            };
            self.open -= p.connections.len();
            close.extend(p.connections.into_iter().map(|c| (peer, c)));
        }
        close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(n: usize) -> ConnectionId {
        ConnectionId::new_unchecked(n)
    }

    #[test]
    fn no_cap_closes_nothing() {
        let t = Instant::now();
        let mut b = ConnectionBudget::new(None);
        for i in 0..10 {
            b.established(PeerId::random(), conn(i), t);
        }
        assert!(b.excess(t + GRACE * 10, &HashSet::new()).is_empty());
        assert_eq!(b.open(), 10);
    }

    #[test]
    fn closes_the_least_recently_used_down_to_the_cap() {
        let t = Instant::now();
        let mut b = ConnectionBudget::new(Some(2));
        let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
        for (i, p) in peers.iter().enumerate() {
            b.established(*p, conn(i), t);
        }
        // Used in the order 2, 0, 3, 1: the two used first go.
        for (k, i) in [2, 0, 3, 1].into_iter().enumerate() {
            b.used(&peers[i], t + Duration::from_secs(k as u64 + 1));
        }
        let close = b.excess(t + Duration::from_secs(60), &HashSet::new());
        assert_eq!(close, vec![(peers[2], conn(2)), (peers[0], conn(0))]);
        assert_eq!(b.open(), 2);
        // Already counted as closed: a second call before the closes arrive picks none.
        assert!(
            b.excess(t + Duration::from_secs(61), &HashSet::new())
                .is_empty()
        );
        // Their close events change nothing more.
        b.closed(peers[2], conn(2));
        b.closed(peers[0], conn(0));
        assert_eq!(b.open(), 2);
    }

    #[test]
    fn spares_busy_and_recently_used_peers() {
        let t = Instant::now();
        let mut b = ConnectionBudget::new(Some(1));
        let (busy, fresh, old) = (PeerId::random(), PeerId::random(), PeerId::random());
        b.established(busy, conn(0), t);
        b.established(old, conn(1), t);
        b.established(fresh, conn(2), t);
        let now = t + Duration::from_secs(10);
        b.used(&fresh, now);
        let close = b.excess(now, &HashSet::from([busy]));
        // Over the cap still, but the busy peer and the one just used are kept.
        assert_eq!(close, vec![(old, conn(1))]);
        assert_eq!(b.open(), 2);
        assert_eq!(
            b.excess(now + GRACE, &HashSet::new()).len(),
            1,
            "once neither is busy or recent, the older goes"
        );
    }

    #[test]
    fn a_peer_with_two_connections_loses_both() {
        let t = Instant::now();
        let mut b = ConnectionBudget::new(Some(1));
        let (twice, once) = (PeerId::random(), PeerId::random());
        b.established(twice, conn(0), t);
        b.established(twice, conn(1), t);
        b.established(once, conn(2), t + GRACE);
        let close = b.excess(t + GRACE * 5, &HashSet::new());
        assert_eq!(close, vec![(twice, conn(0)), (twice, conn(1))]);
        assert_eq!(b.open(), 1);
    }

    #[test]
    fn closes_elsewhere_are_counted() {
        let t = Instant::now();
        let mut b = ConnectionBudget::new(Some(1));
        let (a, c) = (PeerId::random(), PeerId::random());
        b.established(a, conn(0), t);
        b.established(c, conn(1), t);
        b.closed(a, conn(0));
        assert_eq!(b.open(), 1);
        assert!(b.excess(t + GRACE * 5, &HashSet::new()).is_empty());
    }
}
