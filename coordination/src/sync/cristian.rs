//! Cristian's algorithm (1989): ask a time server, and take its answer plus half the round
//! trip. The estimate is off by at most half the round trip minus the least one-way delay.

use serde::{Deserialize, Serialize};

use super::{ClockSync, SyncAction};
use crate::view::MemberId;

/// Cristian's messages.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum CristianMsg {
    /// To the server: what time is it?
    Ask {
        /// Matches the answer.
        id: u64,
    },
    /// The server's clock when it answered.
    Time {
        /// The question's id.
        id: u64,
        /// Seconds.
        time: f64,
    },
}

/// Cristian's algorithm at a client (or at the server, which only answers).
#[derive(Debug)]
pub struct Cristian<P> {
    me: P,
    server: P,
    min_delay: f64,
    /// The question in flight and the local time it left.
    pending: Option<(u64, f64)>,
    next: u64,
}

type Out<P> = Vec<SyncAction<P, CristianMsg>>;

impl<P: MemberId> Cristian<P> {
    /// Member `me` synchronising with `server`, where no message takes less than
    /// `min_delay` seconds one way (0 if unknown).
    pub fn new(me: P, server: P, min_delay: f64) -> Self {
        Cristian {
            me,
            server,
            min_delay,
            pending: None,
            next: 0,
        }
    }
}

impl<P: MemberId> ClockSync<P> for Cristian<P> {
    type Msg = CristianMsg;

    fn name(&self) -> &'static str {
        "cristian"
    }

    fn sync(&mut self, local: f64, out: &mut Out<P>) {
        if self.me == self.server {
            return;
        }
        self.next += 1;
        self.pending = Some((self.next, local));
        out.push(SyncAction::Send {
            to: self.server,
            msg: CristianMsg::Ask { id: self.next },
        });
    }

    fn on_message(&mut self, from: P, msg: CristianMsg, local: f64, out: &mut Out<P>) {
        match msg {
            CristianMsg::Ask { id } => out.push(SyncAction::Send {
                to: from,
                msg: CristianMsg::Time { id, time: local },
            }),
            CristianMsg::Time { id, time } => {
                let Some((_, sent)) = self
                    .pending
                    .filter(|(asked, _)| *asked == id && from == self.server)
                else {
                    return;
                };
                self.pending = None;
                let rtt = (local - sent).max(0.0);
                out.push(SyncAction::Adjust {
                    by: time + rtt / 2.0 - local,
                    bound: (rtt / 2.0 - self.min_delay).max(0.0),
                });
            }
        }
    }
}
