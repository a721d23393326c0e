//! Where the DHT's records live: the root's versioned writes and their copies, repair by
//! anti-entropy with the replica set, and hand-over when a node leaves.

use std::collections::BTreeMap;

use crate::contact::{Address, Contact};
use crate::dht::app::{Cx, Dht, Sent};
use crate::dht::messages::{DhtMsg, DhtTimer};
use crate::id::Key;
use crate::routing::ReqId;
use crate::store::{Record, Version};
use crate::time::Time;

/// Whom a write is acknowledged to.
#[derive(Clone, Debug)]
pub(crate) enum AckTo<A> {
    /// A writer elsewhere, whose `Write` request this is.
    Writer(Contact<A>, ReqId),
    /// This node's own put or remove, by its lookup tag.
    Op(u64),
}

/// A write waiting for its copies before it is acknowledged.
#[derive(Clone, Debug)]
pub(crate) struct WriteAck<A> {
    to: AckTo<A>,
    version: Version,
    /// Copies still to be confirmed.
    need: usize,
    /// Copies not answered yet.
    outstanding: usize,
}

impl<A: Address> Dht<A> {
    /// A write reached its root (or the replica standing in for it): it gets a version
    /// later than the node's clock and than every version held for the key (a hybrid
    /// logical clock), so a write acknowledged after another always outranks it even when
    /// the writers' or roots' clocks disagree. Stored, then copied to the replica set; `to`
    /// is acknowledged once a majority of the replica set holds it (quorum reads then see
    /// it), or once every copy has been answered, or after `write_ack_wait`.
    pub(crate) fn write_as_root(
        &mut self,
        ctx: Cx<'_, '_, A>,
        key: Key,
        value: Option<Vec<u8>>,
        to: AckTo<A>,
    ) {
        let me = ctx.me().id;
        let held = self
            .store
            .version(&key)
            .map_or(0, |v| v.time.saturating_add(1));
        let version = Version {
            time: ctx.now.0.max(held),
            writer: me,
        };
        let record = Record {
            key,
            version,
            value,
        };
        let ack = self.next_ack;
        self.next_ack += 1;
        let mut copies = 0;
        if self.store.merge(record.clone()) {
            let r = self.cfg.replication;
            let set = ctx.overlay().replica_set(&key, r);
            tracing::debug!(?key, ?version, set = ?set.iter().map(|c| c.id).collect::<Vec<_>>(), "written as root");
            for c in set {
                if c.id != me {
                    let id = ctx.request(
                        c,
                        DhtMsg::Store {
                            records: vec![record.clone()],
                        },
                    );
                    self.sent.insert(id, Sent::Copy(ack));
                    copies += 1;
                }
            }
        }
        let need = (self.cfg.replication.max(1) / 2).min(copies);
        self.acks.insert(
            ack,
            WriteAck {
                to,
                version,
                need,
                outstanding: copies,
            },
        );
        if need == 0 {
            self.ack_write(ctx, ack);
        } else {
            ctx.set_timer(self.cfg.write_ack_wait, DhtTimer::AckWrite(ack));
        }
    }

    /// A copy of write `ack` was stored (`ok`) or failed.
    pub(crate) fn copy_done(&mut self, ctx: Cx<'_, '_, A>, ack: u64, ok: bool) {
        let Some(w) = self.acks.get_mut(&ack) else {
            return;
        };
        w.outstanding = w.outstanding.saturating_sub(1);
        if ok {
            w.need = w.need.saturating_sub(1);
        }
        if w.need == 0 || w.outstanding == 0 {
            self.ack_write(ctx, ack);
        }
    }

    /// Acknowledges write `ack` (once).
    pub(crate) fn ack_write(&mut self, ctx: Cx<'_, '_, A>, ack: u64) {
        let Some(w) = self.acks.remove(&ack) else {
            return;
        };
        match w.to {
            AckTo::Writer(writer, id) => {
                ctx.respond(writer, id, DhtMsg::Written { version: w.version })
            }
            AckTo::Op(tag) => self.finish(ctx, tag, Ok(None)),
        }
    }

    /// The latest version a peer may show: this node's clock plus the allowed drift.
    fn latest_acceptable(&self, now: Time) -> u64 {
        now.0
            .saturating_add(self.cfg.max_clock_ahead.as_micros() as u64)
    }

    /// Copies arrived (replication, repair, hand-over); versions too far in the future are
    /// refused. New ones are passed on at once (see [`Dht::pass_on`]).
    pub(crate) fn store_records(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        records: Vec<Record>,
    ) {
        let latest = self.latest_acceptable(ctx.now);
        let mut fresh = Vec::new();
        for rec in records {
            if rec.version.time > latest {
                tracing::warn!(key = ?rec.key, from = ?from.id, "refused a record versioned too far in the future");
                continue;
            }
            let (key, version) = (rec.key, rec.version);
            if self.store.merge(rec) {
                fresh.push((key, version));
            }
        }
        self.pass_on(ctx, from, fresh);
    }

    /// Offers records that just arrived from `from` to the rest of their replica set as this
    /// node sees it, when `from` is not in that set. A copy from outside the set means the
    /// set has moved (nodes joined nearer the key than its holders): passing it on at once
    /// carries it to the new root at network speed, where waiting for each node's next
    /// repair would move it one node per repair period, slower than a fast-growing overlay
    /// adds nodes in front of it. Copies from inside the set (a root replicating a write)
    /// are not passed on: their sender copies to the whole set itself.
    fn pass_on(&mut self, ctx: Cx<'_, '_, A>, from: &Contact<A>, fresh: Vec<(Key, Version)>) {
        let me = ctx.me().id;
        if from.id == me {
            return;
        }
        let r = self.cfg.replication;
        let mut offers: BTreeMap<Contact<A>, Vec<(Key, Version)>> = BTreeMap::new();
        for (key, version) in fresh {
            let set = ctx.overlay().replica_set(&key, r);
            if set.iter().any(|c| c.id == from.id) {
                continue;
            }
            for c in set.into_iter().filter(|c| c.id != me) {
                offers.entry(c).or_default().push((key, version));
            }
        }
        self.send_offers(ctx, offers);
    }

    /// Offers each contact the versions listed for it; it asks for what it lacks.
    fn send_offers(
        &mut self,
        ctx: Cx<'_, '_, A>,
        offers: BTreeMap<Contact<A>, Vec<(Key, Version)>>,
    ) {
        for (to, entries) in offers {
            for chunk in entries.chunks(ctx.limits().max_list) {
                let keys = chunk.iter().map(|(k, _)| *k).collect();
                let id = ctx.request(
                    to.clone(),
                    DhtMsg::Offer {
                        entries: chunk.to_vec(),
                    },
                );
                self.sent.insert(id, Sent::Offer(keys));
            }
        }
    }

    /// Of the offered versions, the keys this node lacks or holds older (and will accept).
    pub(crate) fn wanted(&self, ctx: Cx<'_, '_, A>, entries: &[(Key, Version)]) -> Vec<Key> {
        let latest = self.latest_acceptable(ctx.now);
        entries
            .iter()
            .filter(|(k, v)| v.time <= latest && self.store.version(k).is_none_or(|mine| mine < *v))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Sends `records` to `to` in messages of at most the list limit.
    fn send_records(&mut self, ctx: Cx<'_, '_, A>, to: &Contact<A>, records: &[Record], why: Sent) {
        for chunk in records.chunks(ctx.limits().max_list) {
            let id = ctx.request(
                to.clone(),
                DhtMsg::Store {
                    records: chunk.to_vec(),
                },
            );
            self.sent.insert(id, why.clone());
        }
    }

    /// A replica answered an offer: send what it wants; count the rest as confirmed held,
    /// and drop keys this node only kept until their replica set confirmed them.
    pub(crate) fn on_want(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        offered: Vec<Key>,
        wanted: Vec<Key>,
    ) {
        let records: Vec<Record> = wanted
            .iter()
            .filter(|k| offered.contains(k))
            .filter_map(|k| self.store.get(k).cloned())
            .collect();
        self.send_records(ctx, from, &records, Sent::Replicate);
        for k in offered.iter().filter(|k| !wanted.contains(k)) {
            if let Some(left) = self.handoff.get_mut(k) {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.handoff.remove(k);
                    self.store.drop_key(k);
                }
            }
        }
    }

    /// Anti-entropy: offer each record's version to the other members of its replica set;
    /// they ask for what they lack. A record whose replica set no longer includes this node
    /// is dropped once every member confirmed holding it.
    pub(crate) fn repair(&mut self, ctx: Cx<'_, '_, A>) {
        let me = ctx.me().id;
        let r = self.cfg.replication;
        let expire_before = Time(
            ctx.now
                .0
                .saturating_sub(self.cfg.tombstone_ttl.as_micros() as u64),
        );
        self.store.expire_tombstones(expire_before);
        self.handoff.clear();
        let mut offers: BTreeMap<Contact<A>, Vec<(Key, Version)>> = BTreeMap::new();
        for rec in self.store.iter() {
            let set = ctx.overlay().replica_set(&rec.key, r);
            let member = set.iter().any(|c| c.id == me);
            let others: Vec<_> = set.into_iter().filter(|c| c.id != me).collect();
            if !member && !others.is_empty() {
                // Not a replica any more: keep it until every member confirms.
                self.handoff.insert(rec.key, others.len());
            }
            for c in others {
                offers.entry(c).or_default().push((rec.key, rec.version));
            }
        }
        self.send_offers(ctx, offers);
        self.repair_sets(ctx);
    }

    /// Leaving: copies every record, and every set, to its replica set one rank deeper (so
    /// the set keeps `r` copies without this node). Returns whether nothing had to be sent.
    pub(crate) fn hand_over(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        let me = ctx.me().id;
        let r = self.cfg.replication;
        let mut batches: BTreeMap<Contact<A>, Vec<Record>> = BTreeMap::new();
        for rec in self.store.iter() {
            for c in ctx.overlay().replica_set(&rec.key, r + 1) {
                if c.id != me {
                    batches.entry(c).or_default().push(rec.clone());
                }
            }
        }
        for (to, records) in &batches {
            self.send_records(ctx, to, records, Sent::Handover);
        }
        let no_sets = self.hand_over_sets(ctx);
        batches.is_empty() && no_sets
    }

    /// A hand-over copy was acknowledged or failed: the node may leave once none is left.
    pub(crate) fn handover_answered(&mut self, ctx: Cx<'_, '_, A>) {
        if !self.sent.values().any(|s| matches!(s, Sent::Handover)) {
            ctx.leave_done();
        }
    }
}
