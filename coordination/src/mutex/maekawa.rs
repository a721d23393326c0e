//! Maekawa's voting algorithm (TOCS 1985) over the voting sets of [`super::quorum`]
//! (projective-plane lines or grid rows and columns): a requester needs the vote
//! of every member of its set, and each member votes for one request at a time. Deadlock is
//! prevented as Maekawa does: a voter that has voted for a request and then receives an
//! earlier one asks the first back (INQUIRE); a requester that knows it cannot win yet (it
//! got FAILED) gives such votes back (RELINQUISH). Channels are first-in-first-out
//! ([`Sequenced`]). Failure-free, an entry costs 3(K−1) messages for a set of K members,
//! more when requests compete.
//!
//! Views: voting sets depend on the view, and two sets of different views need not meet, so
//! every view is a fresh round of voting. On a new view each member reports to its new set
//! whether it holds the lock; a voter votes for nobody until every member that may hold
//! its vote (its electors) has reported, and counts a holder's report as its vote;
//! requests in progress start again in the new view. Messages carry their view's epoch:
//! older ones are dropped, newer ones wait for the view.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::fifo::{Fifo, Sequenced};
use super::quorum::{electors, voting_set};
use super::{Action, LockState, MutexAlgorithm};
use crate::clock::lamport::LamportClock;
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// `members` without `me`.
fn others<P: MemberId>(members: Vec<P>, me: P) -> BTreeSet<P> {
    members.into_iter().filter(|p| *p != me).collect()
}

/// Messages that wait for a view this member does not have yet.
const FUTURE: usize = 4096;

/// What a Maekawa message says; `ts` names the request it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaekawaKind {
    /// Asks for the receiver's vote.
    Request,
    /// The receiver's vote.
    Locked,
    /// The voter has voted for an earlier request.
    Failed,
    /// The voter wants its vote back for an earlier request.
    Inquire,
    /// The vote, given back.
    Relinquish,
    /// The requester left the critical section.
    Release,
    /// After a view change: the sender holds the lock.
    Holding,
    /// After a view change: the sender does not hold the lock.
    Free,
}

/// A Maekawa message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaekawaMsg {
    /// The view it belongs to.
    pub epoch: u64,
    /// What it says.
    pub kind: MaekawaKind,
    /// The request's Lamport timestamp.
    pub ts: u64,
}

/// Maekawa's algorithm at one member: requester and voter.
#[derive(Debug)]
pub struct Maekawa<P> {
    me: P,
    view: View<P>,
    quorum: Vec<P>,
    clock: LamportClock,
    fifo: Fifo<P, MaekawaMsg>,
    gone: Gone<P>,
    future: Vec<(P, MaekawaMsg)>,
    // Requester.
    state: LockState,
    ts: u64,
    votes: BTreeSet<P>,
    failed: bool,
    inquired: BTreeSet<P>,
    /// The voters that count this member as holder: told at release.
    owed: Vec<P>,
    // Voter.
    vote: Option<(u64, P)>,
    /// Requests waiting for this vote, and whether each was told it lost for now.
    waiting: BTreeMap<(u64, P), bool>,
    inquiring: bool,
    /// Electors yet to report in this view.
    recovering: BTreeSet<P>,
}

type Out<P> = Vec<Action<P, Sequenced<MaekawaMsg>>>;

impl<P: MemberId> Maekawa<P> {
    /// Member `me` of `view`. A member whose first view is the group's first (epoch 1)
    /// votes at once; one that joins later first hears from its set.
    pub fn new(me: P, view: View<P>) -> Self {
        let quorum = voting_set(&view, me);
        let recovering = if view.epoch() > 1 {
            others(electors(&view, me), me)
        } else {
            BTreeSet::new()
        };
        Maekawa {
            me,
            view,
            quorum,
            clock: LamportClock::new(),
            fifo: Fifo::default(),
            gone: Gone::default(),
            future: Vec::new(),
            state: LockState::Idle,
            ts: 0,
            votes: BTreeSet::new(),
            failed: false,
            inquired: BTreeSet::new(),
            owed: Vec::new(),
            vote: None,
            waiting: BTreeMap::new(),
            inquiring: false,
            recovering,
        }
    }

    /// This member's voting set in its current view.
    pub fn quorum(&self) -> &[P] {
        &self.quorum
    }

    fn send(&mut self, to: P, kind: MaekawaKind, ts: u64, out: &mut Out<P>) {
        let msg = MaekawaMsg {
            epoch: self.view.epoch(),
            kind,
            ts,
        };
        if to == self.me {
            self.handle(self.me, msg, out);
        } else {
            let msg = self.fifo.stamp(to, msg);
            out.push(Action::Send { to, msg });
        }
    }

    fn send_to_quorum(&mut self, kind: MaekawaKind, ts: u64, out: &mut Out<P>) {
        for p in self.quorum.clone() {
            self.send(p, kind, ts, out);
        }
    }

    fn handle(&mut self, from: P, msg: MaekawaMsg, out: &mut Out<P>) {
        use MaekawaKind::*;
        if msg.kind == Request {
            self.clock.receive(msg.ts);
        }
        match msg.kind {
            Request | Relinquish | Release | Holding | Free => self.as_voter(from, msg, out),
            Locked | Failed | Inquire => self.as_requester(from, msg, out),
        }
    }

    fn as_voter(&mut self, from: P, msg: MaekawaMsg, out: &mut Out<P>) {
        use MaekawaKind::*;
        let req = (msg.ts, from);
        match msg.kind {
            Holding | Free => {
                // A holder's report is its vote at once: it is inside, whatever comes next.
                if msg.kind == Holding {
                    match self.vote {
                        None => self.vote = Some(req),
                        Some(_) => {
                            self.waiting.insert(req, true);
                        }
                    }
                }
                if self.recovering.remove(&from) && self.recovering.is_empty() {
                    self.recovered(out);
                }
            }
            Request => {
                if !self.recovering.is_empty() {
                    self.waiting.insert(req, false);
                    return;
                }
                let Some(current) = self.vote else {
                    self.vote = Some(req);
                    self.send(from, Locked, msg.ts, out);
                    return;
                };
                let earliest = self.waiting.keys().next().copied();
                self.waiting.insert(req, false);
                if req > current || earliest.is_some_and(|w| w < req) {
                    self.fail(req, out);
                } else {
                    // The new request goes before every other: the one that went first
                    // until now has lost too (else it could keep votes it cannot use).
                    if let Some(w) = earliest {
                        self.fail(w, out);
                    }
                    if !self.inquiring {
                        self.inquiring = true;
                        self.send(current.1, Inquire, current.0, out);
                    }
                }
            }
            Relinquish => {
                if self.vote == Some(req) {
                    // It gave the vote back because it had lost somewhere.
                    self.waiting.insert(req, true);
                    self.vote = None;
                    self.inquiring = false;
                    self.vote_next(out);
                }
            }
            Release => {
                self.waiting.remove(&req);
                if self.vote == Some(req) {
                    self.vote = None;
                    self.inquiring = false;
                    self.vote_next(out);
                }
            }
            Locked | Failed | Inquire => {}
        }
    }

    /// Every elector has reported: votes for the earliest request that waited,
    /// and tells the later ones they lost for now (as if they had come in one by one).
    fn recovered(&mut self, out: &mut Out<P>) {
        self.vote_next(out);
        let Some(vote) = self.vote else {
            return;
        };
        let beaten: Vec<(u64, P)> = self
            .waiting
            .keys()
            .filter(|w| **w > vote)
            .copied()
            .collect();
        for w in beaten {
            self.fail(w, out);
        }
    }

    /// Tells waiting request `req` that it lost for now, once.
    fn fail(&mut self, req: (u64, P), out: &mut Out<P>) {
        if let Some(told) = self.waiting.get_mut(&req)
            && !*told
        {
            *told = true;
            self.send(req.1, MaekawaKind::Failed, req.0, out);
        }
    }

    /// Gives a free vote to the earliest waiting request.
    fn vote_next(&mut self, out: &mut Out<P>) {
        if self.vote.is_some() || !self.recovering.is_empty() {
            return;
        }
        if let Some((next, _)) = self.waiting.pop_first() {
            self.vote = Some(next);
            self.send(next.1, MaekawaKind::Locked, next.0, out);
        }
    }

    fn as_requester(&mut self, from: P, msg: MaekawaMsg, out: &mut Out<P>) {
        use MaekawaKind::*;
        if msg.ts != self.ts || self.state != LockState::Wanted {
            // About a request that is over (a crossed INQUIRE, say).
            return;
        }
        match msg.kind {
            Locked => {
                self.votes.insert(from);
                if self.quorum.iter().all(|p| self.votes.contains(p)) {
                    self.state = LockState::Held;
                    self.owed = self.quorum.clone();
                    out.push(Action::Enter);
                }
            }
            Failed => {
                self.failed = true;
                for v in std::mem::take(&mut self.inquired) {
                    self.relinquish(v, out);
                }
            }
            Inquire => {
                if self.failed {
                    self.relinquish(from, out);
                } else {
                    self.inquired.insert(from);
                }
            }
            _ => {}
        }
    }

    fn relinquish(&mut self, voter: P, out: &mut Out<P>) {
        if self.votes.remove(&voter) {
            self.send(voter, MaekawaKind::Relinquish, self.ts, out);
        }
    }

    /// Asks the current set for its votes for the current request.
    fn ask(&mut self, out: &mut Out<P>) {
        self.votes.clear();
        self.failed = false;
        self.inquired.clear();
        self.send_to_quorum(MaekawaKind::Request, self.ts, out);
    }

    /// Handles `m` if it belongs to the current view, keeps it if it belongs to a later one.
    fn dispatch(&mut self, from: P, m: MaekawaMsg, out: &mut Out<P>) {
        let epoch = self.view.epoch();
        if m.epoch == epoch {
            self.handle(from, m, out);
        } else if m.epoch > epoch && self.future.len() < FUTURE {
            self.future.push((from, m));
        }
    }
}

impl<P: MemberId> MutexAlgorithm<P> for Maekawa<P> {
    type Msg = Sequenced<MaekawaMsg>;

    fn name(&self) -> &'static str {
        "maekawa"
    }

    fn start(&mut self, out: &mut Out<P>) {
        // A member joining a running group reports to its set like everyone else does on
        // the view that brings it in.
        if self.view.epoch() > 1 {
            self.send_to_quorum(MaekawaKind::Free, 0, out);
        }
    }

    fn request(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Idle {
            return;
        }
        self.state = LockState::Wanted;
        self.ts = self.clock.tick();
        self.ask(out);
    }

    fn release(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Held {
            return;
        }
        self.state = LockState::Idle;
        for p in std::mem::take(&mut self.owed) {
            self.send(p, MaekawaKind::Release, self.ts, out);
        }
    }

    fn on_message(&mut self, from: P, msg: Sequenced<MaekawaMsg>, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        for m in self.fifo.accept(from, msg) {
            self.dispatch(from, m, out);
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        let old = std::mem::replace(&mut self.view, view);
        self.gone.update(&old, &self.view);
        for p in old.departed(&self.view) {
            self.fifo.forget(p);
        }
        self.quorum = voting_set(&self.view, self.me);
        self.vote = None;
        self.waiting.clear();
        self.inquiring = false;
        self.recovering = others(electors(&self.view, self.me), self.me);
        // Every member reports to its new set (itself included), then asks again if it
        // was waiting.
        let holding = self.state == LockState::Held;
        let report = if holding {
            MaekawaKind::Holding
        } else {
            MaekawaKind::Free
        };
        self.send_to_quorum(report, self.ts, out);
        if holding {
            self.owed = self.quorum.clone();
        } else if self.state == LockState::Wanted {
            self.ask(out);
        }
        let future = std::mem::take(&mut self.future);
        for (from, m) in future {
            if !self.gone.contains(&from) {
                self.dispatch(from, m, out);
            }
        }
    }

    fn state(&self) -> LockState {
        self.state
    }
}
