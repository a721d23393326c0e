//! The ring election of Chang and Roberts (CACM 1979): a candidate's id travels the ring;
//! each member forwards a higher id, replaces a lower one by its own unless it already
//! takes part, and the member that gets its own id back is the leader and announces it
//! around the ring. At most 3N−1 messages when one member starts.
//!
//! Crashes: an id of a departed member is dropped (it would travel forever), and an
//! election under way when a member departs starts again, since its message may have died
//! with it.

use serde::{Deserialize, Serialize};

use super::{ElectionAction, ElectionAlgorithm};
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// The ring election's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RingMsg<P> {
    /// The highest candidate seen on the way.
    Election(P),
    /// The result, going round once.
    Elected(P),
}

/// The ring election at one member.
#[derive(Debug)]
pub struct RingElection<P> {
    me: P,
    view: View<P>,
    leader: Option<P>,
    participant: bool,
    gone: Gone<P>,
    /// Whether losing the leader starts an election here (else only [`ElectionAlgorithm::elect`]).
    detects: bool,
}

type Out<P> = Vec<ElectionAction<P, RingMsg<P>>>;

impl<P: MemberId> RingElection<P> {
    /// Member `me` of `view`; in the group's first view the highest member leads.
    pub fn new(me: P, view: View<P>) -> Self {
        let leader = if view.epoch() <= 1 {
            view.highest()
        } else {
            None
        };
        RingElection {
            me,
            view,
            leader,
            participant: false,
            gone: Gone::default(),
            detects: true,
        }
    }

    /// The same member, but elections start only when the driver calls
    /// [`ElectionAlgorithm::elect`]: to measure one member detecting the failure while the
    /// others have not noticed.
    pub fn manual(mut self) -> Self {
        self.detects = false;
        self
    }

    fn pass(&self, msg: RingMsg<P>, out: &mut Out<P>) {
        match self.view.successor(self.me) {
            Some(next) if next != self.me => out.push(ElectionAction::Send { to: next, msg }),
            // Alone: the message has come round.
            _ => {}
        }
    }

    fn won(&mut self, out: &mut Out<P>) {
        self.participant = false;
        self.leader = Some(self.me);
        out.push(ElectionAction::Leader(self.me));
        self.pass(RingMsg::Elected(self.me), out);
    }
}

impl<P: MemberId> ElectionAlgorithm<P> for RingElection<P> {
    type Msg = RingMsg<P>;

    fn name(&self) -> &'static str {
        "ring-election"
    }

    fn start(&mut self, out: &mut Out<P>) {
        if self.view.epoch() > 1 {
            self.elect(out);
        } else if self.leader == Some(self.me) {
            out.push(ElectionAction::Leader(self.me));
        }
    }

    fn elect(&mut self, out: &mut Out<P>) {
        if self.view.len() <= 1 {
            self.won(out);
            return;
        }
        self.participant = true;
        self.pass(RingMsg::Election(self.me), out);
    }

    fn on_message(&mut self, from: P, msg: RingMsg<P>, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        match msg {
            RingMsg::Election(c) if self.gone.contains(&c) => {}
            RingMsg::Election(c) if c == self.me => self.won(out),
            RingMsg::Election(c) if c > self.me => {
                self.participant = true;
                self.pass(RingMsg::Election(c), out);
            }
            RingMsg::Election(_) => {
                if !self.participant {
                    self.participant = true;
                    self.pass(RingMsg::Election(self.me), out);
                }
            }
            RingMsg::Elected(l) => {
                if l == self.me || self.gone.contains(&l) {
                    return;
                }
                self.participant = false;
                if self.leader != Some(l) {
                    self.leader = Some(l);
                    out.push(ElectionAction::Leader(l));
                }
                self.pass(RingMsg::Elected(l), out);
                if l < self.me {
                    // A lower member won while this one's view lagged: this one is higher.
                    self.elect(out);
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
        let lost_someone = old.departed(&self.view).next().is_some();
        let leader_gone = self.leader.is_some_and(|l| !self.view.contains(&l));
        if leader_gone {
            self.leader = None;
        }
        if (leader_gone && self.detects) || (self.participant && lost_someone) {
            self.elect(out);
        }
    }

    fn leader(&self) -> Option<P> {
        self.leader
    }
}
