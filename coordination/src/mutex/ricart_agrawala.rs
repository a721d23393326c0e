//! Ricart and Agrawala (CACM 1981): a requester asks every other member and enters once all
//! have replied; a member defers its reply while it holds the lock or wants it with an
//! earlier (Lamport timestamp, id) pair. 2(N−1) messages per entry.
//!
//! Views: a departed member's reply is no longer awaited. A member this one waits on is
//! asked whenever it shows up unasked (it arrived in the view, or its request came first
//! because its view had this member and this member's did not have it): its reply is then
//! awaited too, so a newcomer whose clock is behind cannot slip in beside a requester that
//! did not know it. A member outside the view whose request came in is asked by this
//! member's next requests too, until the view has it: it may be inside.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Action, LockState, MutexAlgorithm};
use crate::clock::lamport::LamportClock;
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// Ricart–Agrawala's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaMsg {
    /// A request stamped `ts`.
    Request {
        /// Lamport timestamp of the request.
        ts: u64,
    },
    /// Permission for the request stamped `ts`.
    Reply {
        /// The request's timestamp.
        ts: u64,
    },
}

/// Ricart–Agrawala at one member.
#[derive(Debug)]
pub struct RicartAgrawala<P> {
    me: P,
    view: View<P>,
    clock: LamportClock,
    state: LockState,
    /// The timestamp of this member's current request.
    ts: u64,
    /// Who has this member's current request.
    asked: BTreeSet<P>,
    /// Who has not yet replied to it.
    awaiting: BTreeSet<P>,
    deferred: Vec<(P, u64)>,
    /// Requesters not (yet) in the view.
    outside: BTreeSet<P>,
    gone: Gone<P>,
}

/// How many requesters outside the view are remembered (they enter it within moments).
const OUTSIDE: usize = 1024;

type Out<P> = Vec<Action<P, RaMsg>>;

impl<P: MemberId> RicartAgrawala<P> {
    /// Member `me` of `view`.
    pub fn new(me: P, view: View<P>) -> Self {
        RicartAgrawala {
            me,
            view,
            clock: LamportClock::new(),
            state: LockState::Idle,
            ts: 0,
            asked: BTreeSet::new(),
            awaiting: BTreeSet::new(),
            deferred: Vec::new(),
            outside: BTreeSet::new(),
            gone: Gone::default(),
        }
    }

    fn ask(&mut self, p: P, out: &mut Out<P>) {
        if !self.asked.insert(p) {
            return;
        }
        self.awaiting.insert(p);
        out.push(Action::Send {
            to: p,
            msg: RaMsg::Request { ts: self.ts },
        });
    }

    fn try_enter(&mut self, out: &mut Out<P>) {
        if self.state == LockState::Wanted && self.awaiting.is_empty() {
            self.state = LockState::Held;
            out.push(Action::Enter);
        }
    }
}

impl<P: MemberId> MutexAlgorithm<P> for RicartAgrawala<P> {
    type Msg = RaMsg;

    fn name(&self) -> &'static str {
        "ricart-agrawala"
    }

    fn request(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Idle {
            return;
        }
        self.state = LockState::Wanted;
        self.ts = self.clock.tick();
        self.asked.clear();
        let mut others: Vec<P> = self.view.others(self.me).collect();
        others.extend(self.outside.iter().copied());
        for p in others {
            self.ask(p, out);
        }
        self.try_enter(out);
    }

    fn release(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Held {
            return;
        }
        self.state = LockState::Idle;
        for (p, ts) in self.deferred.drain(..) {
            out.push(Action::Send {
                to: p,
                msg: RaMsg::Reply { ts },
            });
        }
    }

    fn on_message(&mut self, from: P, msg: RaMsg, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        match msg {
            RaMsg::Request { ts } => {
                self.clock.receive(ts);
                if !self.view.contains(&from) && self.outside.len() < OUTSIDE {
                    self.outside.insert(from);
                }
                if self.state == LockState::Wanted {
                    self.ask(from, out);
                }
                let mine_first = match self.state {
                    LockState::Held => true,
                    LockState::Wanted => (self.ts, self.me) < (ts, from),
                    LockState::Idle => false,
                };
                if mine_first {
                    self.deferred.push((from, ts));
                } else {
                    out.push(Action::Send {
                        to: from,
                        msg: RaMsg::Reply { ts },
                    });
                }
            }
            RaMsg::Reply { ts } => {
                if self.state == LockState::Wanted && ts == self.ts {
                    self.awaiting.remove(&from);
                    self.try_enter(out);
                }
            }
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        let old = std::mem::replace(&mut self.view, view);
        self.gone.update(&old, &self.view);
        self.outside
            .retain(|p| !self.view.contains(p) && !self.gone.contains(p));
        for p in old.departed(&self.view) {
            self.asked.remove(&p);
            self.awaiting.remove(&p);
            self.deferred.retain(|(q, _)| *q != p);
        }
        if self.state == LockState::Wanted {
            let arrived: Vec<P> = old.arrived(&self.view).filter(|p| *p != self.me).collect();
            for p in arrived {
                self.ask(p, out);
            }
        }
        self.try_enter(out);
    }

    fn state(&self) -> LockState {
        self.state
    }
}
