//! The DHT over any routing algorithm: `put`/`get`/`remove` on the replica set, hand-over
//! when the replica set changes, and anti-entropy repair after failures.

use std::collections::BTreeMap;

use crate::contact::Contact;
use crate::error::{DhtError, LookupError};
use crate::id::Key;
use crate::io::{Ctx, Event, NodeTimer, Output};
use crate::lookup::Owner;
use crate::node::{Node, Purpose};
use crate::routing::Routing;
use crate::small_map::SmallMap;
use crate::store::{Record, Store, Version};
use crate::wire::{Request, Response};

/// A put (or remove) or get in progress.
#[derive(Clone, Debug)]
pub(crate) struct Op<A> {
    op: u64,
    key: Key,
    /// The record to write; `None` for a get.
    write: Option<Record>,
    /// The root first, then the rest of the replica set; tried in order.
    candidates: Vec<Contact<A>>,
    hops: u32,
    /// Whether some replica answered that it holds nothing.
    saw_empty: bool,
}

/// The DHT's state on one node.
#[derive(Clone, Debug)]
pub(crate) struct Dht<A> {
    pub(crate) store: Store,
    ops: SmallMap<u64, Op<A>>,
    /// Keys this node is no longer a replica of, with the confirmations still needed before
    /// it may drop them.
    handoff: BTreeMap<Key, usize>,
    pub(crate) repair_soon: bool,
}

impl<A> Default for Dht<A> {
    fn default() -> Self {
        Dht {
            store: Store::default(),
            ops: SmallMap::default(),
            handoff: BTreeMap::new(),
            repair_soon: false,
        }
    }
}

impl<R: Routing> Node<R> {
    /// Starts a put (`value` is `Some`) or a remove (a tombstone).
    pub(crate) fn dht_put(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        op: u64,
        key: Key,
        value: Option<Vec<u8>>,
    ) {
        let len = value.as_ref().map_or(0, Vec::len);
        if len > self.cfg.limits.max_value_bytes {
            let err = DhtError::TooLarge {
                len,
                max: self.cfg.limits.max_value_bytes,
            };
            ctx.out.push(Output::Event(Event::PutDone {
                op,
                key,
                result: Err(err),
            }));
            return;
        }
        let record = Record {
            key,
            version: Version::new(ctx.now, self.me().id),
            value,
        };
        self.dht_start(ctx, op, key, Some(record));
    }

    /// Starts a get.
    pub(crate) fn dht_get(&mut self, ctx: &mut Ctx<'_, R>, op: u64, key: Key) {
        self.dht_start(ctx, op, key, None);
    }

    fn dht_start(&mut self, ctx: &mut Ctx<'_, R>, op: u64, key: Key, write: Option<Record>) {
        self.next_id += 1;
        let internal = self.next_id;
        self.dht.ops.insert(
            internal,
            Op {
                op,
                key,
                write,
                candidates: Vec::new(),
                hops: 0,
                saw_empty: false,
            },
        );
        self.start_lookup(ctx, key, Owner::Dht(internal), None);
    }

    pub(crate) fn dht_lookup_done(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        internal: u64,
        result: Result<Vec<Contact<R::Addr>>, LookupError>,
        hops: u32,
    ) {
        let Some(op) = self.dht.ops.get_mut(&internal) else {
            return;
        };
        op.hops = hops;
        match result {
            Ok(mut nodes) => {
                nodes.truncate(self.cfg.replication.max(1) + 2);
                op.candidates = nodes;
                self.dht_try_next(ctx, internal);
            }
            Err(e) => self.dht_finish(ctx, internal, Err(DhtError::Lookup(e))),
        }
    }

    /// Sends the operation to the next candidate replica, or serves it locally.
    fn dht_try_next(&mut self, ctx: &mut Ctx<'_, R>, internal: u64) {
        let me = self.me().id;
        loop {
            let Some(op) = self.dht.ops.get_mut(&internal) else {
                return;
            };
            if op.candidates.is_empty() {
                let result = match op.write {
                    None if op.saw_empty => Ok(None),
                    _ => Err(DhtError::Unreachable),
                };
                self.dht_finish(ctx, internal, result);
                return;
            }
            let to = op.candidates.remove(0);
            if to.id != me {
                let body = match &op.write {
                    Some(rec) => Request::Store {
                        records: vec![rec.clone()],
                        replicate: true,
                    },
                    None => Request::Fetch { key: op.key },
                };
                self.request(ctx, to, body, Purpose::DhtOp(internal));
                return;
            }
            // This node is the candidate: serve it here.
            match op.write.clone() {
                Some(rec) => {
                    self.dht_on_store(ctx, vec![rec], true);
                    self.dht_finish(ctx, internal, Ok(None));
                    return;
                }
                None => {
                    if let Some(rec) = self.dht.store.get(&op.key) {
                        let value = rec.value.clone();
                        self.dht_finish(ctx, internal, Ok(value));
                        return;
                    }
                    op.saw_empty = true;
                }
            }
        }
    }

    pub(crate) fn dht_op_answer(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        internal: u64,
        body: Response<R::Addr, R::Msg>,
    ) {
        match body {
            Response::Ack => self.dht_finish(ctx, internal, Ok(None)),
            Response::Fetched(Some(rec)) => {
                let key_matches = self
                    .dht
                    .ops
                    .get(&internal)
                    .is_some_and(|op| op.key == rec.key);
                if key_matches {
                    self.dht_finish(ctx, internal, Ok(rec.value))
                } else {
                    self.dht_op_failed(ctx, internal)
                }
            }
            Response::Fetched(None) => {
                if let Some(op) = self.dht.ops.get_mut(&internal) {
                    op.saw_empty = true;
                }
                self.dht_try_next(ctx, internal);
            }
            _ => self.dht_op_failed(ctx, internal),
        }
    }

    pub(crate) fn dht_op_failed(&mut self, ctx: &mut Ctx<'_, R>, internal: u64) {
        self.dht_try_next(ctx, internal);
    }

    fn dht_finish(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        internal: u64,
        result: Result<Option<Vec<u8>>, DhtError>,
    ) {
        let Some(op) = self.dht.ops.remove(&internal) else {
            return;
        };
        let event = match op.write {
            Some(_) => Event::PutDone {
                op: op.op,
                key: op.key,
                result: result.map(|_| ()),
            },
            None => Event::GetDone {
                op: op.op,
                key: op.key,
                result,
                hops: op.hops,
            },
        };
        ctx.out.push(Output::Event(event));
    }

    /// Records arrived; a root asked to `replicate` copies the new ones to its replica set.
    pub(crate) fn dht_on_store(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        records: Vec<Record>,
        replicate: bool,
    ) {
        let me = self.me().id;
        let r = self.cfg.replication;
        let mut copies: BTreeMap<Contact<R::Addr>, Vec<Record>> = BTreeMap::new();
        for rec in records {
            if !self.dht.store.merge(rec.clone()) || !replicate {
                continue;
            }
            for c in self.routing.replica_set(&rec.key, r) {
                if c.id != me {
                    copies.entry(c).or_default().push(rec.clone());
                }
            }
        }
        for (to, recs) in copies {
            let body = Request::Store {
                records: recs,
                replicate: false,
            };
            self.request(ctx, to, body, Purpose::Replicate);
        }
    }

    /// Of the offered versions, the keys this node lacks or holds older.
    pub(crate) fn dht_wanted(&self, entries: &[(Key, Version)]) -> Vec<Key> {
        entries
            .iter()
            .filter(|(k, v)| self.dht.store.version(k).is_none_or(|mine| mine < *v))
            .map(|(k, _)| *k)
            .collect()
    }

    /// A replica answered an offer: send what it wants; count the rest as confirmed held,
    /// and drop keys this node only kept until their replica set confirmed them.
    pub(crate) fn dht_on_want(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        from: &Contact<R::Addr>,
        offered: Vec<Key>,
        wanted: Vec<Key>,
    ) {
        let records: Vec<Record> = wanted
            .iter()
            .filter(|k| offered.contains(k))
            .filter_map(|k| self.dht.store.get(k).cloned())
            .collect();
        for chunk in records.chunks(self.cfg.limits.max_list) {
            let body = Request::Store {
                records: chunk.to_vec(),
                replicate: false,
            };
            self.request(ctx, from.clone(), body, Purpose::Replicate);
        }
        for k in offered.iter().filter(|k| !wanted.contains(k)) {
            if let Some(left) = self.dht.handoff.get_mut(k) {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.dht.handoff.remove(k);
                    self.dht.store.drop_key(k);
                }
            }
        }
    }

    /// The neighbour set changed: run a repair pass soon, so new replica-set members get
    /// their keys (hand-over on join) and lost copies are made again (repair on failure).
    pub(crate) fn dht_on_update(&mut self, ctx: &mut Ctx<'_, R>) {
        if !self.dht.repair_soon && !self.dht.store.is_empty() {
            self.dht.repair_soon = true;
            ctx.out.push(Output::Timer {
                after: self.cfg.repair_after_change,
                timer: NodeTimer::RepairSoon,
            });
        }
    }

    /// Anti-entropy: offer each record's version to the other members of its replica set;
    /// they ask for what they lack. A record whose replica set no longer includes this node
    /// is dropped once every member confirmed holding it.
    pub(crate) fn repair(&mut self, ctx: &mut Ctx<'_, R>) {
        let me = self.me().id;
        let r = self.cfg.replication;
        let expire_before = crate::time::Time(
            ctx.now
                .0
                .saturating_sub(self.cfg.tombstone_ttl.as_micros() as u64),
        );
        self.dht.store.expire_tombstones(expire_before);
        self.dht.handoff.clear();
        let mut offers: BTreeMap<Contact<R::Addr>, Vec<(Key, Version)>> = BTreeMap::new();
        for rec in self.dht.store.iter() {
            let set = self.routing.replica_set(&rec.key, r);
            let member = set.iter().any(|c| c.id == me);
            let others: Vec<_> = set.into_iter().filter(|c| c.id != me).collect();
            if !member && !others.is_empty() {
                // Not a replica any more: keep it until every member confirms.
                self.dht.handoff.insert(rec.key, others.len());
            }
            for c in others {
                offers.entry(c).or_default().push((rec.key, rec.version));
            }
        }
        for (to, entries) in offers {
            for chunk in entries.chunks(self.cfg.limits.max_list) {
                let keys = chunk.iter().map(|(k, _)| *k).collect();
                let body = Request::Offer {
                    entries: chunk.to_vec(),
                };
                self.request(ctx, to.clone(), body, Purpose::Offer(keys));
            }
        }
    }
}
