//! NTP's offset and delay from four timestamps (Mills): the client's send `t1`, the server's
//! receive `t2` and send `t3`, the client's receive `t4`; offset θ = ((t2 − t1) + (t3 − t4))/2
//! and delay δ = (t4 − t1) − (t3 − t2), θ being off by at most δ/2. A clock filter keeps the
//! sample of least delay out of a burst of queries (NTP's burst mode), the one least
//! disturbed by queueing.

use serde::{Deserialize, Serialize};

use super::{ClockSync, SyncAction};
use crate::view::MemberId;

/// NTP's messages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum NtpMsg {
    /// To the server, stamped with the client's send time.
    Query {
        /// Matches the answer.
        id: u64,
        /// Client's send time.
        t1: f64,
    },
    /// The server's answer with its receive and send times.
    Answer {
        /// The query's id.
        id: u64,
        /// Client's send time, echoed.
        t1: f64,
        /// Server's receive time.
        t2: f64,
        /// Server's send time.
        t3: f64,
    },
}

/// The NTP-style client (or server, which only answers).
#[derive(Debug)]
pub struct Ntp<P> {
    me: P,
    server: P,
    burst: usize,
    /// (offset, delay) of this burst's answers.
    samples: Vec<(f64, f64)>,
    pending: Option<u64>,
    next: u64,
}

type Out<P> = Vec<SyncAction<P, NtpMsg>>;

impl<P: MemberId> Ntp<P> {
    /// Member `me` synchronising with `server` from bursts of `burst` queries (NTP: 8).
    pub fn new(me: P, server: P, burst: usize) -> Self {
        Ntp {
            me,
            server,
            burst: burst.max(1),
            samples: Vec::new(),
            pending: None,
            next: 0,
        }
    }

    fn query(&mut self, local: f64, out: &mut Out<P>) {
        self.next += 1;
        self.pending = Some(self.next);
        out.push(SyncAction::Send {
            to: self.server,
            msg: NtpMsg::Query {
                id: self.next,
                t1: local,
            },
        });
    }
}

impl<P: MemberId> ClockSync<P> for Ntp<P> {
    type Msg = NtpMsg;

    fn name(&self) -> &'static str {
        "ntp"
    }

    fn sync(&mut self, local: f64, out: &mut Out<P>) {
        if self.me == self.server {
            return;
        }
        self.samples.clear();
        self.query(local, out);
    }

    fn on_message(&mut self, from: P, msg: NtpMsg, local: f64, out: &mut Out<P>) {
        match msg {
            NtpMsg::Query { id, t1 } => out.push(SyncAction::Send {
                to: from,
                msg: NtpMsg::Answer {
                    id,
                    t1,
                    t2: local,
                    t3: local,
                },
            }),
            NtpMsg::Answer { id, t1, t2, t3 } => {
                if self.pending != Some(id) || from != self.server {
                    return;
                }
                self.pending = None;
                let t4 = local;
                let offset = ((t2 - t1) + (t3 - t4)) / 2.0;
                let delay = ((t4 - t1) - (t3 - t2)).max(0.0);
                self.samples.push((offset, delay));
                if self.samples.len() < self.burst {
                    self.query(local, out);
                    return;
                }
                let (offset, delay) = self
                    .samples
                    .iter()
                    .copied()
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .expect("a full burst has samples");
                self.samples.clear();
                out.push(SyncAction::Adjust {
                    by: offset,
                    bound: delay / 2.0,
                });
            }
        }
    }
}
