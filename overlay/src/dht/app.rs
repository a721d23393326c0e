//! The DHT as an [`Application`]: operations from its user go to the key's root found by
//! a lookup, falling back along the replica set.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::app::{Application, CtxOf};
use crate::contact::{Address, Contact};
use crate::dht::config::DhtConfig;
use crate::dht::messages::{DhtCommand, DhtEvent, DhtMsg, DhtTimer};
use crate::dht::replicas::{AckTo, WriteAck};
use crate::dht::set_ops::SetOp;
use crate::dht::sets::SetStore;
use crate::error::{DhtError, LookupError, ProtocolError};
use crate::id::{Key, NodeId};
use crate::node::Phase;
use crate::routing::ReqId;
use crate::small_map::SmallMap;
use crate::store::{Record, Store, Version};
use crate::time::Time;

/// The context the DHT's handlers get.
pub(crate) type Cx<'a, 'b, A> = &'a mut CtxOf<'b, A, Dht<A>>;

/// A put (or remove) or get in progress.
#[derive(Clone, Debug)]
pub(crate) struct Op<A> {
    pub(crate) op: u64,
    pub(crate) key: Key,
    /// The value to write (`Some(None)` removes); `None` for a get.
    pub(crate) write: Option<Option<Vec<u8>>>,
    /// The root first, then the rest of the replica set; tried in order.
    pub(crate) candidates: Vec<Contact<A>>,
    pub(crate) hops: u32,
    /// Set when the lookup failed and a read falls back on the nodes this node knows
    /// closest to the key: why the lookup failed, the answer if none of them has it (a
    /// node there saying it holds nothing proves nothing).
    pub(crate) fallback: Option<LookupError>,
    /// How many times the read's lookup was tried again.
    pub(crate) retries: u32,
    /// A read's fetches in flight: it asks a quorum of candidates at once.
    pub(crate) in_flight: usize,
    /// The candidates that answered a read, with the version each held (`None`: nothing).
    pub(crate) answers: Vec<(Contact<A>, Option<Version>)>,
    /// The newest record those answers carried.
    pub(crate) best: Option<Record>,
    /// The ids of the replica set the lookup named (its first `r` nodes), which a read
    /// brings up to date with what it found.
    pub(crate) replicas: Vec<NodeId>,
}

/// What a request of the DHT was for.
#[derive(Clone, Debug)]
pub(crate) enum Sent {
    /// An operation's write or fetch (by lookup tag).
    Op(u64),
    /// A copy to a replica; nothing waits for it.
    Replicate,
    /// A copy of a write to a replica, counted towards that write's acknowledgement.
    Copy(u64),
    /// Anti-entropy offer of these keys.
    Offer(Vec<Key>),
    /// Hand-over of records while leaving.
    Handover,
    /// An announcement or read of members (by lookup tag).
    SetOp(u64),
    /// A set pushed by a node that is no longer one of its replicas.
    SetHandoff(Key),
}

/// The DHT's state on one node.
#[derive(Clone, Debug)]
pub struct Dht<A> {
    pub(crate) cfg: Arc<DhtConfig>,
    pub(crate) store: Store,
    /// Operations by the tag of their lookup.
    pub(crate) ops: SmallMap<u64, Op<A>>,
    pub(crate) sent: SmallMap<ReqId, Sent>,
    /// Keys this node is no longer a replica of, with the confirmations still needed before
    /// it may drop them.
    pub(crate) handoff: BTreeMap<Key, usize>,
    /// The same for sets: acknowledgements of pushes still needed before dropping them.
    pub(crate) set_handoff: BTreeMap<Key, usize>,
    pub(crate) repair_soon: bool,
    /// Set-valued records: members under keys, each until it expires.
    pub(crate) sets: SetStore,
    /// Announcements and reads of members by the tag of their lookup.
    pub(crate) set_ops: SmallMap<u64, SetOp<A>>,
    /// Writes this node is root of, waiting for their copies before being acknowledged.
    pub(crate) acks: SmallMap<u64, WriteAck<A>>,
    pub(crate) next_ack: u64,
    /// Until when this node's neighbourhood counts as changing (see
    /// [`DhtConfig::miss_retries`]).
    pub(crate) unsettled_until: Time,
}

impl<A> Default for Dht<A> {
    fn default() -> Self {
        Dht::new(Arc::new(DhtConfig::default()))
    }
}

impl<A> Dht<A> {
    /// A DHT with parameters `cfg` (shared among the nodes of a simulation).
    pub fn new(cfg: Arc<DhtConfig>) -> Self {
        Dht {
            cfg,
            store: Store::default(),
            ops: SmallMap::default(),
            sent: SmallMap::default(),
            handoff: BTreeMap::new(),
            set_handoff: BTreeMap::new(),
            repair_soon: false,
            sets: SetStore::default(),
            set_ops: SmallMap::default(),
            acks: SmallMap::default(),
            next_ack: 0,
            unsettled_until: Time(0),
        }
    }

    /// The records this node holds.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The record store, for a driver that persists it ([`Store::track_changes`]).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The set-valued records this node holds.
    pub fn sets(&self) -> &SetStore {
        &self.sets
    }

    /// Its parameters.
    pub fn config(&self) -> &DhtConfig {
        &self.cfg
    }
}

impl<A: Address> Dht<A> {
    fn start(&mut self, ctx: Cx<'_, '_, A>, op: u64, key: Key, write: Option<Option<Vec<u8>>>) {
        if let Some(Some(value)) = &write {
            let max = ctx.limits().max_value_bytes;
            if value.len() > max {
                let err = DhtError::TooLarge {
                    len: value.len(),
                    max,
                };
                ctx.emit(DhtEvent::PutDone {
                    op,
                    key,
                    result: Err(err),
                });
                return;
            }
        }
        let tag = ctx.lookup(key);
        self.ops.insert(
            tag,
            Op {
                op,
                key,
                write,
                candidates: Vec::new(),
                hops: 0,
                fallback: None,
                retries: 0,
                in_flight: 0,
                answers: Vec::new(),
                best: None,
                replicas: Vec::new(),
            },
        );
    }

    /// Sends the operation on: a write to the next candidate (or serves it here), a read
    /// to as many candidates as its quorum still needs.
    pub(crate) fn try_next(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        match self.ops.get(&tag) {
            Some(op) if op.write.is_none() => self.read_next(ctx, tag),
            Some(_) => self.write_next(ctx, tag),
            None => {}
        }
    }

    fn write_next(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        let me = ctx.me().id;
        let Some(op) = self.ops.get_mut(&tag) else {
            return;
        };
        if op.candidates.is_empty() {
            self.exhausted(ctx, tag);
            return;
        }
        let to = op.candidates.remove(0);
        let (key, value) = (op.key, op.write.clone().unwrap_or(None));
        if to.id == me {
            self.write_as_root(ctx, key, value, AckTo::Op(tag));
            return;
        }
        let id = ctx.request(to, DhtMsg::Write { key, value });
        self.sent.insert(id, Sent::Op(tag));
    }

    /// Every candidate was tried: retry a read whose lookup failed, else answer.
    pub(crate) fn exhausted(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        let Some(op) = self.ops.get_mut(&tag) else {
            return;
        };
        // A read that found nothing while the neighbourhood converges looks again: the
        // write may have gone to a root the reader's lookup did not reach yet.
        let unsettled_miss = op.write.is_none()
            && op.fallback.is_none()
            && ctx.now < self.unsettled_until
            && op.retries < self.cfg.miss_retries;
        if unsettled_miss || (op.fallback.is_some() && op.retries < self.cfg.read_retries) {
            // Each wait twice the last: the tables heal within a few rounds.
            let factor = 1u32.checked_shl(op.retries).unwrap_or(u32::MAX);
            let wait = self.cfg.read_retry_after.saturating_mul(factor);
            op.retries += 1;
            ctx.set_timer(wait, DhtTimer::RetryRead(tag));
            return;
        }
        let result = match (&op.write, op.fallback) {
            (_, Some(e)) => Err(DhtError::Lookup(e)),
            (None, None) if op.saw_empty() => Ok(None),
            _ => Err(DhtError::Unreachable),
        };
        if op.write.is_none() {
            tracing::debug!(key = ?op.key, ?result, answers = ?op.answers.iter().map(|(c, _)| c.id).collect::<Vec<_>>(), retries = op.retries, "read found nothing");
        }
        self.finish(ctx, tag, result);
    }

    pub(crate) fn finish(
        &mut self,
        ctx: Cx<'_, '_, A>,
        tag: u64,
        result: Result<Option<Vec<u8>>, DhtError>,
    ) {
        let Some(op) = self.ops.remove(&tag) else {
            return;
        };
        let event = match op.write {
            Some(_) => DhtEvent::PutDone {
                op: op.op,
                key: op.key,
                result: result.map(|_| ()),
            },
            None => DhtEvent::GetDone {
                op: op.op,
                key: op.key,
                result,
                hops: op.hops,
            },
        };
        ctx.emit(event);
    }

    fn op_answer(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        tag: u64,
        msg: DhtMsg,
    ) -> Result<(), ProtocolError> {
        let Some(op) = self.ops.get_mut(&tag) else {
            return Ok(());
        };
        match (op.write.is_some(), msg) {
            (true, DhtMsg::Written { .. }) => self.finish(ctx, tag, Ok(None)),
            (false, DhtMsg::Fetched(found)) if found.as_ref().is_none_or(|r| r.key == op.key) => {
                op.in_flight = op.in_flight.saturating_sub(1);
                op.heard(from.clone(), found);
                self.read_next(ctx, tag);
            }
            (write, other) => {
                // The candidate answered nonsense: count it as failed and try the next.
                if !write {
                    op.in_flight = op.in_flight.saturating_sub(1);
                }
                self.try_next(ctx, tag);
                return Err(ProtocolError::Unexpected(format!(
                    "{other:?} does not answer a DHT operation"
                )));
            }
        }
        Ok(())
    }
}

impl<A: Address> Application<A> for Dht<A> {
    type Msg = DhtMsg;
    type Timer = DhtTimer;
    type Command = DhtCommand;
    type Event = DhtEvent;
    const NAME: &'static str = "dht";

    fn on_command(&mut self, ctx: Cx<'_, '_, A>, cmd: DhtCommand) {
        match cmd {
            DhtCommand::Put { op, key, value } => self.start(ctx, op, key, Some(Some(value))),
            DhtCommand::Remove { op, key } => self.start(ctx, op, key, Some(None)),
            DhtCommand::Get { op, key } => self.start(ctx, op, key, None),
            DhtCommand::Announce {
                op,
                key,
                member,
                ttl,
            } => self.start_set_op(ctx, op, key, Some((member, ttl))),
            DhtCommand::Members { op, key } => self.start_set_op(ctx, op, key, None),
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: DhtMsg,
    ) -> Result<(), ProtocolError> {
        let answer = match msg {
            DhtMsg::Write { key, value } => {
                // Answered once enough copies are made (`ack_write`).
                self.write_as_root(ctx, key, value, AckTo::Writer(from.clone(), id));
                return Ok(());
            }
            DhtMsg::Store { records } => {
                self.store_records(ctx, from, records);
                DhtMsg::Stored
            }
            DhtMsg::Fetch { key } => DhtMsg::Fetched(self.store.get(&key).cloned()),
            DhtMsg::Offer { entries } => DhtMsg::Want {
                keys: self.wanted(ctx, &entries),
            },
            DhtMsg::Announce { key, member } => {
                self.announce_as_root(ctx, key, member);
                DhtMsg::Announced
            }
            DhtMsg::StoreMembers { key, members } => {
                self.store_members(ctx, key, members);
                DhtMsg::Stored
            }
            DhtMsg::FetchMembers { key } => DhtMsg::Members(self.sets.members(&key, ctx.now)),
            other => {
                return Err(ProtocolError::Unexpected(format!(
                    "{other:?} is not a DHT request"
                )));
            }
        };
        ctx.respond(from.clone(), id, answer);
        Ok(())
    }

    fn on_response(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: DhtMsg,
    ) -> Result<(), ProtocolError> {
        match (self.sent.remove(&id), msg) {
            (Some(Sent::Op(tag)), msg) => return self.op_answer(ctx, from, tag, msg),
            (Some(Sent::Copy(ack)), DhtMsg::Stored) => self.copy_done(ctx, ack, true),
            (Some(Sent::SetOp(tag)), msg) => return self.set_answer(ctx, tag, msg),
            (Some(Sent::Offer(keys)), DhtMsg::Want { keys: wanted }) => {
                self.on_want(ctx, from, keys, wanted)
            }
            (Some(Sent::Handover), _) => self.handover_answered(ctx),
            (Some(Sent::SetHandoff(key)), DhtMsg::Stored) => self.set_handed_off(key),
            (Some(Sent::Replicate), DhtMsg::Stored) | (None, _) => {}
            (Some(_), other) => {
                return Err(ProtocolError::Unexpected(format!(
                    "{other:?} does not answer its DHT request"
                )));
            }
        }
        Ok(())
    }

    fn on_request_failed(&mut self, ctx: Cx<'_, '_, A>, _: &Contact<A>, id: ReqId, _: bool) {
        match self.sent.remove(&id) {
            Some(Sent::Op(tag)) => {
                if let Some(op) = self.ops.get_mut(&tag)
                    && op.write.is_none()
                {
                    op.in_flight = op.in_flight.saturating_sub(1);
                }
                self.try_next(ctx, tag)
            }
            Some(Sent::Copy(ack)) => self.copy_done(ctx, ack, false),
            Some(Sent::SetOp(tag)) => self.set_next(ctx, tag),
            Some(Sent::Handover) => self.handover_answered(ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A>, timer: DhtTimer) {
        if let DhtTimer::AckWrite(ack) = timer {
            self.ack_write(ctx, ack);
            return;
        }
        if ctx.phase() != Phase::Joined {
            return;
        }
        match timer {
            DhtTimer::Repair => {
                self.repair(ctx);
                ctx.set_timer(self.cfg.repair_interval, DhtTimer::Repair);
            }
            DhtTimer::RepairSoon => {
                self.repair_soon = false;
                self.repair(ctx);
            }
            DhtTimer::AckWrite(_) => {}
            DhtTimer::RetryRead(tag) => {
                if let Some(mut op) = self.ops.remove(&tag) {
                    op.restart();
                    let tag = ctx.lookup(op.key);
                    self.ops.insert(tag, op);
                }
            }
        }
    }

    fn on_lookup_done(
        &mut self,
        ctx: Cx<'_, '_, A>,
        tag: u64,
        result: Result<Vec<Contact<A>>, LookupError>,
        hops: u32,
    ) {
        if self.is_set_op(tag) {
            self.set_lookup_done(ctx, tag, result);
            return;
        }
        let Some(op) = self.ops.get_mut(&tag) else {
            return;
        };
        op.hops = hops;
        match result {
            Ok(mut nodes) => {
                nodes.truncate(self.cfg.replication.max(1) + 2);
                op.replicas = nodes
                    .iter()
                    .take(self.cfg.replication.max(1))
                    .map(|c| c.id)
                    .collect();
                op.candidates = nodes;
                self.try_next(ctx, tag);
            }
            Err(e) if op.write.is_none() => {
                // Routing is in flux (nodes just left or failed, and the tables name them
                // still): the key's replicas are likely among the nodes this one knows
                // closest to it. Writes are not placed this way: only the root may order
                // them.
                let reach = self.cfg.replication.max(1) + 2;
                let mut nodes = ctx.overlay().local_lookup(&op.key, reach, false);
                for c in ctx.overlay().replica_set(&op.key, reach) {
                    if !nodes.iter().any(|n| n.id == c.id) {
                        nodes.push(c);
                    }
                }
                op.candidates = nodes;
                op.fallback = Some(e);
                self.try_next(ctx, tag);
            }
            Err(e) => self.finish(ctx, tag, Err(DhtError::Lookup(e))),
        }
    }

    /// The neighbour set changed: run a repair pass soon, so new replica-set members get
    /// their keys (hand-over on join) and lost copies are made again (repair on failure).
    fn update(&mut self, ctx: Cx<'_, '_, A>, _: &Contact<A>, _: bool) {
        self.unsettled_until = ctx.now + self.cfg.unsettled_after_change;
        let holds_something = !self.store.is_empty() || !self.sets.is_empty();
        if !self.repair_soon && holds_something {
            self.repair_soon = true;
            ctx.set_timer(self.cfg.repair_after_change, DhtTimer::RepairSoon);
        }
    }

    fn on_joined(&mut self, ctx: Cx<'_, '_, A>) {
        self.unsettled_until = ctx.now + self.cfg.unsettled_after_change;
        ctx.set_timer(self.cfg.repair_interval, DhtTimer::Repair);
    }

    fn on_leave(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        self.hand_over(ctx)
    }
}
