//! One group at one node: its view, its election, and the Berkeley algorithm whose master
//! is the group's highest member, the leader both elections choose.

use std::collections::BTreeMap;

use overlay::time::Time;
use overlay::{Contact, Key, NodeId};

use super::messages::Protocol;
use super::out::Out;
use crate::choice::{AnyElection, AnyElectionMsg, ElectionKind};
use crate::election::{ElectionAction, ElectionAlgorithm};
use crate::sync::{Berkeley, BerkeleyMsg, ClockSync, SyncAction};
use crate::view::View;

/// Messages kept until the first view comes.
const EARLY: usize = 256;

/// The last estimate of this node's offset from the group's time.
#[derive(Clone, Copy, Debug)]
pub(super) struct Offset {
    /// This clock minus the group's, in seconds.
    pub offset: f64,
    /// The estimate's error bound.
    pub bound: f64,
    /// When it was made.
    pub at: Time,
}

/// One group at one node.
#[derive(Debug)]
pub(super) struct GroupSlot<A> {
    pub key: Key,
    pub name: String,
    pub epoch: u64,
    pub contacts: BTreeMap<NodeId, Contact<A>>,
    pub election: Option<AnyElection<NodeId>>,
    sync: Option<Berkeley<NodeId>>,
    pub offset: Option<Offset>,
    /// The leader this node last told which of the group's locks it uses.
    pub told: Option<NodeId>,
    early: Vec<(NodeId, Protocol)>,
}

/// What the group's algorithms need from the node when they run.
pub(super) struct Setting {
    pub me: NodeId,
    pub election: ElectionKind,
    pub tolerance: f64,
    /// The node's clock now.
    pub local: f64,
    pub now: Time,
}

impl<A: Clone> GroupSlot<A> {
    pub fn new(key: Key, name: String) -> Self {
        GroupSlot {
            key,
            name,
            epoch: 0,
            contacts: BTreeMap::new(),
            election: None,
            sync: None,
            offset: None,
            told: None,
            early: Vec::new(),
        }
    }

    /// The leader this node knows.
    pub fn leader(&self) -> Option<NodeId> {
        self.election.as_ref().and_then(|e| e.leader())
    }

    /// A new view of the group.
    pub fn on_view(&mut self, s: &Setting, epoch: u64, members: &[Contact<A>], out: &mut Vec<Out>) {
        self.epoch = epoch;
        self.contacts = members.iter().map(|c| (c.id, c.clone())).collect();
        let view = View::new(epoch, self.contacts.keys().copied());
        if let (Some(e), Some(b)) = (&mut self.election, &mut self.sync) {
            let mut acts = Vec::new();
            e.on_view(view.clone(), &mut acts);
            elected(self.key, &self.name, acts, out);
            let mut acts = Vec::new();
            b.on_view(view, &mut acts);
            synced(self.key, &mut self.offset, s, acts, out);
            return;
        }
        let mut e = AnyElection::new(s.election, s.me, view.clone());
        let mut acts = Vec::new();
        e.start(&mut acts);
        self.election = Some(e);
        elected(self.key, &self.name, acts, out);
        self.sync = Some(Berkeley::new(s.me, view, s.tolerance, 0.0));
        for (from, p) in std::mem::take(&mut self.early) {
            self.on_message(s, from, p, out);
        }
    }

    /// A message of the group's algorithms from member `from`.
    pub fn on_message(&mut self, s: &Setting, from: NodeId, p: Protocol, out: &mut Vec<Out>) {
        let (Some(e), Some(b)) = (&mut self.election, &mut self.sync) else {
            if self.early.len() < EARLY {
                self.early.push((from, p));
            }
            return;
        };
        match p {
            Protocol::Election(_, m) => {
                let mut acts = Vec::new();
                e.on_message(from, m, &mut acts);
                elected(self.key, &self.name, acts, out);
            }
            Protocol::Sync(_, m) => {
                let mut acts = Vec::new();
                b.on_message(from, m, s.local, &mut acts);
                synced(self.key, &mut self.offset, s, acts, out);
            }
            Protocol::Mutex(..) | Protocol::Locks(..) => {}
        }
    }

    /// A round of synchronisation (only the master polls).
    pub fn sync(&mut self, s: &Setting, out: &mut Vec<Out>) {
        let Some(b) = self.sync.as_mut() else {
            return;
        };
        let mut acts = Vec::new();
        b.sync(s.local, &mut acts);
        synced(self.key, &mut self.offset, s, acts, out);
    }
}

/// Hands on what the election asked.
fn elected(
    key: Key,
    name: &str,
    acts: Vec<ElectionAction<NodeId, AnyElectionMsg<NodeId>>>,
    out: &mut Vec<Out>,
) {
    for a in acts {
        match a {
            ElectionAction::Send { to, msg } => {
                out.push(Out::Send(to, Protocol::Election(key, msg)))
            }
            ElectionAction::Leader(p) => out.push(Out::Leader(name.to_string(), p)),
        }
    }
}

/// Hands on what clock synchronisation asked, and keeps its estimate in `offset`.
fn synced(
    key: Key,
    offset: &mut Option<Offset>,
    s: &Setting,
    acts: Vec<SyncAction<NodeId, BerkeleyMsg>>,
    out: &mut Vec<Out>,
) {
    for a in acts {
        match a {
            SyncAction::Send { to, msg } => out.push(Out::Send(to, Protocol::Sync(key, msg))),
            // The node's clock is not set (it is the system's); the estimate is kept
            // for its user: `by` behind means the clock reads `by` less than the group.
            SyncAction::Adjust { by, bound } => {
                *offset = Some(Offset {
                    offset: -by,
                    bound,
                    at: s.now,
                })
            }
        }
    }
}
