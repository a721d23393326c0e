//! The shortest round trip a node has seen to each of the peers it talks to most, from
//! which the requests that are answered on receipt (a routed message's hop, a lookup's
//! step) take their timeout: a crashed next hop then costs a few round trips, as with
//! MSPastry's per-hop acknowledgements, rather than the full request timeout.
//!
//! The shortest round trip, not a smoothed mean: every answer gives a sample, including
//! answers an application or algorithm sends only after work of its own, and those can
//! only lengthen a round trip, never shorten it.

use std::time::Duration;

use crate::id::NodeId;
use crate::time::Time;

/// Peers remembered per node: a node's hot neighbours, at 12 bytes each.
const CAPACITY: usize = 128;

/// The prompt-answer timeout is this many shortest round trips.
const ROUND_TRIPS_PER_TIMEOUT: u32 = 3;

/// A node's shortest round trip per peer, for at most [`CAPACITY`] peers; the one sampled
/// longest ago makes way for a new one.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoundTrips {
    /// (first 4 bytes of the peer's id, shortest round trip in µs, last sample in ms). Two
    /// peers that share the 4 bytes share a timeout, which is all a mix-up can cost.
    peers: Vec<(u32, u32, u32)>,
}

fn short(id: &NodeId) -> u32 {
    let b = id.as_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl RoundTrips {
    /// A request to `peer` sent at `sent` was answered at `now`.
    pub(crate) fn sample(&mut self, peer: &NodeId, sent: Time, now: Time) {
        let rtt = u32::try_from(now.0.saturating_sub(sent.0)).unwrap_or(u32::MAX);
        let at = (now.0 / 1000) as u32;
        let id = short(peer);
        if let Some(e) = self.peers.iter_mut().find(|e| e.0 == id) {
            e.1 = e.1.min(rtt);
            e.2 = at;
            return;
        }
        if self.peers.len() < CAPACITY {
            self.peers.push((id, rtt, at));
        } else if let Some(oldest) = self.peers.iter_mut().min_by_key(|e| e.2) {
            *oldest = (id, rtt, at);
        }
    }

    /// The shortest round trip seen to `peer` in microseconds, if it is remembered.
    pub(crate) fn shortest_us(&self, peer: &NodeId) -> Option<u32> {
        let id = short(peer);
        self.peers.iter().find(|e| e.0 == id).map(|e| e.1)
    }

    /// The shortest round trip seen to `peer`, if it is remembered.
    pub(crate) fn shortest(&self, peer: &NodeId) -> Option<Duration> {
        self.shortest_us(peer)
            .map(|us| Duration::from_micros(u64::from(us)))
    }

    /// How long a request `peer` answers on receipt may wait: a few of its shortest round
    /// trips, within `[floor, ceiling]`; `ceiling` for a peer never measured.
    pub(crate) fn timeout(&self, peer: &NodeId, floor: Duration, ceiling: Duration) -> Duration {
        match self.shortest(peer) {
            Some(rtt) => (rtt * ROUND_TRIPS_PER_TIMEOUT).clamp(floor.min(ceiling), ceiling),
            None => ceiling,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Key;

    fn id(n: u8) -> NodeId {
        Key([n; 20])
    }

    const FLOOR: Duration = Duration::from_millis(100);
    const CEILING: Duration = Duration::from_secs(1);

    #[test]
    fn a_peer_never_measured_gets_the_full_timeout() {
        let rt = RoundTrips::default();
        assert_eq!(rt.timeout(&id(1), FLOOR, CEILING), CEILING);
    }

    #[test]
    fn the_shortest_round_trip_sets_the_timeout_within_the_bounds() {
        let mut rt = RoundTrips::default();
        let t = |ms: u64| Time(ms * 1000);
        rt.sample(&id(1), t(0), t(80));
        rt.sample(&id(1), t(100), t(500)); // answered after work of its own
        assert_eq!(
            rt.timeout(&id(1), FLOOR, CEILING),
            Duration::from_millis(240)
        );
        rt.sample(&id(2), t(0), t(10));
        assert_eq!(rt.timeout(&id(2), FLOOR, CEILING), FLOOR);
        rt.sample(&id(3), t(0), t(900));
        assert_eq!(rt.timeout(&id(3), FLOOR, CEILING), CEILING);
        assert_eq!(rt.shortest(&id(1)), Some(Duration::from_millis(80)));
        assert_eq!(rt.shortest(&id(4)), None);
    }

    #[test]
    fn the_peer_sampled_longest_ago_makes_way() {
        let mut rt = RoundTrips::default();
        for n in 0..CAPACITY as u64 {
            rt.sample(&id(n as u8), Time(0), Time((n + 1) * 1000));
        }
        rt.sample(&id(0), Time(0), Time(50_000));
        rt.sample(&id(200), Time(0), Time(60_000));
        assert_eq!(rt.timeout(&id(1), FLOOR, CEILING), CEILING);
        assert!(rt.timeout(&id(0), FLOOR, CEILING) < CEILING);
        assert!(rt.timeout(&id(200), FLOOR, CEILING) < CEILING);
    }
}
