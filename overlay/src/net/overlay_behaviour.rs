//! The overlay as one libp2p [`NetworkBehaviour`]: it hosts a [`Node`] of any routing
//! algorithm together with its applications (by default the DHT), speaks the algorithm's
//! protocol (`/p2p/<name>/2`: length-framed messages on one stream per connection, each
//! application's messages under its own protocol name inside them), runs the node's timers
//! and persists the DHT's records. Other libp2p protocols plug in beside it in a composed
//! behaviour, as identify and mDNS do in the `p2p node` daemon.

use std::collections::{HashMap, VecDeque};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::PeerId;
use libp2p::core::{Endpoint, Multiaddr, transport::PortUse};
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use rand_xoshiro::Xoshiro256PlusPlus;
use tracing::{debug, warn};

use crate::apps::{AppSet, Member, Pick};
use crate::config::NodeConfig;
use crate::contact::Contact;
use crate::dht::{Dht, DhtCommand};
use crate::error::ProtocolError;
use crate::id::Key;
use crate::io::{Command, CommandOf, Ctx, Event, Input, Output, TimerOf};
use crate::net::envelope::{Envelope, protocol_name};
use crate::net::error::NetError;
use crate::net::frames::{Frame, Frames, FramesEvent, Unsent};
use crate::net::peer_addr::{PeerAddr, is_genuine, node_id_of};
use crate::net::persist::{Persister, RecordDb, Synced};
use crate::net::timers::Timers;
use crate::node::{DefaultApps, Node, NodeError, Phase};
use crate::routing::{ReqId, Routing};
use crate::store::Store;
use crate::time::Time;
use crate::wire::{Wire, WireOf};

/// How often requests in flight long past the node's timeout are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Whether `o` may acknowledge a write: an answer to a peer, or an application's report.
fn acknowledges<R: Routing, S: AppSet<R::Addr>>(o: &Output<R, S>) -> bool {
    matches!(
        o,
        Output::Send {
            msg: Wire::Response { .. },
            ..
        } | Output::Event(Event::App(_))
    )
}

/// Wall-clock time, moved by `offset_us`: DHT versions are compared across machines.
fn now(offset_us: i64) -> Time {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time((since.as_micros() as u64).saturating_add_signed(offset_us))
}

/// The events of the default applications (the DHT).
pub type DefaultNetEvent = <DefaultApps<PeerAddr> as AppSet<PeerAddr>>::Event;

/// What the overlay reports to the swarm's owner.
#[derive(Debug)]
pub enum OverlayEvent<E = DefaultNetEvent> {
    /// The node's own report: joined, left, a lookup's or an application's result
    /// (matched by the operation id the call returned).
    Node(Event<PeerAddr, E>),
    /// The records could not be persisted (a full disk, say why): nothing that changes
    /// records is acknowledged until [`OverlayEvent::StorageRecovered`]; the node keeps
    /// routing and answering reads, and writes what it holds back once it can.
    StorageFailed(String),
    /// Records are written again, those held back included.
    StorageRecovered,
}

/// One node of routing algorithm `R` hosting applications `S` as a libp2p behaviour.
pub struct OverlayBehaviour<
    R: Routing<Addr = PeerAddr>,
    S: AppSet<PeerAddr> = DefaultApps<PeerAddr>,
> {
    frames: Frames,
    node: Node<R, S>,
    routing_cfg: R::Config,
    rng: Xoshiro256PlusPlus,
    timers: Timers<TimerOf<R, S>>,
    sweep: tokio::time::Interval,
    db: Option<Persister>,
    /// Added to the wall clock the node sees (tests of clock skew).
    clock_offset_us: i64,
    /// The DHT's store among the applications, once records are persisted.
    store_of: Option<fn(&mut S) -> &mut Store>,
    /// Requests in flight, by the node's id: what to send again if the connection closes
    /// under them.
    outbound: HashMap<ReqId, Outbound>,
    /// Messages the node sent to itself.
    loopback: VecDeque<WireOf<R, S>>,
    events: VecDeque<OverlayEvent<S::Event>>,
    next_op: u64,
    /// Messages refused before they reached the node (undecodable, forged sender, wrong
    /// kind); the node counts the ones it refuses itself.
    rejected: u64,
    waker: Option<Waker>,
}

impl<R: Routing<Addr = PeerAddr>> OverlayBehaviour<R> {
    /// A node for peer `peer` hosting the DHT with default parameters (see
    /// [`OverlayBehaviour::with_apps`]).
    pub fn new(peer: PeerId, routing: R::Config, node: NodeConfig) -> Self {
        Self::with_apps(peer, routing, node, (Dht::default(), ()))
    }
}

impl<R: Routing<Addr = PeerAddr>, S: AppSet<PeerAddr>> OverlayBehaviour<R, S> {
    /// A node for peer `peer` hosting `apps` that has not started: it answers nothing
    /// until [`OverlayBehaviour::start`] gives it the addresses it listens on. Must be
    /// created inside a tokio runtime.
    pub fn with_apps(peer: PeerId, routing: R::Config, node: NodeConfig, apps: S) -> Self {
        let max = node.limits.max_message_bytes;
        let frames = Frames::new(protocol_name(R::NAME), max);
        let me = Contact::new(
            node_id_of(&peer),
            PeerAddr {
                peer,
                addrs: Vec::new(),
            },
        );
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        OverlayBehaviour {
            frames,
            node: Node::with_apps(R::new(me, &routing), apps, node),
            routing_cfg: routing,
            store_of: None,
            clock_offset_us: 0,
            rng: rand::make_rng(),
            timers: Timers::new(),
            sweep,
            db: None,
            outbound: HashMap::new(),
            loopback: VecDeque::new(),
            events: VecDeque::new(),
            next_op: 0,
            rejected: 0,
            waker: None,
        }
    }

    /// Gives the node the addresses it announces (the listeners are known only once the
    /// swarm listens). Call it before joining; once the node has begun joining it is
    /// refused.
    pub fn start(&mut self, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        if self.node.phase() != Phase::Idle {
            return Err(NetError::Setup(
                "the overlay was started after it began joining".into(),
            ));
        }
        let mut me = self.node.me().clone();
        me.addr.addrs = addrs;
        // The routing state has not joined and knows nobody yet: it is rebuilt around the
        // contact with the addresses.
        self.node.routing = R::new(me, &self.routing_cfg);
        Ok(())
    }

    /// Moves the clock this node sees by `offset_us` microseconds (negative: behind), as
    /// a machine whose clock is off would: for tests of how the overlay copes with it.
    pub fn set_clock_offset(&mut self, offset_us: i64) {
        self.clock_offset_us = offset_us;
    }

    /// Loads the DHT's records from `db` and keeps it up to date from now on: records
    /// reach the disk before any acknowledgement leaves. Returns how many were loaded.
    /// Call it before joining.
    pub fn persist<I>(&mut self, db: RecordDb) -> Result<usize, NetError>
    where
        S: Member<Dht<PeerAddr>, I>,
    {
        let records = db.load()?;
        let loaded = records.len();
        let store = self.node.apps_mut().member_mut().store_mut();
        for r in records {
            store.merge(r);
        }
        store.track_changes();
        self.store_of = Some(|apps: &mut S| apps.member_mut().store_mut());
        self.db = Some(Persister::new(db));
        Ok(loaded)
    }

    /// The hosted node (routing state, applications, counters).
    pub fn node(&self) -> &Node<R, S> {
        &self.node
    }

    /// This node's contact: its id, peer id and announced addresses.
    pub fn contact(&self) -> &Contact<PeerAddr> {
        self.node.me()
    }

    /// Messages refused before they reached the node, plus those the node refused.
    pub fn rejected(&self) -> u64 {
        self.rejected + self.node.stats().rejected
    }

    /// Joins through `bootstrap`, or starts a new overlay; [`Event::Joined`] follows.
    pub fn join(&mut self, bootstrap: Option<Contact<PeerAddr>>) {
        self.feed(Input::Command(Command::Join { bootstrap }));
        self.wake();
    }

    /// Hands the records over and leaves; [`Event::Left`] follows.
    pub fn leave(&mut self) {
        self.feed(Input::Command(Command::Leave));
        self.wake();
    }

    /// Hands the node a command of the set's own type (one that names its member).
    pub fn feed_command(&mut self, cmd: CommandOf<R, S>) {
        self.feed(Input::Command(cmd));
        self.wake();
    }

    /// Gives one of the applications a command; its results come as
    /// [`Event::App`] events.
    pub fn command<X, I>(&mut self, cmd: X)
    where
        S::Command: Pick<X, I>,
    {
        self.feed(Input::Command(Command::app(cmd)));
        self.wake();
    }

    /// Stores `value` under `key` in the DHT (or removes it, with `None`);
    /// [`crate::DhtEvent::PutDone`] follows with the returned operation id.
    pub fn put<I>(&mut self, key: Key, value: Option<Vec<u8>>) -> u64
    where
        S::Command: Pick<DhtCommand, I>,
    {
        let op = self.next_op();
        let cmd = match value {
            Some(value) => DhtCommand::Put { op, key, value },
            None => DhtCommand::Remove { op, key },
        };
        self.command(cmd);
        op
    }

    /// Reads `key` from the DHT; [`crate::DhtEvent::GetDone`] follows with the returned
    /// operation id.
    pub fn get<I>(&mut self, key: Key) -> u64
    where
        S::Command: Pick<DhtCommand, I>,
    {
        let op = self.next_op();
        self.command(DhtCommand::Get { op, key });
        op
    }

    /// Adds `member` to `key`'s set for `ttl`; [`crate::DhtEvent::AnnounceDone`] follows
    /// with the returned operation id.
    pub fn announce<I>(&mut self, key: Key, member: Vec<u8>, ttl: std::time::Duration) -> u64
    where
        S::Command: Pick<DhtCommand, I>,
    {
        let op = self.next_op();
        self.command(DhtCommand::Announce {
            op,
            key,
            member,
            ttl,
        });
        op
    }

    /// Reads `key`'s members; [`crate::DhtEvent::MembersDone`] follows with the returned
    /// operation id.
    pub fn members<I>(&mut self, key: Key) -> u64
    where
        S::Command: Pick<DhtCommand, I>,
    {
        let op = self.next_op();
        self.command(DhtCommand::Members { op, key });
        op
    }

    /// Finds `key`'s replica set (`mode` overriding the node's lookup mode);
    /// [`Event::LookupDone`] follows with the returned id.
    pub fn lookup(&mut self, key: Key, mode: Option<crate::LookupMode>) -> u64 {
        let op = self.next_op();
        self.feed(Input::Command(CommandOf::<R, S>::Lookup { op, key, mode }));
        self.wake();
        op
    }

    fn next_op(&mut self) -> u64 {
        self.next_op += 1;
        self.next_op
    }

    /// Calls into the node with the current time and carries out what it asks.
    fn drive(&mut self, f: impl FnOnce(&mut Node<R, S>, &mut Ctx<'_, R, S>)) {
        let mut out = Vec::new();
        let mut ctx = Ctx {
            now: now(self.clock_offset_us),
            rng: &mut self.rng,
            out: &mut out,
        };
        f(&mut self.node, &mut ctx);
        self.carry_out(out);
    }

    /// After a call from outside `poll`: the swarm must come back for what was queued.
    fn wake(&self) {
        if let Some(w) = &self.waker {
            w.wake_by_ref();
        }
    }

    /// Hands `input` to the node and carries out what it asks.
    fn feed(&mut self, input: Input<R, S>) {
        let peer = match &input {
            Input::Message { from, .. } => Some(from.addr.peer),
            _ => None,
        };
        self.drive(|node, ctx| {
            match node.handle(ctx, input) {
                Ok(()) => {}
                // A node on its way out no longer routes; its peers learn that from the
                // failed request and repair around it, as they should.
                Err(NodeError::Protocol(ProtocolError::NotJoined)) => {
                    debug!(peer = ?peer, "a request reached this node after it began to leave");
                }
                Err(NodeError::Protocol(e @ ProtocolError::Late(_))) => {
                    debug!(peer = ?peer, error = %e, "a response came too late");
                }
                Err(e) => warn!(peer = ?peer, error = %e, "rejected a message"),
            }
        });
    }

    fn carry_out(&mut self, out: Vec<Output<R, S>>) {
        // Records reach the disk before any acknowledgement leaves. While the disk
        // refuses them, a batch that changed records sends no answers and reports nothing
        // from the applications (an answer may acknowledge a write); its requests, timers
        // and the node's own events still go, so routing and reads carry on.
        let mut hold_answers = false;
        if let (Some(db), Some(store_of)) = (&mut self.db, self.store_of) {
            let store = store_of(self.node.apps_mut());
            match db.sync(store, Instant::now()) {
                Synced::Saved => {}
                Synced::Failed(e) => {
                    self.events.push_back(OverlayEvent::StorageFailed(e));
                    hold_answers = true;
                }
                Synced::Failing { changed } => hold_answers = changed,
                Synced::Recovered => self.events.push_back(OverlayEvent::StorageRecovered),
            }
        }
        for o in out {
            if hold_answers && acknowledges(&o) {
                continue;
            }
            match o {
                Output::Send { to, msg } => self.send(to, msg),
                Output::Timer { after, timer } => self.timers.set(after, timer),
                Output::Event(e) => self.events.push_back(OverlayEvent::Node(e)),
            }
        }
        while let Some(msg) = self.loopback.pop_front() {
            let from = self.node.me().clone();
            self.feed(Input::Message { from, msg });
        }
    }

    fn send(&mut self, to: Contact<PeerAddr>, msg: WireOf<R, S>) {
        if to.id == self.node.me().id {
            self.loopback.push_back(msg);
            return;
        }
        let encode = |wire: WireOf<R, S>| {
            Envelope {
                from: self.node.me().clone(),
                app: wire.app_msg().map(S::protocol_of),
                wire,
            }
            .encode()
        };
        let peer = to.addr.peer;
        match msg {
            Wire::Request { id, .. } => {
                let bytes = encode(msg);
                self.outbound.insert(
                    id,
                    Outbound {
                        peer,
                        addrs: to.addr.addrs.clone(),
                        bytes: bytes.clone(),
                        at: Instant::now(),
                        resent: false,
                    },
                );
                self.frames.send(peer, to.addr.addrs, Some(id), bytes);
            }
            Wire::Response { .. } => {
                let bytes = encode(msg);
                self.frames.send(peer, to.addr.addrs, None, bytes);
            }
        }
    }

    /// Forgets requests long past the node's timeout: their answers will not come, and
    /// the node has given up on them.
    fn sweep_outbound(&mut self) {
        let limit = self.node.config().request_timeout * 4;
        self.outbound.retain(|_, o| o.at.elapsed() < limit);
    }

    /// Sends request `id` once more, on a new connection if need be; a request sent again
    /// already fails instead.
    fn resend_or_fail(&mut self, id: ReqId) {
        match self.outbound.get_mut(&id) {
            Some(o) if !o.resent => {
                o.resent = true;
                let (peer, addrs, bytes) = (o.peer, o.addrs.clone(), o.bytes.clone());
                self.frames.send(peer, addrs, Some(id), bytes);
            }
            Some(_) => {
                self.outbound.remove(&id);
                self.fail_request(id);
            }
            None => {}
        }
    }

    /// Decodes a message from `peer`; a bad one is logged and counted against the peer.
    fn decode(&mut self, peer: &PeerId, frame: Frame) -> Option<Envelope<R::Msg, S::Msg>> {
        let limits = &self.node.config().limits;
        let result = match frame {
            Frame::Bytes(bytes) => {
                Envelope::<R::Msg, S::Msg>::decode(&bytes, limits).map_err(|e| e.to_string())
            }
            Frame::Oversized => Err(format!(
                "message larger than {} bytes",
                limits.max_message_bytes
            )),
        };
        let reason = match result {
            Ok(env) if !is_genuine(&env.from, peer) => format!(
                "the sender claims id {} which is not the hash of its peer id",
                env.from.id
            ),
            Ok(env) if env.app != env.wire.app_msg().map(S::protocol_of) => format!(
                "a message of protocol {:?} does not fit the application it decodes for ({:?})",
                env.app,
                env.wire.app_msg().map(S::protocol_of)
            ),
            Ok(env) => return Some(env),
            Err(e) => e,
        };
        warn!(%peer, %reason, "rejected a message");
        self.rejected += 1;
        None
    }

    fn on_frames_event(&mut self, ev: FramesEvent) {
        match ev {
            FramesEvent::Received { peer, frame } => {
                let Some(Envelope { from, wire, .. }) = self.decode(&peer, frame) else {
                    return;
                };
                if let Wire::Response { id, .. } = &wire
                    && self.outbound.get(id).is_some_and(|o| o.peer == peer)
                {
                    self.outbound.remove(id);
                }
                self.feed(Input::Message { from, msg: wire });
            }
            FramesEvent::Unsent { peer, tags, why } => {
                for id in tags {
                    match why {
                        // The peer is not at fault when this host could not dial.
                        Unsent::DialFailed { here: true } => {
                            debug!(%peer, "request lost: the dial failed on this host");
                            self.outbound.remove(&id);
                            self.drive(|node, ctx| node.request_lost(ctx, id));
                        }
                        Unsent::DialFailed { here: false } | Unsent::Backlog => {
                            debug!(%peer, ?why, "request failed: the peer cannot be dialled or is not reading");
                            self.outbound.remove(&id);
                            self.fail_request(id);
                        }
                        Unsent::StreamFailed => self.resend_or_fail(id),
                    }
                }
            }
            // A connection closes when it has been idle for a while, and a request sent
            // just then dies with it; the peer is not at fault. Each request still
            // unanswered goes once more, on a new connection (as HTTP clients do on a
            // reused one): a crashed peer then fails the dial. The node's own timeout
            // still runs.
            FramesEvent::Disconnected { peer } => {
                let ids: Vec<ReqId> = self
                    .outbound
                    .iter()
                    .filter(|(_, o)| o.peer == peer)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.resend_or_fail(id);
                }
            }
        }
    }

    /// The node's request `id` cannot be answered: failed at once instead of at its timeout.
    fn fail_request(&mut self, id: ReqId) {
        self.drive(|node, ctx| node.request_unreachable(ctx, id));
    }
}

/// A request in flight.
struct Outbound {
    peer: PeerId,
    /// The peer's addresses and the request's bytes, to send it once more.
    addrs: Vec<Multiaddr>,
    bytes: Vec<u8>,
    at: Instant,
    /// Whether it was sent again already.
    resent: bool,
}

impl<R: Routing<Addr = PeerAddr>, S: AppSet<PeerAddr>> NetworkBehaviour for OverlayBehaviour<R, S> {
    type ConnectionHandler = <Frames as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = OverlayEvent<S::Event>;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.frames
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.frames.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.frames.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.frames.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.frames.on_swarm_event(event);
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.frames
            .on_connection_handler_event(peer_id, connection_id, event);
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<OverlayEvent<S::Event>, THandlerInEvent<Self>>> {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(ev));
            }
            match self.frames.poll(cx) {
                Poll::Ready(ToSwarm::GenerateEvent(ev)) => {
                    self.on_frames_event(ev);
                    continue;
                }
                Poll::Ready(action) => {
                    return Poll::Ready(
                        action.map_out(|_| unreachable!("the protocol's events are handled above")),
                    );
                }
                Poll::Pending => {}
            }
            if let Poll::Ready(Some(timer)) = self.timers.poll_expired(cx) {
                self.feed(Input::Timer(timer));
                continue;
            }
            if self.sweep.poll_tick(cx).is_ready() {
                self.sweep_outbound();
                continue;
            }
            return Poll::Pending;
        }
    }
}
