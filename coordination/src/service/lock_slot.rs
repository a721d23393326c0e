//! One lock at one node: its mutual-exclusion algorithm over the lock's view, and the
//! local holders queued for it (the algorithm serves the node; the node serves its holders
//! one at a time).

use std::collections::{BTreeMap, VecDeque};

use overlay::{Contact, Key, NodeId};

use super::messages::Protocol;
use super::out::Out;
use crate::choice::{AnyMutex, AnyMutexMsg, MutexKind};
use crate::mutex::{Action, LockState, MutexAlgorithm};
use crate::view::View;

/// Messages kept for the algorithm until its first view comes (the senders' views already
/// have this node).
const EARLY: usize = 256;

/// One lock at one node.
#[derive(Debug)]
pub(super) struct LockSlot<A> {
    pub key: Key,
    pub group: String,
    pub name: String,
    pub algorithm: Option<AnyMutex<NodeId>>,
    pub contacts: BTreeMap<NodeId, Contact<A>>,
    pub epoch: u64,
    /// Local holders waiting, first come first served.
    queue: VecDeque<u64>,
    /// The local holder that has the lock.
    holder: Option<u64>,
    early: Vec<(NodeId, AnyMutexMsg<NodeId>)>,
}

impl<A: Clone> LockSlot<A> {
    pub fn new(key: Key, group: String, name: String) -> Self {
        LockSlot {
            key,
            group,
            name,
            algorithm: None,
            contacts: BTreeMap::new(),
            epoch: 0,
            queue: VecDeque::new(),
            holder: None,
            early: Vec::new(),
        }
    }

    /// Where this node is with respect to the lock.
    pub fn state(&self) -> LockState {
        match &self.algorithm {
            Some(a) => a.state(),
            None if self.queue.is_empty() => LockState::Idle,
            None => LockState::Wanted,
        }
    }

    /// Local holders waiting.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// The local holder `ticket` wants the lock.
    pub fn want(&mut self, ticket: u64, out: &mut Vec<Out>) {
        self.queue.push_back(ticket);
        self.run(|_, _| {}, out);
    }

    /// The local holder `ticket` gives the lock back or stops waiting; false if it is not
    /// one of this lock's.
    pub fn give_back(&mut self, ticket: u64, out: &mut Vec<Out>) -> bool {
        if self.holder == Some(ticket) {
            self.holder = None;
            self.run(|a, acts| a.release(acts), out);
            return true;
        }
        let before = self.queue.len();
        self.queue.retain(|t| *t != ticket);
        // A request the algorithm is serving for nobody is given back when granted.
        before != self.queue.len()
    }

    /// A new view of the lock's members.
    pub fn on_view(
        &mut self,
        kind: MutexKind,
        me: NodeId,
        epoch: u64,
        members: &[Contact<A>],
        out: &mut Vec<Out>,
    ) {
        self.epoch = epoch;
        self.contacts = members.iter().map(|c| (c.id, c.clone())).collect();
        let view = View::new(epoch, self.contacts.keys().copied());
        if self.algorithm.is_none() {
            self.algorithm = Some(AnyMutex::new(kind, me, view));
            self.run(|a, acts| a.start(acts), out);
            for (from, msg) in std::mem::take(&mut self.early) {
                self.run(|a, acts| a.on_message(from, msg, acts), out);
            }
        } else {
            self.run(|a, acts| a.on_view(view, acts), out);
        }
    }

    /// A message from member `from`.
    pub fn on_message(&mut self, from: &Contact<A>, msg: AnyMutexMsg<NodeId>, out: &mut Vec<Out>) {
        self.contacts.entry(from.id).or_insert_with(|| from.clone());
        if self.algorithm.is_none() {
            if self.early.len() < EARLY {
                self.early.push((from.id, msg));
            }
            return;
        }
        self.run(|a, acts| a.on_message(from.id, msg, acts), out);
    }

    /// Runs `f` on the algorithm, then hands the lock to the next local holder or asks for
    /// it again while holders wait.
    fn run(
        &mut self,
        f: impl FnOnce(&mut AnyMutex<NodeId>, &mut Vec<Action<NodeId, AnyMutexMsg<NodeId>>>),
        out: &mut Vec<Out>,
    ) {
        let Some(alg) = self.algorithm.as_mut() else {
            return;
        };
        let mut acts = Vec::new();
        f(alg, &mut acts);
        loop {
            for action in std::mem::take(&mut acts) {
                match action {
                    Action::Send { to, msg } => {
                        out.push(Out::Send(to, Protocol::Mutex(self.key, msg)))
                    }
                    Action::Enter => match self.queue.pop_front() {
                        Some(t) => {
                            self.holder = Some(t);
                            out.push(Out::Granted(t));
                        }
                        None => alg.release(&mut acts),
                    },
                }
            }
            if acts.is_empty()
                && self.holder.is_none()
                && !self.queue.is_empty()
                && alg.state() == LockState::Idle
            {
                alg.request(&mut acts);
            }
            if acts.is_empty() {
                return;
            }
        }
    }
}
