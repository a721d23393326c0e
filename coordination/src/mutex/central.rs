//! The central-server algorithm: one member, the coordinator, queues requests and grants the
//! lock to one at a time (3 messages per entry: request, grant, release).
//!
//! The coordinator is the highest member of the view, which is the member both elections
//! choose. When it changes (it crashed or a higher member joined), every member tells the new
//! one what it holds and what it waits for, and the new coordinator grants nothing until
//! every member of its view has told it; a grant from anyone but the current coordinator is
//! refused. When the holder departs, the coordinator takes the lock back. Messages travel in
//! first-in-first-out order ([`Sequenced`]), so that a release cannot overtake the report
//! that it holds the lock. A member may learn of the new view before the new coordinator
//! does: what it sends the coordinator meanwhile is kept there and taken once its view
//! catches up, so no report is lost (the coordinator would otherwise wait for it forever).
//! A member that joined with the change holds nothing and is not waited for.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::fifo::{Fifo, Sequenced};
use super::{Action, LockState, MutexAlgorithm};
use crate::gone::Gone;
use crate::view::{MemberId, View};

/// The central-server algorithm's messages; `id` numbers a member's requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CentralMsg {
    /// Asks the coordinator for the lock.
    Request {
        /// The request's number.
        id: u64,
    },
    /// The coordinator grants request `id`.
    Grant {
        /// The request's number.
        id: u64,
    },
    /// The holder gives the lock back.
    Release {
        /// The request's number.
        id: u64,
    },
    /// To a new coordinator: what the sender holds or waits for.
    Recover {
        /// The request it holds the lock for.
        holding: Option<u64>,
        /// The request it waits on.
        waiting: Option<u64>,
    },
}

/// The coordinator's state.
#[derive(Debug)]
struct Desk<P> {
    holder: Option<(P, u64)>,
    queue: VecDeque<(P, u64)>,
    /// Members yet to report after a change of coordinator; nothing is granted meanwhile.
    recovering: BTreeSet<P>,
}

impl<P: MemberId> Desk<P> {
    /// A desk that waits for a report from each of `recovering` before granting.
    fn new(recovering: impl IntoIterator<Item = P>) -> Self {
        Desk {
            holder: None,
            queue: VecDeque::new(),
            recovering: recovering.into_iter().collect(),
        }
    }
}

/// The central-server algorithm at one member.
#[derive(Debug)]
pub struct Central<P> {
    me: P,
    view: View<P>,
    state: LockState,
    id: u64,
    desk: Option<Desk<P>>,
    gone: Gone<P>,
    fifo: Fifo<P, CentralMsg>,
    /// Messages for the coordinator that arrived while this member was not it, in order:
    /// their senders' views were ahead of its own.
    early: Vec<(P, CentralMsg)>,
}

/// Most such early messages kept.
const MAX_EARLY: usize = 4096;

type Out<P> = Vec<Action<P, Sequenced<CentralMsg>>>;

impl<P: MemberId> Central<P> {
    /// Member `me` of `view`.
    pub fn new(me: P, view: View<P>) -> Self {
        // A member that starts with a later view joins a running group: as its coordinator,
        // it first learns what the others hold. Nobody holds anything in the first view.
        let recovering: Vec<P> = if view.epoch() > 1 {
            view.others(me).collect()
        } else {
            Vec::new()
        };
        let desk = (view.highest() == Some(me)).then(|| Desk::new(recovering));
        Central {
            me,
            view,
            state: LockState::Idle,
            id: 0,
            desk,
            gone: Gone::default(),
            fifo: Fifo::default(),
            early: Vec::new(),
        }
    }

    /// The current coordinator.
    pub fn coordinator(&self) -> Option<P> {
        self.view.highest()
    }

    /// Sends `msg` to the coordinator, or handles it here when this member is it.
    fn send_to_coordinator(&mut self, msg: CentralMsg, out: &mut Out<P>) {
        match self.coordinator() {
            Some(c) if c == self.me => self.at_desk(self.me, msg, out),
            Some(c) => self.send(c, msg, out),
            None => {}
        }
    }

    fn send(&mut self, to: P, msg: CentralMsg, out: &mut Out<P>) {
        let msg = self.fifo.stamp(to, msg);
        out.push(Action::Send { to, msg });
    }

    fn grant_next(&mut self, out: &mut Out<P>) {
        let Some(desk) = self.desk.as_mut() else {
            return;
        };
        if desk.holder.is_some() || !desk.recovering.is_empty() {
            return;
        }
        let Some((p, id)) = desk.queue.pop_front() else {
            return;
        };
        desk.holder = Some((p, id));
        if p == self.me {
            self.granted(self.me, id, out);
        } else {
            self.send(p, CentralMsg::Grant { id }, out);
        }
    }

    /// A message handled as coordinator.
    fn at_desk(&mut self, from: P, msg: CentralMsg, out: &mut Out<P>) {
        let Some(desk) = self.desk.as_mut() else {
            // Not the coordinator in this member's view, but in the sender's, which is
            // ahead: kept until this view catches up (and dropped if it does not make this
            // member the coordinator).
            if from != self.me && self.early.len() < MAX_EARLY {
                self.early.push((from, msg));
            }
            return;
        };
        match msg {
            CentralMsg::Request { id } => {
                if desk.holder != Some((from, id)) && !desk.queue.contains(&(from, id)) {
                    desk.queue.push_back((from, id));
                }
            }
            CentralMsg::Release { id } => {
                if desk.holder == Some((from, id)) {
                    desk.holder = None;
                }
                desk.queue.retain(|e| *e != (from, id));
            }
            CentralMsg::Recover { holding, waiting } => {
                desk.recovering.remove(&from);
                if let Some(id) = holding {
                    desk.holder = Some((from, id));
                }
                if let Some(id) = waiting
                    && !desk.queue.contains(&(from, id))
                {
                    desk.queue.push_back((from, id));
                }
            }
            CentralMsg::Grant { .. } => {}
        }
        self.grant_next(out);
    }

    fn granted(&mut self, from: P, id: u64, out: &mut Out<P>) {
        let current = self.state == LockState::Wanted && id == self.id;
        if current && Some(from) == self.coordinator() {
            self.state = LockState::Held;
            out.push(Action::Enter);
        } else if !current {
            // A grant this member no longer waits for: give it straight back.
            let msg = CentralMsg::Release { id };
            if from == self.me {
                self.at_desk(self.me, msg, out);
            } else {
                self.send(from, msg, out);
            }
        }
    }
}

impl<P: MemberId> MutexAlgorithm<P> for Central<P> {
    type Msg = Sequenced<CentralMsg>;

    fn name(&self) -> &'static str {
        "central"
    }

    fn request(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Idle {
            return;
        }
        self.id += 1;
        self.state = LockState::Wanted;
        self.send_to_coordinator(CentralMsg::Request { id: self.id }, out);
    }

    fn release(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Held {
            return;
        }
        self.state = LockState::Idle;
        self.send_to_coordinator(CentralMsg::Release { id: self.id }, out);
    }

    fn on_message(&mut self, from: P, msg: Sequenced<CentralMsg>, out: &mut Out<P>) {
        if self.gone.contains(&from) {
            return;
        }
        for m in self.fifo.accept(from, msg) {
            match m {
                CentralMsg::Grant { id } => self.granted(from, id, out),
                other => self.at_desk(from, other, out),
            }
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        let old = std::mem::replace(&mut self.view, view);
        self.gone.update(&old, &self.view);
        let departed: Vec<P> = old.departed(&self.view).collect();
        for p in &departed {
            self.fifo.forget(*p);
        }
        let early = std::mem::take(&mut self.early);
        if old.highest() != self.view.highest() {
            // Only members of the old view can hold or wait for anything.
            let reporting: Vec<P> = self
                .view
                .others(self.me)
                .filter(|p| old.contains(p))
                .collect();
            self.desk = (self.view.highest() == Some(self.me)).then(|| Desk::new(reporting));
            if self.desk.is_some() {
                for (from, msg) in early {
                    if self.view.contains(&from) {
                        self.at_desk(from, msg, out);
                    }
                }
            }
            let report = CentralMsg::Recover {
                holding: (self.state == LockState::Held).then_some(self.id),
                waiting: (self.state == LockState::Wanted).then_some(self.id),
            };
            self.send_to_coordinator(report, out);
        } else if let Some(desk) = self.desk.as_mut() {
            desk.queue.retain(|(p, _)| !departed.contains(p));
            if desk.holder.is_some_and(|(p, _)| departed.contains(&p)) {
                desk.holder = None;
            }
            desk.recovering.retain(|p| !departed.contains(p));
        }
        self.grant_next(out);
    }

    fn state(&self) -> LockState {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Msgs = Vec<(u32, u32, Sequenced<CentralMsg>)>;

    /// The messages `out` asks member `from` to send.
    fn sent(from: u32, out: Out<u32>) -> Msgs {
        out.into_iter()
            .filter_map(|a| match a {
                Action::Send { to, msg } => Some((from, to, msg)),
                Action::Enter => None,
            })
            .collect()
    }

    fn entered(out: &Out<u32>) -> bool {
        out.iter().any(|a| matches!(a, Action::Enter))
    }

    #[test]
    fn a_report_that_reaches_the_new_coordinator_before_its_view_is_not_lost() {
        let v1 = View::new(1, [1, 2, 3]);
        let mut m: Vec<Central<u32>> = (1..=3).map(|i| Central::new(i, v1.clone())).collect();
        let deliver = |m: &mut Vec<Central<u32>>, msgs: Msgs| -> (Msgs, bool) {
            let (mut next, mut enter) = (Vec::new(), false);
            for (from, to, msg) in msgs {
                let mut out = Vec::new();
                m[to as usize - 1].on_message(from, msg, &mut out);
                enter |= entered(&out);
                next.extend(sent(to, out));
            }
            (next, enter)
        };
        // Member 1 takes the lock from coordinator 3; member 2 waits behind it.
        let mut out = Vec::new();
        m[0].request(&mut out);
        let (grant, _) = deliver(&mut m, sent(1, out));
        let (_, entered1) = deliver(&mut m, grant);
        assert!(entered1);
        let mut out = Vec::new();
        m[1].request(&mut out);
        deliver(&mut m, sent(2, out));
        // 3 crashes. Member 1 learns of it first and reports to 2, the new coordinator,
        // whose view still has 3: the report arrives early.
        let v2 = View::new(2, [1, 2]);
        let mut out = Vec::new();
        m[0].on_view(v2.clone(), &mut out);
        let report = sent(1, out);
        assert_eq!(report.len(), 1);
        deliver(&mut m, report);
        let mut out = Vec::new();
        m[1].on_view(v2, &mut out);
        assert!(!entered(&out), "1 still holds the lock");
        // 1 releases: 2, waiting all along, enters.
        let mut out = Vec::new();
        m[0].release(&mut out);
        let (_, entered2) = deliver(&mut m, sent(1, out));
        assert!(entered2, "the new coordinator never granted the lock");
    }

    #[test]
    fn a_member_that_joins_with_the_new_coordinator_is_not_waited_for() {
        let v1 = View::new(1, [1, 2, 3]);
        let mut two = Central::new(2, v1.clone());
        let mut one = Central::new(1, v1);
        // 3 crashes as 0 joins: 2 is the new coordinator, and 0 has nothing to report.
        let v2 = View::new(2, [0, 1, 2]);
        let mut out = Vec::new();
        one.on_view(v2.clone(), &mut out);
        let report = sent(1, out);
        let mut out = Vec::new();
        two.on_view(v2, &mut out);
        for (from, _, msg) in report {
            two.on_message(from, msg, &mut out);
        }
        // 2 asks for the lock itself: granted at once, without a report from 0.
        let mut out = Vec::new();
        two.request(&mut out);
        assert!(entered(&out));
    }
}
