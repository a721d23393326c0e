//! One overlay node: a routing algorithm plus the parts every algorithm shares (requests
//! and timeouts, iterative lookup, `route`, the DHT), as one sans-IO state machine.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::app::Application;
use crate::config::NodeConfig;
use crate::contact::Contact;
use crate::dht::Dht;
use crate::error::{DecodeError, ProtocolError};
use crate::io::{Command, Ctx, Event, Input, NodeTimer, Output};
use crate::lookup::Lookup;
use crate::routing::{Action, Out, ReqId, Routing};
use crate::small_map::SmallMap;
use crate::time::Time;
use crate::wire::{Request, Response, Wire, WireOf};

/// Why an outgoing request was sent: where its response or failure goes.
#[derive(Clone, Debug)]
pub(crate) enum Purpose {
    /// The routing algorithm's own request.
    Routing,
    /// A query of an iterative lookup.
    Lookup(u64),
    /// A DHT operation's store or fetch.
    DhtOp(u64),
    /// A copy to a replica; nothing waits for it.
    Replicate,
    /// Anti-entropy offer of these keys.
    Offer(Vec<crate::id::Key>),
    /// Hand-over of data while leaving.
    Handover,
    /// A routed message, kept to retry another next hop if this one fails.
    Route {
        key: crate::id::Key,
        payload: Vec<u8>,
        hops: u32,
    },
}

/// A request waiting for its response.
#[derive(Clone, Debug)]
pub(crate) struct Pending<A> {
    pub(crate) to: Contact<A>,
    /// When the request counts as failed.
    pub(crate) deadline: Time,
    pub(crate) purpose: Purpose,
}

/// Where a node is in its life cycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Created, not started.
    Idle,
    /// Joining.
    Joining,
    /// Routing and serving.
    Joined,
    /// Handing data over before leaving.
    Leaving,
    /// Gone.
    Left,
}

/// Counters of one node.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct NodeStats {
    /// Messages sent (requests and responses).
    pub messages_sent: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Messages rejected as malformed, invalid or unexpected.
    pub rejected: u64,
}

/// A node of routing algorithm `R` with the DHT on top.
pub struct Node<R: Routing> {
    pub(crate) routing: R,
    /// Shared among the nodes of one simulation: a million copies would cost 100 MiB.
    pub(crate) cfg: Arc<NodeConfig>,
    pub(crate) phase: Phase,
    pub(crate) next_id: u64,
    pub(crate) pending: SmallMap<ReqId, Pending<R::Addr>>,
    pub(crate) lookups: SmallMap<u64, Lookup<R::Addr>>,
    pub(crate) dht: Dht<R::Addr>,
    pub(crate) stats: NodeStats,
    /// When the armed request-timeout timer fires, if one is armed. One timer per node
    /// serves every pending request.
    timeout_armed: Option<Time>,
    pub(crate) app: Option<Box<dyn Application<R::Addr>>>,
    scratch: Vec<Action<R::Addr, R::Msg, R::Timer>>,
}

impl<R: Routing> fmt::Debug for Node<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("routing", &self.routing)
            .field("phase", &self.phase)
            .field("next_id", &self.next_id)
            .field("pending", &self.pending)
            .field("lookups", &self.lookups)
            .field("dht", &self.dht)
            .finish()
    }
}

impl<R: Routing> Node<R> {
    /// A node that has not joined yet.
    pub fn new(me: Contact<R::Addr>, routing: &R::Config, cfg: NodeConfig) -> Self {
        Self::with_routing(R::new(me, routing), cfg)
    }

    /// A node around an already-built routing state (the simulator's oracle build).
    /// `cfg` may be shared with other nodes.
    pub fn with_routing(routing: R, cfg: impl Into<Arc<NodeConfig>>) -> Self {
        Node {
            routing,
            dht: Dht::default(),
            cfg: cfg.into(),
            phase: Phase::Idle,
            next_id: 0,
            pending: SmallMap::default(),
            lookups: SmallMap::default(),
            stats: NodeStats::default(),
            timeout_armed: None,
            app: None,
            scratch: Vec::new(),
        }
    }

    /// Marks a node built with [`Node::with_routing`] as joined and arms its timers, without
    /// any messages (its tables are already complete).
    pub fn start_prebuilt(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        routing_timers: Vec<(Duration, R::Timer)>,
    ) {
        self.phase = Phase::Joined;
        for (after, timer) in routing_timers {
            ctx.out.push(Output::Timer {
                after,
                timer: NodeTimer::Routing(timer),
            });
        }
        self.arm_repair(ctx);
    }

    /// Installs the application that receives the `forward`, `deliver` and `update` up-calls.
    pub fn set_application(&mut self, app: Box<dyn Application<R::Addr>>) {
        self.app = Some(app);
    }

    /// This node.
    pub fn me(&self) -> &Contact<R::Addr> {
        self.routing.me()
    }

    /// The routing algorithm's state.
    pub fn routing(&self) -> &R {
        &self.routing
    }

    /// The records this node holds.
    pub fn store(&self) -> &crate::store::Store {
        &self.dht.store
    }

    /// The record store, for a driver that persists it ([`crate::store::Store::track_changes`]).
    pub fn store_mut(&mut self) -> &mut crate::store::Store {
        &mut self.dht.store
    }

    /// A request sent by this node cannot reach its peer (the driver found it unreachable
    /// before the timeout): handled at once as a timeout.
    pub fn request_unreachable(&mut self, ctx: &mut Ctx<'_, R>, id: ReqId) {
        if let Some(p) = self.pending.remove(&id) {
            self.stats.timeouts += 1;
            self.request_failed(ctx, id, p);
        }
    }

    /// Where the node is in its life cycle.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Counters.
    pub fn stats(&self) -> NodeStats {
        self.stats
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }

    /// Decodes a message from the network, validates it and handles it. A malformed,
    /// oversized or invalid message is rejected with an error and changes no state.
    pub fn handle_bytes(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        from: Contact<R::Addr>,
        bytes: &[u8],
    ) -> Result<(), NodeError> {
        if self.phase == Phase::Left {
            return Ok(());
        }
        // `decode` has validated the message already.
        let msg = match WireOf::<R>::decode(bytes, &self.cfg.limits) {
            Ok(m) => m,
            Err(e) => {
                self.stats.rejected += 1;
                return Err(e.into());
            }
        };
        self.on_valid_message(ctx, from, msg)
    }

    /// Handles one input.
    pub fn handle(&mut self, ctx: &mut Ctx<'_, R>, input: Input<R>) -> Result<(), NodeError> {
        if self.phase == Phase::Left {
            return Ok(());
        }
        match input {
            Input::Message { from, msg } => {
                if let Err(e) = msg.validate(&self.cfg.limits) {
                    self.stats.rejected += 1;
                    return Err(ProtocolError::from(e).into());
                }
                self.on_valid_message(ctx, from, msg)
            }
            Input::Timer(t) => {
                self.on_timer(ctx, t);
                Ok(())
            }
            Input::Command(c) => {
                self.on_command(ctx, c);
                Ok(())
            }
        }
    }

    fn on_valid_message(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        from: Contact<R::Addr>,
        msg: WireOf<R>,
    ) -> Result<(), NodeError> {
        let result = match msg {
            Wire::Request { id, body } => self.on_request(ctx, from, id, body),
            Wire::Response { id, body } => self.on_response(ctx, from, id, body),
        };
        if result.is_err() {
            self.stats.rejected += 1;
        }
        result.map_err(NodeError::from)
    }

    fn on_command(&mut self, ctx: &mut Ctx<'_, R>, cmd: Command<R::Addr>) {
        match cmd {
            Command::Join { bootstrap } => {
                if self.phase == Phase::Idle {
                    self.phase = Phase::Joining;
                    self.call_routing(ctx, |r, out| r.join(out, bootstrap));
                }
            }
            Command::Leave => self.leave(ctx),
            Command::Lookup { op, key } => {
                self.start_lookup(ctx, key, crate::lookup::Owner::User(op), None)
            }
            Command::Put { op, key, value } => self.dht_put(ctx, op, key, Some(value)),
            Command::Remove { op, key } => self.dht_put(ctx, op, key, None),
            Command::Get { op, key } => self.dht_get(ctx, op, key),
            Command::Route { key, payload } => self.route_forward(ctx, key, payload, 0),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, R>, timer: NodeTimer<R::Timer>) {
        match timer {
            NodeTimer::Routing(t) => {
                if matches!(self.phase, Phase::Joining | Phase::Joined) {
                    self.call_routing(ctx, |r, out| r.on_timer(out, t));
                }
            }
            NodeTimer::RequestTimeouts => {
                self.timeout_armed = None;
                let expired: Vec<ReqId> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| p.deadline <= ctx.now)
                    .map(|(id, _)| *id)
                    .collect();
                for id in expired {
                    if let Some(p) = self.pending.remove(&id) {
                        self.stats.timeouts += 1;
                        self.request_failed(ctx, id, p);
                    }
                }
                if let Some(next) = self.pending.values().map(|p| p.deadline).min() {
                    self.arm_timeout(ctx, next);
                }
            }
            NodeTimer::Repair => {
                if self.phase == Phase::Joined {
                    self.repair(ctx);
                    self.arm_repair(ctx);
                }
            }
            NodeTimer::RepairSoon => {
                self.dht.repair_soon = false;
                if self.phase == Phase::Joined {
                    self.repair(ctx);
                }
            }
        }
    }

    pub(crate) fn arm_repair(&mut self, ctx: &mut Ctx<'_, R>) {
        ctx.out.push(Output::Timer {
            after: self.cfg.repair_interval,
            timer: NodeTimer::Repair,
        });
    }

    fn on_request(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        from: Contact<R::Addr>,
        id: ReqId,
        body: Request<R::Msg>,
    ) -> Result<(), ProtocolError> {
        if let Request::Routing(msg) = body {
            let result = self.call_routing(ctx, |r, out| r.on_request(out, &from, id, msg));
            if matches!(result, Err(ProtocolError::NotJoined)) && self.phase == Phase::Joining {
                self.respond(ctx, from, id, Response::Unavailable);
                return Ok(());
            }
            return result;
        }
        if self.phase != Phase::Joined {
            self.respond(ctx, from, id, Response::Unavailable);
            return Ok(());
        }
        match body {
            Request::Routing(_) => unreachable!("handled above"),
            Request::FindNext { key, avoid } => {
                let step = self
                    .routing
                    .step_avoiding(&key, self.cfg.step_width, &avoid);
                self.respond(ctx, from, id, Response::Next(step));
            }
            Request::Route { key, payload, hops } => {
                self.respond(ctx, from, id, Response::Ack);
                self.route_forward(ctx, key, payload, hops);
            }
            Request::Store { records, replicate } => {
                self.dht_on_store(ctx, records, replicate);
                self.respond(ctx, from, id, Response::Ack);
            }
            Request::Fetch { key } => {
                let rec = self.dht.store.get(&key).cloned();
                self.respond(ctx, from, id, Response::Fetched(rec));
            }
            Request::Offer { entries } => {
                let keys = self.dht_wanted(&entries);
                self.respond(ctx, from, id, Response::Want { keys });
            }
        }
        Ok(())
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        from: Contact<R::Addr>,
        id: ReqId,
        body: Response<R::Addr, R::Msg>,
    ) -> Result<(), ProtocolError> {
        // Only the peer the request went to may answer it; anything else is rejected before
        // any state changes.
        match self.pending.get(&id) {
            Some(p) if p.to.id == from.id => {}
            Some(_) => {
                return Err(ProtocolError::Unexpected(format!(
                    "response {id} from the wrong peer"
                )));
            }
            None => {
                return Err(ProtocolError::Unexpected(format!(
                    "response {id} matches no request"
                )));
            }
        }
        let shape_ok = matches!(
            (
                &self.pending.get(&id).expect("checked above").purpose,
                &body
            ),
            (_, Response::Unavailable)
                | (Purpose::Routing, Response::Routing(_))
                | (Purpose::Lookup(_), Response::Next(_))
                | (Purpose::DhtOp(_), Response::Ack | Response::Fetched(_))
                | (
                    Purpose::Replicate | Purpose::Handover | Purpose::Route { .. },
                    Response::Ack
                )
                | (Purpose::Offer(_), Response::Want { .. })
        );
        if !shape_ok {
            return Err(ProtocolError::Unexpected(format!(
                "response {id} does not answer its request"
            )));
        }
        let p = self.pending.remove(&id).expect("checked above");
        match (p.purpose, body) {
            (purpose, Response::Unavailable) => self.request_unanswered(ctx, id, p.to, purpose),
            (Purpose::Routing, Response::Routing(msg)) => {
                return self.call_routing(ctx, |r, out| r.on_response(out, &from, id, msg));
            }
            (Purpose::Lookup(lid), Response::Next(step)) => self.lookup_answer(ctx, lid, step),
            (Purpose::DhtOp(op), body) => self.dht_op_answer(ctx, op, body),
            (Purpose::Offer(keys), Response::Want { keys: wanted }) => {
                self.dht_on_want(ctx, &from, keys, wanted)
            }
            (Purpose::Handover, _) => self.maybe_left(ctx),
            _ => {}
        }
        Ok(())
    }

    /// A request got no response in time: the peer is taken as failed everywhere.
    fn request_failed(&mut self, ctx: &mut Ctx<'_, R>, id: ReqId, p: Pending<R::Addr>) {
        let to = p.to.clone();
        self.call_routing(ctx, |r, out| r.peer_failed(out, &to));
        if let Purpose::Routing = p.purpose {
            self.call_routing(ctx, |r, out| r.on_request_failed(out, &to, id));
            return;
        }
        self.request_unanswered(ctx, id, p.to, p.purpose);
    }

    /// A request got no useful answer (timeout, or the peer is not serving).
    fn request_unanswered(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        id: ReqId,
        to: Contact<R::Addr>,
        purpose: Purpose,
    ) {
        match purpose {
            Purpose::Routing => self.call_routing(ctx, |r, out| r.on_request_failed(out, &to, id)),
            Purpose::Lookup(lid) => self.lookup_query_failed(ctx, lid),
            Purpose::DhtOp(op) => self.dht_op_failed(ctx, op),
            Purpose::Replicate | Purpose::Offer(_) => {}
            Purpose::Handover => self.maybe_left(ctx),
            Purpose::Route { key, payload, hops } => self.route_forward(ctx, key, payload, hops),
        }
    }

    /// Sends a request and arms its timeout.
    pub(crate) fn request(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        to: Contact<R::Addr>,
        body: Request<R::Msg>,
        purpose: Purpose,
    ) -> ReqId {
        self.next_id += 1;
        let id = self.next_id;
        self.send_request_with_id(ctx, to, id, body, purpose);
        id
    }

    fn send_request_with_id(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        to: Contact<R::Addr>,
        id: ReqId,
        body: Request<R::Msg>,
        purpose: Purpose,
    ) {
        let deadline = ctx.now + self.cfg.request_timeout;
        self.pending.insert(
            id,
            Pending {
                to: to.clone(),
                deadline,
                purpose,
            },
        );
        self.stats.messages_sent += 1;
        ctx.out.push(Output::Send {
            to,
            msg: Wire::Request { id, body },
        });
        if self.timeout_armed.is_none() {
            self.arm_timeout(ctx, deadline);
        }
    }

    fn arm_timeout(&mut self, ctx: &mut Ctx<'_, R>, at: Time) {
        self.timeout_armed = Some(at);
        ctx.out.push(Output::Timer {
            after: at.since(ctx.now),
            timer: NodeTimer::RequestTimeouts,
        });
    }

    fn respond(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        to: Contact<R::Addr>,
        id: ReqId,
        body: Response<R::Addr, R::Msg>,
    ) {
        self.stats.messages_sent += 1;
        ctx.out.push(Output::Send {
            to,
            msg: Wire::Response { id, body },
        });
    }

    /// Calls into the routing algorithm and carries out what it asks for: how a driver
    /// reaches an algorithm's own services (Tapestry's `publish` and `locate`).
    pub fn call_routing<T>(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        f: impl FnOnce(&mut R, &mut Out<'_, R::Addr, R::Msg, R::Timer>) -> T,
    ) -> T {
        let mut actions = std::mem::take(&mut self.scratch);
        let result = {
            let mut out = Out::new(ctx.now, &mut *ctx.rng, &mut actions, &mut self.next_id);
            f(&mut self.routing, &mut out)
        };
        for a in actions.drain(..) {
            self.apply(ctx, a);
        }
        self.scratch = actions;
        result
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, R>, action: Action<R::Addr, R::Msg, R::Timer>) {
        match action {
            Action::Request { to, id, msg } => {
                self.send_request_with_id(ctx, to, id, Request::Routing(msg), Purpose::Routing)
            }
            Action::Respond { to, id, msg } => self.respond(ctx, to, id, Response::Routing(msg)),
            Action::Timer { after, timer } => ctx.out.push(Output::Timer {
                after,
                timer: NodeTimer::Routing(timer),
            }),
            Action::Lookup { key, tag, via } => {
                self.start_lookup(ctx, key, crate::lookup::Owner::Routing(tag), via)
            }
            Action::Update { node, joined } => {
                if let Some(app) = self.app.as_mut() {
                    app.update(&node, joined);
                }
                self.dht_on_update(ctx);
                if self.cfg.report_updates {
                    ctx.out
                        .push(Output::Event(Event::NeighborUpdate { node, joined }));
                }
            }
            Action::Joined => {
                if self.phase == Phase::Joining {
                    self.phase = Phase::Joined;
                    ctx.out.push(Output::Event(Event::Joined));
                    self.arm_repair(ctx);
                }
            }
        }
    }

    /// Graceful leave: copy every record to its replica set (one rank deeper, so the set
    /// keeps `r` copies without this node), tell the routing neighbours, and report
    /// [`Event::Left`] once every copy is acknowledged or has failed.
    fn leave(&mut self, ctx: &mut Ctx<'_, R>) {
        if self.phase != Phase::Joined {
            return;
        }
        self.phase = Phase::Leaving;
        let me = self.me().id;
        let r = self.cfg.replication;
        let mut batches: BTreeMap<Contact<R::Addr>, Vec<crate::store::Record>> = BTreeMap::new();
        for rec in self.dht.store.iter() {
            for c in self.routing.replica_set(&rec.key, r + 1) {
                if c.id != me {
                    batches.entry(c).or_default().push(rec.clone());
                }
            }
        }
        for (to, records) in batches {
            for chunk in records.chunks(self.cfg.limits.max_list) {
                let body = Request::Store {
                    records: chunk.to_vec(),
                    replicate: false,
                };
                self.request(ctx, to.clone(), body, Purpose::Handover);
            }
        }
        self.call_routing(ctx, |r, out| r.leave(out));
        self.maybe_left(ctx);
    }

    fn maybe_left(&mut self, ctx: &mut Ctx<'_, R>) {
        if self.phase == Phase::Leaving
            && !self
                .pending
                .values()
                .any(|p| matches!(p.purpose, Purpose::Handover))
        {
            self.phase = Phase::Left;
            ctx.out.push(Output::Event(Event::Left));
        }
    }
}

/// Why a node refused an input.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The bytes were not a valid message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The message did not fit the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}
