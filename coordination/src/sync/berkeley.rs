//! The Berkeley algorithm (Gusella and Zatti, 1989): the master (the group's leader, its
//! highest member) polls every member, estimates each one's offset from the round trip as
//! Cristian does, averages the offsets that lie within a tolerance of their median (so a
//! clock gone wrong does not drag the others), and sends every member the correction that
//! brings it to the average. It keeps the group's clocks together, not on true time.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ClockSync, SyncAction};
use crate::view::{MemberId, View};

/// The Berkeley algorithm's messages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum BerkeleyMsg {
    /// From the master: send your clock.
    Poll {
        /// The round.
        round: u64,
    },
    /// A member's clock when it answered.
    Reading {
        /// The round.
        round: u64,
        /// Seconds.
        time: f64,
    },
    /// From the master: your clock is `by` seconds behind the group's average.
    Correct {
        /// The round.
        round: u64,
        /// The correction.
        by: f64,
        /// Its error bound.
        bound: f64,
    },
}

/// A round of polling at the master.
#[derive(Debug)]
struct Round<P> {
    number: u64,
    sent: f64,
    awaiting: BTreeSet<P>,
    /// Each member's offset from the master's clock, and its error bound.
    offsets: BTreeMap<P, (f64, f64)>,
}

/// The Berkeley algorithm at one member.
#[derive(Debug)]
pub struct Berkeley<P> {
    me: P,
    view: View<P>,
    tolerance: f64,
    min_delay: f64,
    next: u64,
    round: Option<Round<P>>,
}

type Out<P> = Vec<SyncAction<P, BerkeleyMsg>>;

impl<P: MemberId> Berkeley<P> {
    /// Member `me` of `view`; offsets further than `tolerance` seconds from the median are
    /// left out of the average; no message takes less than `min_delay` seconds one way.
    pub fn new(me: P, view: View<P>, tolerance: f64, min_delay: f64) -> Self {
        Berkeley {
            me,
            view,
            tolerance,
            min_delay,
            next: 0,
            round: None,
        }
    }

    fn finish(&mut self, out: &mut Out<P>) {
        let Some(round) = self.round.take() else {
            return;
        };
        let mut all: Vec<(P, f64, f64)> = round
            .offsets
            .iter()
            .map(|(p, (o, b))| (*p, *o, *b))
            .collect();
        all.push((self.me, 0.0, 0.0));
        let mut sorted: Vec<f64> = all.iter().map(|(_, o, _)| *o).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let kept: Vec<&(P, f64, f64)> = all
            .iter()
            .filter(|(_, o, _)| (o - median).abs() <= self.tolerance)
            .collect();
        let average = kept.iter().map(|(_, o, _)| o).sum::<f64>() / kept.len() as f64;
        let spread = kept.iter().map(|(_, _, b)| *b).fold(0.0, f64::max);
        for (p, offset, bound) in all {
            let by = average - offset;
            let bound = bound + spread;
            if p == self.me {
                out.push(SyncAction::Adjust { by, bound });
            } else {
                out.push(SyncAction::Send {
                    to: p,
                    msg: BerkeleyMsg::Correct {
                        round: round.number,
                        by,
                        bound,
                    },
                });
            }
        }
    }
}

impl<P: MemberId> ClockSync<P> for Berkeley<P> {
    type Msg = BerkeleyMsg;

    fn name(&self) -> &'static str {
        "berkeley"
    }

    fn sync(&mut self, local: f64, out: &mut Out<P>) {
        if self.view.highest() != Some(self.me) {
            return;
        }
        self.next += 1;
        let awaiting: BTreeSet<P> = self.view.others(self.me).collect();
        for p in &awaiting {
            out.push(SyncAction::Send {
                to: *p,
                msg: BerkeleyMsg::Poll { round: self.next },
            });
        }
        self.round = Some(Round {
            number: self.next,
            sent: local,
            awaiting,
            offsets: BTreeMap::new(),
        });
        if self.round.as_ref().is_some_and(|r| r.awaiting.is_empty()) {
            self.finish(out);
        }
    }

    fn on_message(&mut self, from: P, msg: BerkeleyMsg, local: f64, out: &mut Out<P>) {
        match msg {
            BerkeleyMsg::Poll { round } => out.push(SyncAction::Send {
                to: from,
                msg: BerkeleyMsg::Reading { round, time: local },
            }),
            BerkeleyMsg::Reading { round, time } => {
                let min_delay = self.min_delay;
                let Some(r) = self.round.as_mut().filter(|r| r.number == round) else {
                    return;
                };
                if !r.awaiting.remove(&from) {
                    return;
                }
                let rtt = (local - r.sent).max(0.0);
                let offset = time + rtt / 2.0 - local;
                r.offsets
                    .insert(from, (offset, (rtt / 2.0 - min_delay).max(0.0)));
                if r.awaiting.is_empty() {
                    self.finish(out);
                }
            }
            BerkeleyMsg::Correct { by, bound, .. } => {
                if Some(from) == self.view.highest() {
                    out.push(SyncAction::Adjust { by, bound });
                }
            }
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        self.view = view;
        let view = &self.view;
        if let Some(r) = self.round.as_mut() {
            r.awaiting.retain(|p| view.contains(p));
            r.offsets.retain(|p, _| view.contains(p));
            if r.awaiting.is_empty() {
                self.finish(out);
            }
        }
    }
}
