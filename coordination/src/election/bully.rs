//! The bully algorithm (Garcia-Molina, 1982): a member that finds the leader gone asks every
//! higher member; any that lives answers and takes the election over; a member with no
//! higher member alive tells everyone it leads. N−2 messages when the second-highest
//! member starts, O(N²) when the lowest does.
//!
//! The timeouts of the original are the view here: "nobody higher answered" is "no higher
//! member is left in the view", and a member that answered and then crashed before
//! announcing itself shows up as its departure, after which the election starts again.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{ElectionAction, ElectionAlgorithm};
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// The bully algorithm's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BullyMsg {
    /// To a higher member: an election is on.
    Election,
    /// From a higher member: it is alive and takes over.
    Answer,
    /// The sender leads.
    Coordinator,
}

/// The bully algorithm at one member.
#[derive(Debug)]
pub struct Bully<P> {
    me: P,
    view: View<P>,
    leader: Option<P>,
    electing: bool,
    /// Higher members that answered the current election.
    answered: BTreeSet<P>,
    gone: Gone<P>,
    /// Whether losing the leader starts an election here (else only [`ElectionAlgorithm::elect`]).
    detects: bool,
}

type Out<P> = Vec<ElectionAction<P, BullyMsg>>;

impl<P: MemberId> Bully<P> {
    /// Member `me` of `view`; in the group's first view the highest member leads.
    pub fn new(me: P, view: View<P>) -> Self {
        let leader = if view.epoch() <= 1 {
            view.highest()
        } else {
            None
        };
        Bully {
            me,
            view,
            leader,
            electing: false,
            answered: BTreeSet::new(),
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

    fn higher(&self) -> Vec<P> {
        self.view
            .members()
            .iter()
            .copied()
            .filter(|p| *p > self.me)
            .collect()
    }

    fn lead(&mut self, out: &mut Out<P>) {
        self.electing = false;
        self.answered.clear();
        if self.leader != Some(self.me) {
            self.leader = Some(self.me);
            out.push(ElectionAction::Leader(self.me));
        }
        for p in self.view.others(self.me) {
            out.push(ElectionAction::Send {
                to: p,
                msg: BullyMsg::Coordinator,
            });
        }
    }
}

impl<P: MemberId> ElectionAlgorithm<P> for Bully<P> {
    type Msg = BullyMsg;

    fn name(&self) -> &'static str {
        "bully"
    }

    fn start(&mut self, out: &mut Out<P>) {
        if self.view.epoch() > 1 {
            self.elect(out);
        } else if self.leader == Some(self.me) {
            out.push(ElectionAction::Leader(self.me));
        }
    }

    fn elect(&mut self, out: &mut Out<P>) {
        if self.electing {
            return;
        }
        let higher = self.higher();
        if higher.is_empty() {
            self.lead(out);
            return;
        }
        self.electing = true;
        self.answered.clear();
        for p in higher {
            out.push(ElectionAction::Send {
                to: p,
                msg: BullyMsg::Election,
            });
        }
    }

    fn on_message(&mut self, from: P, msg: BullyMsg, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        match msg {
            BullyMsg::Election => {
                if from < self.me {
                    out.push(ElectionAction::Send {
                        to: from,
                        msg: BullyMsg::Answer,
                    });
                    let higher_leader = self
                        .leader
                        .is_some_and(|l| l > self.me && self.view.contains(&l));
                    if self.leader == Some(self.me) {
                        // Already leading: the asker learns it again.
                        out.push(ElectionAction::Send {
                            to: from,
                            msg: BullyMsg::Coordinator,
                        });
                    } else if !higher_leader {
                        // A live leader above this member has announced itself to the asker
                        // too; otherwise this member takes the election over.
                        self.elect(out);
                    }
                }
            }
            BullyMsg::Answer => {
                if self.electing && from > self.me {
                    self.answered.insert(from);
                }
            }
            BullyMsg::Coordinator => {
                if from < self.me {
                    // A lower member claims to lead: bully it.
                    self.elect(out);
                    return;
                }
                self.electing = false;
                self.answered.clear();
                if self.leader != Some(from) {
                    self.leader = Some(from);
                    out.push(ElectionAction::Leader(from));
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
        self.answered.retain(|p| self.view.contains(p));
        let was_electing = self.electing;
        if self.leader.is_some_and(|l| !self.view.contains(&l)) {
            self.leader = None;
            if self.detects {
                self.elect(out);
            }
        }
        if was_electing {
            // An election that was under way with the old view: those it asked may be gone.
            if self.higher().is_empty() {
                self.lead(out);
            } else if self.answered.is_empty() && old.departed(&self.view).any(|p| p > self.me) {
                self.electing = false;
                self.elect(out);
            }
        }
    }

    fn leader(&self) -> Option<P> {
        self.leader
    }
}
