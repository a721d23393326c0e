//! One overlay node: a routing algorithm, the parts every algorithm shares (requests and
//! timeouts, iterative lookup, `route`), and the applications it hosts, as one sans-IO
//! state machine.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::app::{AppAction, AppCtx, TimerId};
use crate::apps::{AppSet, SetCtx};
use crate::config::NodeConfig;
use crate::contact::Contact;
use crate::dht::Dht;
use crate::error::{DecodeError, ProtocolError};
use crate::io::{Command, CommandOf, Ctx, Event, Input, NodeTimer, Output, TimerOf};
use crate::lookup::Lookup;
use crate::recursive::Relayed;
use crate::round_trips::RoundTrips;
use crate::routing::{Action, Out, ReqId, Routing};
use crate::small_map::SmallMap;
use crate::time::Time;
use crate::wire::{Request, Response, Wire, WireOf};

/// Why an outgoing request was sent: where its response or failure goes.
#[derive(Clone, Debug)]
pub(crate) enum Purpose<A, P> {
    /// The routing algorithm's own request.
    Routing,
    /// A query of an iterative lookup.
    Lookup(u64),
    /// A request of the application at this index of the set.
    App(usize),
    /// A routed message, kept to try another next hop if this one fails.
    Route(Box<Routed<A, P>>),
    /// A recursive lookup passed on, kept to try another next hop if this one fails.
    Relay(Box<Relayed<A>>),
    /// A recursive lookup's answer to its origin.
    Answer,
}

/// A routed message on its way through this node.
#[derive(Clone, Debug)]
pub(crate) struct Routed<A, P> {
    pub(crate) key: crate::id::Key,
    pub(crate) msg: P,
    pub(crate) origin: Contact<A>,
    /// Hops taken to reach this node.
    pub(crate) hops: u32,
    /// The hop it came from (`None` at its source).
    pub(crate) prev: Option<Contact<A>>,
    /// Next hops that failed it here or on the way.
    pub(crate) avoid: Vec<crate::id::NodeId>,
}

/// A request waiting for its response.
#[derive(Clone, Debug)]
pub(crate) struct Pending<A, P> {
    pub(crate) to: Contact<A>,
    /// When it was sent.
    pub(crate) sent: Time,
    /// When the request counts as failed.
    pub(crate) deadline: Time,
    pub(crate) purpose: Purpose<A, P>,
}

/// An application action of a node of `R` hosting `S`.
type AppActionOf<R, S> = AppAction<
    <R as Routing>::Addr,
    <S as AppSet<<R as Routing>::Addr>>::Msg,
    <S as AppSet<<R as Routing>::Addr>>::Timer,
    <S as AppSet<<R as Routing>::Addr>>::Event,
>;

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
    /// Messages rejected as malformed, invalid or unexpected (a response that comes after
    /// its request timed out is not counted: it is late, not bad).
    pub rejected: u64,
}

/// The applications a node hosts when none are named: the DHT alone.
pub type DefaultApps<A> = crate::apps![Dht<A>];

/// A node of routing algorithm `R` hosting the applications `S` (by default the DHT).
pub struct Node<R: Routing, S: AppSet<R::Addr> = DefaultApps<<R as Routing>::Addr>> {
    pub(crate) routing: R,
    pub(crate) apps: S,
    /// Shared among the nodes of one simulation: a million copies would cost 100 MiB.
    pub(crate) cfg: Arc<NodeConfig>,
    pub(crate) phase: Phase,
    pub(crate) next_id: u64,
    pub(crate) pending: SmallMap<ReqId, Pending<R::Addr, S::Msg>>,
    pub(crate) lookups: SmallMap<u64, Lookup<R::Addr>>,
    pub(crate) stats: NodeStats,
    /// Shortest round trips to the peers answered most recently.
    round_trips: RoundTrips,
    /// When the armed request-timeout timer fires, if one is armed. One timer per node
    /// serves every pending request.
    timeout_armed: Option<Time>,
    /// Application timers cancelled before they fired.
    cancelled: Vec<TimerId>,
    /// A bit per application still finishing its work before the node leaves.
    leaving: u64,
    scratch: Vec<Action<R::Addr, R::Msg, R::Timer>>,
}

impl<R: Routing, S: AppSet<R::Addr>> fmt::Debug for Node<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("routing", &self.routing)
            .field("phase", &self.phase)
            .field("next_id", &self.next_id)
            .field("pending", &self.pending)
            .field("lookups", &self.lookups)
            .field("apps", &self.apps)
            .finish()
    }
}

impl<R: Routing> Node<R> {
    /// A node with the DHT (default parameters) that has not joined yet.
    pub fn new(me: Contact<R::Addr>, routing: &R::Config, cfg: NodeConfig) -> Self {
        Self::with_apps(R::new(me, routing), (Dht::default(), ()), cfg)
    }
}

impl<R: Routing, S: AppSet<R::Addr>> Node<R, S> {
    /// A node around a routing state (new, or already built by the simulator's oracle)
    /// hosting `apps`. `cfg` may be shared with other nodes.
    pub fn with_apps(routing: R, apps: S, cfg: impl Into<Arc<NodeConfig>>) -> Self {
        Node {
            routing,
            apps,
            cfg: cfg.into(),
            phase: Phase::Idle,
            next_id: 0,
            pending: SmallMap::default(),
            lookups: SmallMap::default(),
            stats: NodeStats::default(),
            round_trips: RoundTrips::default(),
            timeout_armed: None,
            cancelled: Vec::new(),
            leaving: 0,
            scratch: Vec::new(),
        }
    }

    /// Marks a node built with [`Node::with_routing`] as joined and arms its timers, without
    /// any messages (its tables are already complete).
    pub fn start_prebuilt(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        routing_timers: Vec<(Duration, R::Timer)>,
    ) {
        self.phase = Phase::Joined;
        for (after, timer) in routing_timers {
            ctx.out.push(Output::Timer {
                after,
                timer: NodeTimer::Routing(timer),
            });
        }
        self.call_apps(ctx, |apps, c| apps.on_joined(c));
    }

    /// This node.
    pub fn me(&self) -> &Contact<R::Addr> {
        self.routing.me()
    }

    /// The routing algorithm's state.
    pub fn routing(&self) -> &R {
        &self.routing
    }

    /// The applications it hosts.
    pub fn apps(&self) -> &S {
        &self.apps
    }

    /// The applications it hosts, for a driver that reaches into one (the libp2p driver
    /// persists the DHT's records).
    pub fn apps_mut(&mut self) -> &mut S {
        &mut self.apps
    }

    /// A request sent by this node cannot reach its peer (the driver found it unreachable
    /// before the timeout): handled at once as a timeout.
    pub fn request_unreachable(&mut self, ctx: &mut Ctx<'_, R, S>, id: ReqId) {
        if let Some(p) = self.pending.remove(&id) {
            self.stats.timeouts += 1;
            self.request_failed(ctx, id, p);
        }
    }

    /// A request sent by this node could not leave for a reason of this host's (out of
    /// file descriptors, a dial its own driver refused): its owner is told at once, as
    /// for a timeout, but the peer is not suspected.
    pub fn request_lost(&mut self, ctx: &mut Ctx<'_, R, S>, id: ReqId) {
        if let Some(p) = self.pending.remove(&id) {
            self.stats.timeouts += 1;
            self.request_unanswered(ctx, id, p.to, p.purpose, false);
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
        ctx: &mut Ctx<'_, R, S>,
        from: Contact<R::Addr>,
        bytes: &[u8],
    ) -> Result<(), NodeError> {
        if self.phase == Phase::Left {
            return Ok(());
        }
        // `decode` has validated the message already.
        let msg = match WireOf::<R, S>::decode(bytes, &self.cfg.limits) {
            Ok(m) => m,
            Err(e) => {
                self.stats.rejected += 1;
                return Err(e.into());
            }
        };
        self.on_valid_message(ctx, from, msg)
    }

    /// Handles one input.
    pub fn handle(&mut self, ctx: &mut Ctx<'_, R, S>, input: Input<R, S>) -> Result<(), NodeError> {
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
        ctx: &mut Ctx<'_, R, S>,
        from: Contact<R::Addr>,
        msg: WireOf<R, S>,
    ) -> Result<(), NodeError> {
        let result = match msg {
            Wire::Request { id, body } => self.on_request(ctx, from, id, body),
            Wire::Response { id, body } => self.on_response(ctx, from, id, body),
        };
        // A response after its request timed out, or a request reaching a node on its way
        // out, is what a loaded or changing network produces, not a bad message.
        if result
            .as_ref()
            .is_err_and(|e| !matches!(e, ProtocolError::Late(_) | ProtocolError::NotJoined))
        {
            self.stats.rejected += 1;
        }
        result.map_err(NodeError::from)
    }

    fn on_command(&mut self, ctx: &mut Ctx<'_, R, S>, cmd: CommandOf<R, S>) {
        match cmd {
            Command::Join { bootstrap } => {
                if self.phase == Phase::Idle {
                    self.phase = Phase::Joining;
                    self.call_routing(ctx, |r, out| r.join(out, bootstrap));
                }
            }
            Command::Leave => self.leave(ctx),
            Command::Lookup { op, key, mode } => {
                self.start_lookup(ctx, key, crate::lookup::Owner::User(op), None, mode)
            }
            Command::App(c) => self.call_apps(ctx, |apps, cx| apps.on_command(cx, c)),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, R, S>, timer: TimerOf<R, S>) {
        match timer {
            NodeTimer::Routing(t) => {
                if matches!(self.phase, Phase::Joining | Phase::Joined) {
                    self.call_routing(ctx, |r, out| r.on_timer(out, t));
                }
            }
            NodeTimer::App { id, timer } => {
                if let Some(i) = self.cancelled.iter().position(|c| *c == id) {
                    self.cancelled.swap_remove(i);
                    return;
                }
                self.call_apps(ctx, |apps, cx| apps.on_timer(cx, timer));
            }
            NodeTimer::LookupFallback(lid) => self.lookup_fallback(ctx, lid),
            NodeTimer::RequestTimeouts { at } => {
                // A timer armed for an earlier deadline, or set again while requests
                // expired (a failure prompting a new request), may fire after the one
                // armed now was set: only the armed one re-arms, or each such timer would
                // live on, re-arming itself for as long as requests are pending. The armed
                // one is known by its deadline, not by the clock: a driver's timer wheel
                // may fire it a little early, and it then fails what is due by its deadline.
                let is_armed = self.timeout_armed == Some(at);
                if is_armed {
                    self.timeout_armed = None;
                }
                let due = if is_armed { at.max(ctx.now) } else { ctx.now };
                let expired: Vec<ReqId> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| p.deadline <= due)
                    .map(|(id, _)| *id)
                    .collect();
                for id in expired {
                    if let Some(p) = self.pending.remove(&id) {
                        self.stats.timeouts += 1;
                        self.request_failed(ctx, id, p);
                    }
                }
                let next = self.pending.values().map(|p| p.deadline).min();
                if let Some(next) = next.filter(|&n| self.timeout_armed.is_none_or(|a| n < a)) {
                    self.arm_timeout(ctx, next);
                }
            }
        }
    }

    fn on_request(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        from: Contact<R::Addr>,
        id: ReqId,
        body: Request<R::Addr, R::Msg, S::Msg>,
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
                let step = self.step_around(&key, self.cfg.step_width, &avoid);
                self.respond(ctx, from, id, Response::Next(step));
            }
            Request::Route {
                key,
                origin,
                hops,
                root,
                msg,
                avoid,
            } => {
                self.respond(ctx, from.clone(), id, Response::Ack);
                let here = root.then(|| self.me().clone());
                let routed = Routed {
                    key,
                    msg,
                    origin,
                    hops,
                    prev: Some(from),
                    avoid,
                };
                self.route_on(ctx, routed, here);
            }
            Request::FindRoot {
                key,
                origin,
                lookup,
                path,
                avoid,
                answer_in_ack,
            } => {
                let relayed = Relayed {
                    key,
                    origin,
                    lookup,
                    path,
                    avoid,
                };
                self.on_find_root(ctx, from, id, relayed, answer_in_ack);
            }
            Request::RootFound {
                key,
                lookup,
                path,
                root,
            } => {
                self.respond(ctx, from, id, Response::Ack);
                self.root_found(ctx, lookup, key, path, root, true);
            }
            Request::App(msg) => {
                return self.call_apps(ctx, |apps, cx| apps.on_request(cx, &from, id, msg));
            }
        }
        Ok(())
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        from: Contact<R::Addr>,
        id: ReqId,
        body: Response<R::Addr, R::Msg, S::Msg>,
    ) -> Result<(), ProtocolError> {
        // Only the peer the request went to may answer it, and only with an answer of the
        // request's kind; anything else is rejected before any state changes.
        let shape_ok = match self.pending.get(&id) {
            Some(p) if p.to.id == from.id => match (&p.purpose, &body) {
                (_, Response::Unavailable)
                | (Purpose::Routing, Response::Routing(_))
                | (Purpose::Lookup(_), Response::Next(_))
                | (Purpose::Route(_) | Purpose::Relay(_) | Purpose::Answer, Response::Ack) => true,
                // Only the origin asks for the answer in the acknowledgement.
                (Purpose::Relay(relayed), Response::RootFound { .. }) => {
                    relayed.origin.id == self.me().id
                }
                (Purpose::App(app), Response::App(msg)) => S::index_of(msg) == *app,
                _ => false,
            },
            Some(_) => {
                return Err(ProtocolError::Unexpected(format!(
                    "response {id} from the wrong peer"
                )));
            }
            None => return Err(ProtocolError::Late(id)),
        };
        if !shape_ok {
            return Err(ProtocolError::Unexpected(format!(
                "response {id} does not answer its request"
            )));
        }
        let p = self.pending.remove(&id).expect("checked above");
        self.round_trips.sample(&from.id, p.sent, ctx.now);
        match (p.purpose, body) {
            (purpose, Response::Unavailable) => {
                self.request_unanswered(ctx, id, p.to, purpose, true)
            }
            (Purpose::Routing, Response::Routing(msg)) => {
                return self.call_routing(ctx, |r, out| r.on_response(out, &from, id, msg));
            }
            (Purpose::Lookup(lid), Response::Next(step)) => self.lookup_answer(ctx, lid, step),
            (Purpose::Relay(relayed), Response::RootFound { path, root }) => {
                self.root_found(ctx, relayed.lookup, relayed.key, path, root, false)
            }
            (Purpose::App(_), Response::App(msg)) => {
                return self.call_apps(ctx, |apps, cx| apps.on_response(cx, &from, id, msg));
            }
            _ => {}
        }
        Ok(())
    }

    /// A request got no response in time: the peer is taken as failed everywhere.
    fn request_failed(&mut self, ctx: &mut Ctx<'_, R, S>, id: ReqId, p: Pending<R::Addr, S::Msg>) {
        let to = p.to.clone();
        self.call_routing(ctx, |r, out| r.peer_failed(out, &to));
        self.request_unanswered(ctx, id, p.to, p.purpose, false);
    }

    /// A request got no useful answer: a timeout, or (`unavailable`) the peer is alive but
    /// not serving (joining or leaving).
    fn request_unanswered(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        id: ReqId,
        to: Contact<R::Addr>,
        purpose: Purpose<R::Addr, S::Msg>,
        unavailable: bool,
    ) {
        match purpose {
            Purpose::Routing => self.call_routing(ctx, |r, out| r.on_request_failed(out, &to, id)),
            Purpose::Lookup(lid) => self.lookup_query_failed(ctx, lid),
            Purpose::App(app) => self.call_apps(ctx, |apps, cx| {
                apps.on_request_failed(cx, app, &to, id, unavailable)
            }),
            Purpose::Route(mut routed) => {
                // Its tables may still list a peer that answered "unavailable": route
                // around it rather than back into it.
                routed.avoid.push(to.id);
                self.route_on(ctx, *routed, None)
            }
            Purpose::Relay(relayed) => self.relay_failed(ctx, *relayed, to.id),
            Purpose::Answer => {}
        }
    }

    /// Sends a request and arms its timeout.
    pub(crate) fn request(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        to: Contact<R::Addr>,
        body: Request<R::Addr, R::Msg, S::Msg>,
        purpose: Purpose<R::Addr, S::Msg>,
    ) -> ReqId {
        self.next_id += 1;
        let id = self.next_id;
        self.send_request_with_id(ctx, to, id, body, purpose);
        id
    }

    fn send_request_with_id(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        to: Contact<R::Addr>,
        id: ReqId,
        body: Request<R::Addr, R::Msg, S::Msg>,
        purpose: Purpose<R::Addr, S::Msg>,
    ) {
        let timeout = match self.cfg.prompt_timeout_floor {
            Some(floor)
                if body.is_answered_on_receipt()
                    || matches!(&body, Request::Routing(m) if R::answers_at_once(m))
                    || matches!(&body, Request::App(m) if S::answers_at_once(m)) =>
            {
                self.round_trips
                    .timeout(&to.id, floor, self.cfg.request_timeout)
            }
            _ => self.cfg.request_timeout,
        };
        let deadline = ctx.now + timeout;
        self.pending.insert(
            id,
            Pending {
                to: to.clone(),
                sent: ctx.now,
                deadline,
                purpose,
            },
        );
        self.stats.messages_sent += 1;
        ctx.out.push(Output::Send {
            to,
            msg: Wire::Request { id, body },
        });
        // A prompt request's deadline may come before the one armed: a timer more, and
        // whichever fires first re-arms for the rest.
        if self.timeout_armed.is_none_or(|armed| deadline < armed) {
            self.arm_timeout(ctx, deadline);
        }
    }

    fn arm_timeout(&mut self, ctx: &mut Ctx<'_, R, S>, at: Time) {
        self.timeout_armed = Some(at);
        ctx.out.push(Output::Timer {
            after: at.since(ctx.now),
            timer: NodeTimer::RequestTimeouts { at },
        });
    }

    pub(crate) fn respond(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        to: Contact<R::Addr>,
        id: ReqId,
        body: Response<R::Addr, R::Msg, S::Msg>,
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
        ctx: &mut Ctx<'_, R, S>,
        f: impl FnOnce(&mut R, &mut Out<'_, R::Addr, R::Msg, R::Timer>) -> T,
    ) -> T {
        let mut actions = std::mem::take(&mut self.scratch);
        let result = {
            let mut out = Out::new(ctx.now, &mut *ctx.rng, &mut actions, &mut self.next_id)
                .with_round_trips(&self.round_trips);
            f(&mut self.routing, &mut out)
        };
        for a in actions.drain(..) {
            self.apply(ctx, a);
        }
        self.scratch = actions;
        result
    }

    /// Calls into the applications with a context over this node and carries out what
    /// they ask for.
    pub(crate) fn call_apps<T>(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        f: impl FnOnce(&mut S, &mut SetCtx<'_, R::Addr, S>) -> T,
    ) -> T {
        let mut actions = Vec::new();
        let result = {
            let mut cx = AppCtx::new(
                ctx.now,
                &mut *ctx.rng,
                &self.routing,
                self.phase,
                &self.cfg.limits,
                &mut self.next_id,
                &mut actions,
            );
            f(&mut self.apps, &mut cx)
        };
        for a in actions {
            self.apply_app(ctx, a);
        }
        result
    }

    fn apply_app(&mut self, ctx: &mut Ctx<'_, R, S>, action: AppActionOf<R, S>) {
        match action {
            AppAction::Request { to, id, msg, app } => {
                self.send_request_with_id(ctx, to, id, Request::App(msg), Purpose::App(app))
            }
            AppAction::Respond { to, id, msg } => self.respond(ctx, to, id, Response::App(msg)),
            AppAction::Route { key, msg, hint } => {
                let origin = self.me().clone();
                let routed = Routed {
                    key,
                    msg,
                    origin,
                    hops: 0,
                    prev: None,
                    avoid: Vec::new(),
                };
                self.route_on(ctx, routed, hint);
            }
            AppAction::Lookup { key, tag, app } => {
                self.start_lookup(ctx, key, crate::lookup::Owner::App { app, tag }, None, None)
            }
            AppAction::SetTimer { id, after, timer } => ctx.out.push(Output::Timer {
                after,
                timer: NodeTimer::App { id, timer },
            }),
            AppAction::CancelTimer(id) => {
                if !self.cancelled.contains(&id) {
                    self.cancelled.push(id);
                }
            }
            AppAction::Emit(e) => ctx.out.push(Output::Event(Event::App(e))),
            AppAction::LeaveDone { app } => {
                self.leaving &= !(1u64 << app);
                self.maybe_left(ctx);
            }
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, R, S>, action: Action<R::Addr, R::Msg, R::Timer>) {
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
                self.start_lookup(ctx, key, crate::lookup::Owner::Routing(tag), via, None)
            }
            Action::Update { node, joined } => {
                self.call_apps(ctx, |apps, cx| apps.update(cx, &node, joined));
                if self.cfg.report_updates {
                    ctx.out
                        .push(Output::Event(Event::NeighborUpdate { node, joined }));
                }
            }
            Action::Joined => {
                if self.phase == Phase::Joining {
                    self.phase = Phase::Joined;
                    ctx.out.push(Output::Event(Event::Joined));
                    self.call_apps(ctx, |apps, cx| apps.on_joined(cx));
                }
            }
        }
    }

    /// Graceful leave: every application does what it must first (the DHT copies its
    /// records to their replica sets), the routing neighbours are told, and
    /// [`Event::Left`] follows once every application is done.
    fn leave(&mut self, ctx: &mut Ctx<'_, R, S>) {
        if self.phase != Phase::Joined {
            return;
        }
        self.phase = Phase::Leaving;
        self.leaving = self.call_apps(ctx, |apps, cx| apps.on_leave(cx));
        self.call_routing(ctx, |r, out| r.leave(out));
        self.maybe_left(ctx);
    }

    fn maybe_left(&mut self, ctx: &mut Ctx<'_, R, S>) {
        if self.phase == Phase::Leaving && self.leaving == 0 {
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
