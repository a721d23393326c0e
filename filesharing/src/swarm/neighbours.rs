//! Who is connected to whom: the tracker's random sample on arrival (and when a peer runs
//! low on neighbours), and the bookkeeping of each peer's view of its neighbours' pieces.

use rand::RngExt;

use super::peer::{Flow, PeerIdx, SimPeer};

/// Peers a tracker answer names (a client's usual `numwant`).
pub(super) const NUMWANT: usize = 50;
/// Most connections a peer keeps.
pub(super) const MAX_CONNECTIONS: usize = 80;
/// Below this many neighbours a peer asks the tracker again.
pub(super) const LOW_WATER: usize = 20;

/// The swarm's peers by index; `None` once gone (or not yet arrived).
pub(super) type Peers = Vec<Option<SimPeer>>;

fn both(peers: &mut Peers, a: PeerIdx, b: PeerIdx) -> (&mut SimPeer, &mut SimPeer) {
    debug_assert_ne!(a, b);
    let (lo, hi) = (a.min(b), a.max(b));
    let (left, right) = peers.split_at_mut(hi);
    let (x, y) = (
        left[lo].as_mut().expect("present"),
        right[0].as_mut().expect("present"),
    );
    if a < b { (x, y) } else { (y, x) }
}

/// Connects `a` and `b`: each now counts the other's pieces.
pub(super) fn connect(peers: &mut Peers, a: PeerIdx, b: PeerIdx) {
    let (pa, pb) = both(peers, a, b);
    pa.neighbours.insert(b, Flow::default());
    pb.neighbours.insert(a, Flow::default());
    for i in pb.have.ones() {
        pa.availability[i as usize] += 1;
    }
    for i in pa.have.ones() {
        pb.availability[i as usize] += 1;
    }
}

/// Disconnects `a` and `b`, each forgetting the other's pieces and unchoke.
pub(super) fn disconnect(peers: &mut Peers, a: PeerIdx, b: PeerIdx) {
    let (pa, pb) = both(peers, a, b);
    forget(pa, b, &pb.have);
    forget(pb, a, &pa.have);
}

fn forget(p: &mut SimPeer, other: PeerIdx, its_pieces: &crate::session::Bitfield) {
    if p.neighbours.remove(&other).is_none() {
        return;
    }
    for i in its_pieces.ones() {
        p.availability[i as usize] -= 1;
    }
    p.unchoked.retain(|&x| x != other);
    if p.optimistic == Some(other) {
        p.optimistic = None;
    }
}

/// `who` asks the tracker: it connects to random present peers, up to [`NUMWANT`]
/// neighbours, skipping full peers and, for a seed, other seeds.
pub(super) fn announce(
    peers: &mut Peers,
    present: &[PeerIdx],
    who: PeerIdx,
    rng: &mut impl rand::Rng,
) {
    let wanted = NUMWANT.saturating_sub(peers[who].as_ref().expect("present").neighbours.len());
    if wanted == 0 {
        return;
    }
    // A random sample of the present peers, as a tracker gives: a partial shuffle.
    let mut order: Vec<PeerIdx> = present.to_vec();
    let sample = order.len().min(NUMWANT * 2);
    for i in 0..sample {
        let j = rng.random_range(i..order.len());
        order.swap(i, j);
    }
    order.truncate(sample);
    let mut added = 0;
    for other in order {
        if added == wanted {
            break;
        }
        let me = peers[who].as_ref().expect("present");
        let them = peers[other].as_ref().expect("present");
        if other == who
            || me.neighbours.contains_key(&other)
            || them.neighbours.len() >= MAX_CONNECTIONS
            || (me.is_seed() && them.is_seed())
        {
            continue;
        }
        connect(peers, who, other);
        added += 1;
    }
}
