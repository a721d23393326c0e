//! Lamport's algorithm (CACM 1978): every member keeps a queue of requests ordered by
//! (timestamp, id); a member enters when its own request heads its queue and it has heard
//! from every other member something stamped later. 3(N−1) messages per entry (request,
//! acknowledgement, release). The proof needs first-in-first-out channels, which
//! [`Sequenced`] numbering gives over a network that reorders.
//!
//! Views: a departed member's queued request and silence are dropped. A member is sent the
//! pending request whenever it shows up without it (it arrived in the view, or its own
//! request came in first), before its acknowledgement, and a later message from it is then
//! awaited too; a holder acknowledges such a member only when it leaves, so a newcomer whose
//! clock is behind cannot enter beside it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::fifo::{Fifo, Sequenced};
use super::{Action, LockState, MutexAlgorithm};
use crate::clock::lamport::LamportClock;
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// Lamport's messages, each with the sender's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LamportMsg {
    /// A request stamped `ts` (it is queued at every member).
    Request {
        /// Lamport timestamp.
        ts: u64,
    },
    /// Acknowledges a request.
    Ack {
        /// The sender's clock.
        ts: u64,
    },
    /// The sender left the critical section (its request leaves every queue).
    Release {
        /// The sender's clock.
        ts: u64,
    },
}

impl LamportMsg {
    fn ts(&self) -> u64 {
        match self {
            LamportMsg::Request { ts } | LamportMsg::Ack { ts } | LamportMsg::Release { ts } => *ts,
        }
    }
}

/// Lamport's algorithm at one member.
#[derive(Debug)]
pub struct Lamport<P> {
    me: P,
    view: View<P>,
    clock: LamportClock,
    state: LockState,
    ts: u64,
    queue: BTreeSet<(u64, P)>,
    /// Who has this member's current request: a later message is awaited from each.
    told: BTreeSet<P>,
    /// Requests from members that did not have this one's, answered when it leaves.
    held_back: Vec<P>,
    /// The latest timestamp heard from each member.
    heard: BTreeMap<P, u64>,
    fifo: Fifo<P, LamportMsg>,
    gone: Gone<P>,
}

type Out<P> = Vec<Action<P, Sequenced<LamportMsg>>>;

impl<P: MemberId> Lamport<P> {
    /// Member `me` of `view`.
    pub fn new(me: P, view: View<P>) -> Self {
        Lamport {
            me,
            view,
            clock: LamportClock::new(),
            state: LockState::Idle,
            ts: 0,
            queue: BTreeSet::new(),
            told: BTreeSet::new(),
            held_back: Vec::new(),
            heard: BTreeMap::new(),
            fifo: Fifo::default(),
            gone: Gone::default(),
        }
    }

    fn send(&mut self, to: P, msg: LamportMsg, out: &mut Out<P>) {
        let msg = self.fifo.stamp(to, msg);
        out.push(Action::Send { to, msg });
    }

    /// Sends the current request to `p` unless it has it.
    fn tell(&mut self, p: P, out: &mut Out<P>) {
        if self.told.insert(p) {
            self.send(p, LamportMsg::Request { ts: self.ts }, out);
        }
    }

    fn try_enter(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Wanted || self.queue.first() != Some(&(self.ts, self.me)) {
            return;
        }
        let ts = self.ts;
        let all_later = self
            .told
            .iter()
            .all(|p| self.heard.get(p).is_some_and(|h| *h > ts));
        if all_later {
            self.state = LockState::Held;
            out.push(Action::Enter);
        }
    }

    fn handle(&mut self, from: P, msg: LamportMsg, out: &mut Out<P>) {
        self.clock.receive(msg.ts());
        let heard = self.heard.entry(from).or_insert(0);
        *heard = (*heard).max(msg.ts());
        match msg {
            LamportMsg::Request { ts } => {
                self.queue.insert((ts, from));
                let untold = !self.told.contains(&from);
                match self.state {
                    LockState::Wanted => self.tell(from, out),
                    LockState::Held if untold => {
                        self.held_back.push(from);
                        return;
                    }
                    _ => {}
                }
                let ack = LamportMsg::Ack {
                    ts: self.clock.tick(),
                };
                self.send(from, ack, out);
            }
            LamportMsg::Release { .. } => self.queue.retain(|(_, p)| *p != from),
            LamportMsg::Ack { .. } => {}
        }
    }
}

impl<P: MemberId> MutexAlgorithm<P> for Lamport<P> {
    type Msg = Sequenced<LamportMsg>;

    fn name(&self) -> &'static str {
        "lamport"
    }

    fn request(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Idle {
            return;
        }
        self.state = LockState::Wanted;
        self.ts = self.clock.tick();
        self.queue.insert((self.ts, self.me));
        self.told.clear();
        let others: Vec<P> = self.view.others(self.me).collect();
        for p in others {
            self.tell(p, out);
        }
        self.try_enter(out);
    }

    fn release(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Held {
            return;
        }
        self.state = LockState::Idle;
        self.queue.remove(&(self.ts, self.me));
        let ts = self.clock.tick();
        // Everyone who may have queued the request: the view, and members outside it that
        // were told of it or asked while it held.
        let mut to: BTreeSet<P> = self.view.others(self.me).collect();
        to.extend(std::mem::take(&mut self.told));
        to.extend(std::mem::take(&mut self.held_back));
        for p in to {
            self.send(p, LamportMsg::Release { ts }, out);
        }
    }

    fn on_message(&mut self, from: P, msg: Sequenced<LamportMsg>, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        for m in self.fifo.accept(from, msg) {
            self.handle(from, m, out);
        }
        self.try_enter(out);
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        let old = std::mem::replace(&mut self.view, view);
        self.gone.update(&old, &self.view);
        for p in old.departed(&self.view) {
            self.queue.retain(|(_, q)| *q != p);
            self.heard.remove(&p);
            self.told.remove(&p);
            self.held_back.retain(|q| *q != p);
            self.fifo.forget(p);
        }
        if self.state == LockState::Wanted {
            let arrived: Vec<P> = old.arrived(&self.view).filter(|p| *p != self.me).collect();
            for p in arrived {
                self.tell(p, out);
            }
        }
        self.try_enter(out);
    }

    fn state(&self) -> LockState {
        self.state
    }
}
