//! Quorum reads: a get asks the key's root and replicas at once and returns the newest
//! record among a majority of answers, so that a read sees every write acknowledged
//! before it (a write is acknowledged once a majority holds it) even when some replica
//! lags or is gone; when the answers hold nothing it asks the other nodes the lookup
//! named, where a write may have gone while the overlay converged. Replicas that answered
//! with less are brought up to date (read repair).

use crate::contact::{Address, Contact};
use crate::dht::app::{Cx, Dht, Op, Sent};
use crate::dht::messages::DhtMsg;
use crate::store::Record;

impl<A: Address> Op<A> {
    /// Notes a candidate's answer to a read.
    pub(crate) fn heard(&mut self, from: Contact<A>, found: Option<Record>) {
        self.answers.push((from, found.as_ref().map(|r| r.version)));
        match found {
            Some(rec) if self.best.as_ref().is_none_or(|b| rec.version > b.version) => {
                self.best = Some(rec)
            }
            Some(_) | None => {}
        }
    }

    /// Whether some candidate answered that it holds nothing.
    pub(crate) fn saw_empty(&self) -> bool {
        self.answers.iter().any(|(_, v)| v.is_none())
    }

    /// Forgets what the read heard, to look the key up again.
    pub(crate) fn restart(&mut self) {
        self.fallback = None;
        self.in_flight = 0;
        self.answers.clear();
        self.best = None;
    }
}

impl<A: Address> Dht<A> {
    /// Answers a read needs before it may return a record: a majority of the replicas.
    fn read_quorum(&self) -> usize {
        self.cfg.replication.max(1) / 2 + 1
    }

    /// Asks as many candidates as the read still needs, or finishes it.
    pub(crate) fn read_next(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        let me = ctx.me().id;
        let quorum = self.read_quorum();
        loop {
            let Some(op) = self.ops.get_mut(&tag) else {
                return;
            };
            let answered = op.answers.len();
            let nothing_left = op.candidates.is_empty();
            if op.best.is_some() && (answered >= quorum || (op.in_flight == 0 && nothing_left)) {
                self.finish_read(ctx, tag);
                return;
            }
            // Before a quorum, ask enough at once; after it, with nothing found, one more
            // at a time down the list.
            let target = match op.best {
                None if answered >= quorum => answered + 1,
                _ => quorum,
            };
            if nothing_left || op.in_flight + answered >= target {
                if nothing_left && op.in_flight == 0 {
                    self.exhausted(ctx, tag);
                }
                return;
            }
            let to = op.candidates.remove(0);
            if to.id == me {
                let here = self.store.get(&op.key).cloned();
                op.heard(to, here);
                continue;
            }
            let key = op.key;
            op.in_flight += 1;
            let id = ctx.request(to, DhtMsg::Fetch { key });
            self.sent.insert(id, Sent::Op(tag));
        }
    }

    /// Returns the newest record heard, and sends it to the replicas that answered with an
    /// older one or none.
    fn finish_read(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        let Some(op) = self.ops.get_mut(&tag) else {
            return;
        };
        let Some(best) = op.best.take() else {
            return;
        };
        tracing::debug!(key = ?op.key, version = ?best.version, answers = ?op.answers.iter().map(|(c, v)| (c.id, *v)).collect::<Vec<_>>(), "read");
        let me = ctx.me().clone();
        let behind: Vec<Contact<A>> = op
            .answers
            .iter()
            .filter(|(c, v)| op.replicas.contains(&c.id) && v.is_none_or(|v| v < best.version))
            .map(|(c, _)| c.clone())
            .collect();
        for c in behind {
            if c.id == me.id {
                self.store_records(ctx, &me, vec![best.clone()]);
                continue;
            }
            let records = vec![best.clone()];
            let id = ctx.request(c, DhtMsg::Store { records });
            self.sent.insert(id, Sent::Replicate);
        }
        self.finish(ctx, tag, Ok(best.value));
    }
}
