//! One simulated peer: what it has, what it knows of its neighbours, whom it unchokes.

use std::collections::BTreeMap;

use crate::session::Bitfield;

/// Index of a peer in the swarm, in order of arrival (seeds first).
pub(super) type PeerIdx = usize;

/// A simulated peer.
pub(super) struct SimPeer {
    /// Simulated time it arrived.
    pub arrived: f64,
    /// When it leaves, once known.
    pub leaves: Option<f64>,
    /// Bytes per second it can send (0 for a free rider).
    pub upload: f64,
    /// Bytes per second it can receive.
    pub download: f64,
    /// The pieces it has.
    pub have: Bitfield,
    /// Bytes received of each started, unfinished piece.
    pub started: BTreeMap<u32, f64>,
    /// Connected peers, and what each gave (`from`) and was given (`to`) this period.
    pub neighbours: BTreeMap<PeerIdx, Flow>,
    /// How many of its neighbours have each piece.
    pub availability: Vec<u16>,
    /// The regular unchokes.
    pub unchoked: Vec<PeerIdx>,
    /// The optimistic unchoke.
    pub optimistic: Option<PeerIdx>,
    /// When it next re-chooses its unchokes.
    pub next_rechoke: f64,
    /// Re-choices so far, the optimistic unchoke rotating every third.
    pub rechokes: u64,
}

/// Bytes that went between a peer and one neighbour this choking period.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Flow {
    /// Bytes the neighbour gave.
    pub from: f64,
    /// Bytes given to the neighbour.
    pub to: f64,
}

impl SimPeer {
    pub fn new(arrived: f64, upload: f64, download: f64, have: Bitfield) -> Self {
        let pieces = have.len() as usize;
        SimPeer {
            arrived,
            leaves: None,
            upload,
            download,
            have,
            started: BTreeMap::new(),
            neighbours: BTreeMap::new(),
            availability: vec![0; pieces],
            unchoked: Vec::new(),
            optimistic: None,
            next_rechoke: arrived,
            rechokes: 0,
        }
    }

    pub fn is_seed(&self) -> bool {
        self.have.is_full()
    }

    /// Whether `other`'s pieces include one this peer lacks.
    pub fn wants_from(&self, other: &Bitfield) -> bool {
        other
            .as_wire()
            .iter()
            .zip(self.have.as_wire())
            .any(|(theirs, mine)| theirs & !mine != 0)
    }

    /// The peers it sends to this step: its unchokes.
    pub fn slots(&self) -> impl Iterator<Item = PeerIdx> + '_ {
        self.unchoked.iter().copied().chain(self.optimistic)
    }
}
