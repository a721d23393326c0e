//! The task that runs one node: it turns the node's outputs into libp2p requests,
//! responses and tokio timers, and libp2p events and API requests into the node's inputs.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, identity::Keypair, mdns, noise, tcp, yamux};
use rand_xoshiro::Xoshiro256PlusPlus;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::contact::Contact;
use crate::io::{Command, Ctx, Event, Input, NodeTimer, Output};
use crate::net::behaviour::{NodeBehaviour, NodeBehaviourEvent};
use crate::net::codec::Frame;
use crate::net::config::NetConfig;
use crate::net::discovery::{Decision, Discovery};
use crate::net::envelope::{Envelope, Hello, HelloReply};
use crate::net::error::{ApiError, NetError};
use crate::net::handle::{ApiRequest, LookupReport, NetHandle, NodeStatus};
use crate::net::identity;
use crate::net::peer_addr::{
    MAX_PEER_ADDRS, PeerAddr, contact_from_multiaddr, is_genuine, node_id_of,
};
use crate::net::persist::RecordDb;
use crate::net::timers::Timers;
use crate::node::{Node, Phase};
use crate::routing::{ReqId, Routing};
use crate::time::Time;
use crate::wire::{Wire, WireOf};

/// Neighbours shown by `status`.
const STATUS_NEIGHBOURS: usize = 32;
/// How long a leaving node keeps its connections open so its last messages get out.
const LINGER: Duration = Duration::from_millis(500);

/// Wall-clock time: write versions are compared across machines.
fn now() -> Time {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time(since.as_micros() as u64)
}

/// Starts a node of routing algorithm `R` on the current tokio runtime: loads or creates
/// its identity and records, listens, and joins (through `bootstrap`, through a peer found
/// by mDNS, or as the first node). Returns once it listens; [`NetHandle::joined`] waits for
/// the join.
pub async fn spawn<R>(cfg: NetConfig<R::Config>) -> Result<NetHandle, NetError>
where
    R: Routing<Addr = PeerAddr>,
{
    let key = match &cfg.data_dir {
        Some(dir) => identity::load_or_create(dir)?,
        None => Keypair::generate_ed25519(),
    };
    let bootstrap = cfg
        .bootstrap
        .iter()
        .map(contact_from_multiaddr)
        .collect::<Result<Vec<_>, _>>()?;
    let peer = key.public().to_peer_id();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_behaviour(|key| {
            NodeBehaviour::new(key, R::NAME, &cfg)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    let mut early = Vec::new();
    let listen = start_listening(&mut swarm, &cfg.listen, &mut early).await?;
    let me = Contact::new(
        node_id_of(&peer),
        PeerAddr {
            peer,
            addrs: advertised(&listen),
        },
    );
    let mut node = Node::<R>::new(me.clone(), &cfg.routing, cfg.node.clone());
    let db = match &cfg.data_dir {
        Some(dir) => {
            let db = RecordDb::open(dir)?;
            let records = db.load()?;
            info!(records = records.len(), "loaded stored records");
            for r in records {
                node.store_mut().merge(r);
            }
            node.store_mut().track_changes();
            Some(db)
        }
        None => None,
    };
    let (tx, rx) = mpsc::channel(256);
    let listen_p2p: Vec<Multiaddr> = listen
        .iter()
        .map(|a| a.clone().with(Protocol::P2p(peer)))
        .collect();
    info!(%peer, id = %me.id, overlay = R::NAME, "node started");
    for a in &listen_p2p {
        info!(address = %a, "listening");
    }
    let mut driver = Driver::<R> {
        swarm,
        node,
        me: me.clone(),
        rng: rand::make_rng(),
        timers: Timers::new(),
        db,
        inbound: HashMap::new(),
        outbound: HashMap::new(),
        loopback: VecDeque::new(),
        next_op: 0,
        puts: HashMap::new(),
        gets: HashMap::new(),
        lookups: HashMap::new(),
        join_waiters: Vec::new(),
        leave_waiters: Vec::new(),
        discovery: Discovery::default(),
        request_timeout: cfg.node.request_timeout,
        listen: listen_p2p.clone(),
        stopping: false,
        rejected: 0,
    };
    driver.start(bootstrap, &cfg);
    for ev in early {
        driver.on_swarm_event(ev);
    }
    tokio::spawn(driver.run(rx));
    Ok(NetHandle {
        tx,
        peer,
        id: me.id,
        listen: listen_p2p,
    })
}

/// Listens on every address and waits until each listener reports where it listens.
/// Other events that arrive meanwhile (mDNS may already find peers) are kept in `early`.
async fn start_listening(
    swarm: &mut Swarm<NodeBehaviour>,
    addrs: &[Multiaddr],
    early: &mut Vec<SwarmEvent<NodeBehaviourEvent>>,
) -> Result<Vec<Multiaddr>, NetError> {
    let mut waiting = Vec::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
        waiting.push((id, addr.clone()));
    }
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !waiting.is_empty() {
        let ev = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| NetError::Listen {
                addr: waiting[0].1.clone(),
                reason: "no listen address reported within 10 s".into(),
            })?;
        match ev {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                waiting.retain(|(id, _)| *id != listener_id);
                found.push(address);
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                if let Some((_, addr)) = waiting.iter().find(|(id, _)| *id == listener_id) {
                    return Err(NetError::Listen {
                        addr: addr.clone(),
                        reason: format!("{reason:?}"),
                    });
                }
            }
            other => early.push(other),
        }
    }
    // A wildcard listener reports one address per interface, all at once.
    while let Ok(ev) =
        tokio::time::timeout(Duration::from_millis(50), swarm.select_next_some()).await
    {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => found.push(address),
            other => early.push(other),
        }
    }
    Ok(found)
}

/// The addresses a node announces: non-loopback first (other machines can dial them).
fn advertised(listen: &[Multiaddr]) -> Vec<Multiaddr> {
    let loopback = |a: &Multiaddr| {
        a.iter().any(|p| match p {
            Protocol::Ip4(ip) => ip.is_loopback(),
            Protocol::Ip6(ip) => ip.is_loopback(),
            _ => false,
        })
    };
    let mut addrs: Vec<Multiaddr> = listen.iter().filter(|a| !loopback(a)).cloned().collect();
    addrs.extend(listen.iter().filter(|a| loopback(a)).cloned());
    addrs.truncate(MAX_PEER_ADDRS);
    addrs
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

struct Driver<R: Routing<Addr = PeerAddr>> {
    swarm: Swarm<NodeBehaviour>,
    node: Node<R>,
    me: Contact<PeerAddr>,
    rng: Xoshiro256PlusPlus,
    timers: Timers<NodeTimer<R::Timer>>,
    db: Option<RecordDb>,
    /// Requests from peers waiting for the node's response, with when they arrived.
    inbound: HashMap<(PeerId, ReqId), (Instant, ResponseChannel<Frame>)>,
    /// The node's request id of each request in flight.
    outbound: HashMap<OutboundRequestId, ReqId>,
    /// Messages the node sent to itself.
    loopback: VecDeque<WireOf<R>>,
    next_op: u64,
    puts: HashMap<u64, Reply<()>>,
    gets: HashMap<u64, Reply<Option<Vec<u8>>>>,
    lookups: HashMap<u64, Reply<LookupReport>>,
    join_waiters: Vec<oneshot::Sender<()>>,
    leave_waiters: Vec<oneshot::Sender<()>>,
    discovery: Discovery,
    request_timeout: Duration,
    listen: Vec<Multiaddr>,
    /// Set when the node must stop (it left, or its disk failed).
    stopping: bool,
    /// Messages refused before they reached the node (undecodable, forged sender, wrong
    /// kind); the node counts the ones it refuses itself.
    rejected: u64,
}

impl<R: Routing<Addr = PeerAddr>> Driver<R> {
    fn start(&mut self, bootstrap: Vec<Contact<PeerAddr>>, cfg: &NetConfig<R::Config>) {
        if let Some(first) = bootstrap.into_iter().next() {
            info!(via = %first.addr.peer, "joining through the bootstrap node");
            self.feed(Input::Command(Command::Join {
                bootstrap: Some(first),
            }));
        } else if cfg.mdns {
            info!(wait = ?cfg.discovery_wait, "looking for peers on the LAN (mDNS)");
            self.discovery.deadline = Some(Instant::now() + cfg.discovery_wait);
        } else {
            info!("no bootstrap and no mDNS: starting a new overlay");
            self.feed(Input::Command(Command::Join { bootstrap: None }));
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<ApiRequest>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while !self.stopping {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                timer = self.timers.next() => self.feed(Input::Timer(timer)),
                req = rx.recv() => match req {
                    Some(req) => self.on_api(req),
                    None => {
                        info!("every handle dropped: stopping without leaving");
                        return;
                    }
                },
                _ = tick.tick() => {
                    self.sweep_inbound();
                    self.discover();
                }
            }
        }
        // Let the last messages (leave notices, hand-over acknowledgements) go out.
        let _ = tokio::time::timeout(LINGER, async {
            loop {
                self.swarm.select_next_some().await;
            }
        })
        .await;
        for w in self.leave_waiters.drain(..) {
            let _ = w.send(());
        }
        info!("node stopped");
    }

    /// Calls into the node with the current time and carries out what it asks.
    fn drive(&mut self, f: impl FnOnce(&mut Node<R>, &mut Ctx<'_, R>)) {
        let mut out = Vec::new();
        let mut ctx = Ctx {
            now: now(),
            rng: &mut self.rng,
            out: &mut out,
        };
        f(&mut self.node, &mut ctx);
        self.carry_out(out);
    }

    /// Hands `input` to the node and carries out what it asks.
    fn feed(&mut self, input: Input<R>) {
        let peer = match &input {
            Input::Message { from, .. } => Some(from.addr.peer),
            _ => None,
        };
        self.drive(|node, ctx| {
            if let Err(e) = node.handle(ctx, input) {
                warn!(peer = ?peer, error = %e, "rejected a message");
            }
        });
    }

    fn carry_out(&mut self, out: Vec<Output<R>>) {
        // Records reach the disk before any acknowledgement leaves.
        if let Some(db) = &self.db {
            let changed = self.node.store_mut().take_changes();
            if let Err(e) = db.save(self.node.store(), &changed) {
                error!(error = %e, "cannot persist records: stopping the node");
                self.stopping = true;
                return;
            }
        }
        for o in out {
            match o {
                Output::Send { to, msg } => self.send(to, msg),
                Output::Timer { after, timer } => self.timers.set(after, timer),
                Output::Event(e) => self.on_node_event(e),
            }
        }
        while let Some(msg) = self.loopback.pop_front() {
            let from = self.me.clone();
            self.feed(Input::Message { from, msg });
        }
    }

    fn send(&mut self, to: Contact<PeerAddr>, msg: WireOf<R>) {
        if to.id == self.me.id {
            self.loopback.push_back(msg);
            return;
        }
        let envelope = |wire| {
            Frame::Bytes(
                Envelope::<R::Msg> {
                    from: self.me.clone(),
                    wire,
                }
                .encode(),
            )
        };
        match msg {
            Wire::Request { id, .. } => {
                let rid = self
                    .swarm
                    .behaviour_mut()
                    .overlay
                    .send_request_with_addresses(&to.addr.peer, envelope(msg), to.addr.addrs);
                self.outbound.insert(rid, id);
            }
            Wire::Response { id, .. } => match self.inbound.remove(&(to.addr.peer, id)) {
                Some((_, channel)) => {
                    let overlay = &mut self.swarm.behaviour_mut().overlay;
                    if overlay.send_response(channel, envelope(msg)).is_err() {
                        debug!(peer = %to.addr.peer, "the requester closed the stream");
                    }
                }
                None => debug!(peer = %to.addr.peer, id, "response after its request expired"),
            },
        }
    }

    fn on_node_event(&mut self, event: Event<PeerAddr>) {
        match event {
            Event::Joined => {
                info!(id = %self.me.id, "joined the overlay");
                for w in self.join_waiters.drain(..) {
                    let _ = w.send(());
                }
            }
            Event::Left => {
                info!("handed records over and left the overlay");
                self.stopping = true;
            }
            Event::LookupDone {
                op,
                key,
                result,
                hops,
                path,
                messages,
                latency,
            } => {
                if let Some(reply) = self.lookups.remove(&op) {
                    let report = result
                        .map(|nodes| LookupReport {
                            key: key.to_string(),
                            replicas: nodes
                                .iter()
                                .map(|c| (c.id.to_string(), c.addr.peer.to_string()))
                                .collect(),
                            path: path.iter().map(ToString::to_string).collect(),
                            hops,
                            messages,
                            latency_ms: latency.as_secs_f64() * 1e3,
                        })
                        .map_err(|e| ApiError::Failed(e.to_string()));
                    let _ = reply.send(report);
                }
            }
            Event::PutDone { op, result, .. } => {
                if let Some(reply) = self.puts.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::GetDone { op, result, .. } => {
                if let Some(reply) = self.gets.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::Delivered { key, hops, .. } => debug!(%key, hops, "routed message delivered"),
            Event::NeighborUpdate { node, joined } => {
                debug!(peer = %node.addr.peer, joined, "neighbour set changed")
            }
        }
    }

    fn on_api(&mut self, req: ApiRequest) {
        let joined = self.node.phase() == Phase::Joined;
        self.next_op += 1;
        let op = self.next_op;
        match req {
            ApiRequest::Put { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Put {
                value: Some(v),
                reply,
                ..
            } if v.len() > self.node.config().limits.max_value_bytes => {
                let max = self.node.config().limits.max_value_bytes;
                let _ = reply.send(Err(ApiError::BadRequest(format!(
                    "the value has {} bytes; at most {max} are allowed",
                    v.len()
                ))));
            }
            ApiRequest::Put { key, value, reply } => {
                self.puts.insert(op, reply);
                let cmd = match value {
                    Some(value) => Command::Put { op, key, value },
                    None => Command::Remove { op, key },
                };
                self.feed(Input::Command(cmd));
            }
            ApiRequest::Get { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Get { key, reply } => {
                self.gets.insert(op, reply);
                self.feed(Input::Command(Command::Get { op, key }));
            }
            ApiRequest::Lookup { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Lookup { key, reply } => {
                self.lookups.insert(op, reply);
                self.feed(Input::Command(Command::Lookup { op, key }));
            }
            ApiRequest::Status { reply } => {
                let _ = reply.send(self.status());
            }
            ApiRequest::WaitJoined { reply } if joined => {
                let _ = reply.send(());
            }
            ApiRequest::WaitJoined { reply } => self.join_waiters.push(reply),
            ApiRequest::Leave { reply } => {
                self.leave_waiters.push(reply);
                if joined {
                    info!("leaving: handing records over");
                    self.feed(Input::Command(Command::Leave));
                } else if self.node.phase() != Phase::Leaving {
                    self.stopping = true;
                }
            }
        }
    }

    fn status(&self) -> NodeStatus {
        let r = self.node.routing();
        let stats = self.node.stats();
        NodeStatus {
            id: self.me.id.to_string(),
            peer: self.me.addr.peer.to_string(),
            overlay: R::NAME.to_string(),
            phase: format!("{:?}", self.node.phase()),
            listen: self.listen.iter().map(ToString::to_string).collect(),
            routing: r.summary(),
            neighbours: r
                .neighbor_set(STATUS_NEIGHBOURS)
                .into_iter()
                .map(|c| (c.id.to_string(), c.addr.peer.to_string()))
                .collect(),
            stored_keys: self.node.store().len(),
            stored_values: self.node.store().live_values(),
            connected_peers: self.swarm.connected_peers().count(),
            messages_sent: stats.messages_sent,
            timeouts: stats.timeouts,
            rejected: stats.rejected + self.rejected,
        }
    }

    /// Drops requests the node never answered (a peer's request the algorithm ignored), so
    /// the requester learns at once instead of at its transport timeout.
    fn sweep_inbound(&mut self) {
        let limit = self.request_timeout * 2;
        self.inbound.retain(|_, (at, _)| at.elapsed() < limit);
    }

    /// While not in an overlay and without a bootstrap: ask the peers mDNS found, then join
    /// or create as [`Discovery::decide`] says.
    fn discover(&mut self) {
        if self.discovery.deadline.is_none() || self.node.phase() != Phase::Idle {
            return;
        }
        match self.discovery.decide(&self.me, R::NAME, Instant::now()) {
            Decision::Join(via) => {
                info!(via = %via.addr.peer, "joining through a peer found on the LAN");
                self.discovery.deadline = None;
                self.feed(Input::Command(Command::Join {
                    bootstrap: Some(via),
                }));
            }
            Decision::Create => {
                info!("no overlay found on the LAN: starting a new one");
                self.discovery.deadline = None;
                self.feed(Input::Command(Command::Join { bootstrap: None }));
            }
            Decision::Wait => {
                let peers: Vec<PeerId> = self.discovery.peers().copied().collect();
                for p in peers {
                    self.say_hello(p);
                }
            }
        }
    }

    fn say_hello(&mut self, peer: PeerId) {
        let hello = Hello {
            overlay: R::NAME.to_string(),
        };
        self.swarm.behaviour_mut().hello.send_request(&peer, hello);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(NodeBehaviourEvent::Overlay(ev)) => self.on_overlay_event(ev),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Hello(ev)) => self.on_hello_event(ev),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Mdns(mdns::Event::Discovered(found))) => {
                for (peer, addr) in found {
                    self.swarm.add_peer_address(peer, addr.clone());
                    if self.discovery.found(peer, addr) {
                        debug!(%peer, "found a peer on the LAN");
                        if self.discovery.deadline.is_some() {
                            self.say_hello(peer);
                        }
                    }
                }
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Identify(ev)) => {
                debug!(?ev, "identify");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let dir = match endpoint {
                    ConnectedPoint::Dialer { .. } => "out",
                    ConnectedPoint::Listener { .. } => "in",
                };
                debug!(peer = %peer_id, dir, "connected");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "cannot connect");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                debug!(%error, "incoming connection failed");
            }
            _ => {}
        }
    }

    /// Decodes a message from `peer`; a bad one is logged and counted against the peer.
    fn decode(&mut self, peer: &PeerId, frame: Frame) -> Option<Envelope<R::Msg>> {
        let result = match frame {
            Frame::Bytes(bytes) => Envelope::<R::Msg>::decode(&bytes, &self.node.config().limits)
                .map_err(|e| e.to_string()),
            Frame::Oversized => Err(format!(
                "message larger than {} bytes",
                self.node.config().limits.max_message_bytes
            )),
        };
        let reason = match result {
            Ok(env) if !is_genuine(&env.from, peer) => format!(
                "the sender claims id {} which is not the hash of its peer id",
                env.from.id
            ),
            Ok(env) => return Some(env),
            Err(e) => e,
        };
        warn!(%peer, %reason, "rejected a message");
        self.rejected += 1;
        None
    }

    fn on_overlay_event(&mut self, ev: request_response::Event<Frame, Frame>) {
        use request_response::{Event as RrEvent, Message};
        match ev {
            RrEvent::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                // A refused request's channel is dropped: the peer sees its stream closed.
                let Some(Envelope { from, wire }) = self.decode(&peer, request) else {
                    return;
                };
                let Wire::Request { id, .. } = &wire else {
                    warn!(%peer, "rejected: a response sent as a request");
                    self.rejected += 1;
                    return;
                };
                self.inbound.insert((peer, *id), (Instant::now(), channel));
                self.feed(Input::Message { from, msg: wire });
            }
            RrEvent::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let node_id = self.outbound.remove(&request_id);
                let Some(Envelope { from, wire }) = self.decode(&peer, response) else {
                    if let Some(id) = node_id {
                        self.fail_request(id);
                    }
                    return;
                };
                if !matches!(wire, Wire::Response { .. }) {
                    warn!(%peer, "rejected: a request sent as a response");
                    self.rejected += 1;
                    return;
                }
                self.feed(Input::Message { from, msg: wire });
            }
            RrEvent::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(id) = self.outbound.remove(&request_id) {
                    debug!(%peer, %error, "request failed");
                    self.fail_request(id);
                }
            }
            RrEvent::InboundFailure { peer, error, .. } => match error {
                request_response::InboundFailure::ResponseOmission
                | request_response::InboundFailure::ConnectionClosed => {
                    debug!(%peer, %error, "inbound request dropped")
                }
                error => {
                    warn!(%peer, %error, "rejected a request");
                    self.rejected += 1;
                }
            },
            RrEvent::ResponseSent { .. } => {}
        }
    }

    /// The node's request `id` cannot be answered: failed at once instead of at its timeout.
    fn fail_request(&mut self, id: ReqId) {
        self.drive(|node, ctx| node.request_unreachable(ctx, id));
    }

    fn on_hello_event(&mut self, ev: request_response::Event<Hello, HelloReply>) {
        use request_response::{Event as RrEvent, Message};
        match ev {
            RrEvent::Message {
                message: Message::Request { channel, .. },
                ..
            } => {
                let reply = HelloReply {
                    contact: self.me.clone(),
                    overlay: R::NAME.to_string(),
                    joined: self.node.phase() == Phase::Joined,
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .hello
                    .send_response(channel, reply);
            }
            RrEvent::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => self.discovery.answered(peer, response),
            RrEvent::OutboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "no answer to hello");
                self.discovery.unanswered(peer);
            }
            _ => {}
        }
    }
}
