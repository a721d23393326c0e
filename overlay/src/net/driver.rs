//! The task that runs one `p2p node`: it owns the swarm, whose [`OverlayBehaviour`] hosts
//! the node, turns API requests into calls on the overlay and its events into answers, and
//! finds the overlay to join (bootstrap nodes, or peers found by mDNS).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId, Swarm, identity::Keypair, mdns, noise, tcp, yamux};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::apps::AppSet;
use crate::apps::Layer;
use crate::contact::Contact;
use crate::dht::DhtEvent;
use crate::io::Event;
use crate::net::behaviour::{NodeApps, NodeBehaviour, NodeBehaviourEvent};
use crate::net::config::NetConfig;
use crate::net::discovery::{Decision, Discovery};
use crate::net::envelope::{Hello, HelloReply};
use crate::net::error::{ApiError, NetError};
use crate::net::handle::{ApiRequest, LookupReport, NetHandle, NodeStatus};
use crate::net::identity;
use crate::net::overlay_behaviour::{OverlayBehaviour, OverlayEvent};
use crate::net::peer_addr::{MAX_PEER_ADDRS, PeerAddr, contact_from_multiaddr};
use crate::net::persist::RecordDb;
use crate::net::swarm_settings::swarm_settings;
use crate::node::Phase;
use crate::routing::Routing;

/// Neighbours shown by `status`.
const STATUS_NEIGHBOURS: usize = 32;
/// How long a leaving node keeps its connections open so its last messages get out.
const LINGER: Duration = Duration::from_millis(500);

/// Starts a node of routing algorithm `R` hosting the DHT on the current tokio runtime:
/// loads or creates its identity and records, listens, and joins (through the first
/// reachable `bootstrap` node, through a peer found by mDNS, or as the first node).
/// Returns once it listens; [`NetHandle::joined`] waits for the join.
pub async fn spawn<R>(cfg: NetConfig<R::Config>) -> Result<NetHandle, NetError>
where
    R: Routing<Addr = PeerAddr>,
{
    spawn_with::<R, ()>(cfg, ()).await
}

/// [`spawn`], with the applications `extra` hosted beside the DHT.
pub async fn spawn_with<R, X>(cfg: NetConfig<R::Config>, extra: X) -> Result<NetHandle<X>, NetError>
where
    R: Routing<Addr = PeerAddr>,
    X: AppSet<PeerAddr>,
{
    let key = match &cfg.data_dir {
        Some(dir) => identity::load_or_create(dir)?,
        None => Keypair::generate_ed25519(),
    };
    let peer = key.public().to_peer_id();
    let mut bootstrap = crate::net::resolve::resolve_names(&cfg.bootstrap)
        .await?
        .iter()
        .map(contact_from_multiaddr)
        .collect::<Result<VecDeque<_>, _>>()?;
    bootstrap.retain(|b| {
        let me = b.addr.peer == peer;
        if me {
            warn!(address = %b.addr.addrs.first().map(ToString::to_string).unwrap_or_default(),
                "a bootstrap address names this node itself: skipped");
        }
        !me
    });
    if bootstrap.is_empty() && !cfg.bootstrap.is_empty() {
        warn!("no bootstrap node but this one: starting a new overlay");
    }
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_behaviour(|key| {
            NodeBehaviour::<R, X>::new(key, &cfg, extra)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| NetError::Setup(e.to_string()))?
        .with_swarm_config(|c| swarm_settings(c, cfg.idle_timeout))
        .build();
    let mut early = Vec::new();
    let listen = start_listening(&mut swarm, &cfg.listen, &mut early).await?;
    swarm.behaviour_mut().overlay.start(advertised(&listen))?;
    swarm
        .behaviour_mut()
        .overlay
        .set_clock_offset(cfg.clock_offset_us);
    if let Some(dir) = &cfg.data_dir {
        let loaded = swarm
            .behaviour_mut()
            .overlay
            .persist(RecordDb::open(dir)?)?;
        info!(records = loaded, "loaded stored records");
    }
    let id = swarm.behaviour().overlay.contact().id;
    let (tx, rx) = mpsc::channel(256);
    let (events, first_events) = broadcast::channel(4096);
    let listen_p2p: Vec<Multiaddr> = listen
        .iter()
        .map(|a| a.clone().with(Protocol::P2p(peer)))
        .collect();
    info!(%peer, %id, overlay = R::NAME, "node started");
    for a in &listen_p2p {
        info!(address = %a, "listening");
    }
    let mut driver = Driver::<R, X> {
        swarm,
        events: events.clone(),
        puts: HashMap::new(),
        gets: HashMap::new(),
        announces: HashMap::new(),
        members: HashMap::new(),
        lookups: HashMap::new(),
        join_waiters: Vec::new(),
        leave_waiters: Vec::new(),
        discovery: Discovery::default(),
        bootstrap_addrs: bootstrap
            .iter()
            .map(|b| (b.addr.peer, b.addr.addrs.clone()))
            .collect(),
        bootstrap,
        join_problem: None,
        storage_problem: None,
        listen: listen_p2p.clone(),
        stopping: false,
    };
    driver.start(&cfg);
    for ev in early {
        driver.on_swarm_event(ev);
    }
    tokio::spawn(driver.run(rx));
    Ok(NetHandle {
        tx,
        events,
        first_events: std::sync::Arc::new(std::sync::Mutex::new(Some(first_events))),
        peer,
        id,
        listen: listen_p2p,
    })
}

/// Listens on every address and waits until each listener reports where it listens.
/// Other events that arrive meanwhile (mDNS may already find peers) are kept in `early`.
async fn start_listening<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>>(
    swarm: &mut Swarm<NodeBehaviour<R, X>>,
    addrs: &[Multiaddr],
    early: &mut Vec<SwarmEvent<NodeBehaviourEvent<R, X>>>,
) -> Result<Vec<Multiaddr>, NetError> {
    // Every port is probed before any is opened: a node listening on both IPv4 and IPv6
    // wildcards must not find its own first listener in the way of the second probe.
    for addr in addrs {
        refuse_taken_port(addr)?;
    }
    let mut waiting = Vec::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen {
                addr: addr.clone(),
                reason: innermost_cause(&e),
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

/// The text of an error's deepest source: libp2p's transport errors print nothing of
/// their own and carry the system's error ("Too many open files") as their source.
fn innermost_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// A dial error in one line: libp2p's own text for a transport failure is a list of
/// every address with a nested error; the innermost cause is what a user needs.
fn dial_reason(error: &libp2p::swarm::DialError) -> String {
    use libp2p::swarm::DialError;
    match error {
        DialError::Transport(errors) => errors
            .iter()
            .map(|(_, e)| innermost_cause(e))
            .collect::<Vec<_>>()
            .join("; "),
        DialError::WrongPeerId { obtained, .. } => {
            format!("the node there is {obtained}, not the peer the address names")
        }
        other => other.to_string(),
    }
}

/// Fails when another process already listens on `addr`'s TCP port. libp2p listens with
/// SO_REUSEPORT, so without this check a second node would share the port with the first
/// and take some of its connections. A plain bind (no SO_REUSEPORT) is refused by the
/// kernel exactly when a listener holds the port.
fn refuse_taken_port(addr: &Multiaddr) -> Result<(), NetError> {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    let (Some(ip), Some(port)) = (ip, port) else {
        return Ok(());
    };
    if port == 0 {
        return Ok(());
    }
    match std::net::TcpListener::bind((ip, port)) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(NetError::Listen {
            addr: addr.clone(),
            reason: format!(
                "port {port} is already in use (is another node running? pick another \
                 with --listen)"
            ),
        }),
        // Any other failure (an address this machine does not have, ...) is the
        // transport's to report, as before.
        _ => Ok(()),
    }
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

struct Driver<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>> {
    swarm: Swarm<NodeBehaviour<R, X>>,
    /// The extra applications' events, for every handle that listens.
    events: broadcast::Sender<X::Event>,
    puts: HashMap<u64, Reply<()>>,
    gets: HashMap<u64, Reply<Option<Vec<u8>>>>,
    announces: HashMap<u64, Reply<()>>,
    members: HashMap<u64, Reply<Vec<Vec<u8>>>>,
    lookups: HashMap<u64, Reply<LookupReport>>,
    join_waiters: Vec<oneshot::Sender<()>>,
    leave_waiters: Vec<oneshot::Sender<()>>,
    discovery: Discovery,
    /// Bootstrap nodes not tried yet; the first one connected to is joined through.
    bootstrap: VecDeque<Contact<PeerAddr>>,
    /// Every bootstrap node given, with its addresses, to say which failed and how.
    bootstrap_addrs: HashMap<PeerId, Vec<Multiaddr>>,
    /// Why the last attempt to reach a bootstrap node failed, while not joined.
    join_problem: Option<String>,
    /// Why records cannot be written to disk, while they cannot.
    storage_problem: Option<String>,
    listen: Vec<Multiaddr>,
    /// Set when the node must stop (it left).
    stopping: bool,
}

impl<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>> Driver<R, X> {
    fn overlay(&mut self) -> &mut OverlayBehaviour<R, NodeApps<X>> {
        &mut self.swarm.behaviour_mut().overlay
    }

    fn phase(&self) -> Phase {
        self.swarm.behaviour().overlay.node().phase()
    }

    fn start(&mut self, cfg: &NetConfig<R::Config>) {
        if !self.bootstrap.is_empty() {
            self.try_next_bootstrap();
        } else if cfg.mdns {
            info!(wait = ?cfg.discovery_wait, "looking for peers on the LAN (mDNS)");
            self.discovery.deadline = Some(Instant::now() + cfg.discovery_wait);
        } else {
            info!("no bootstrap and no mDNS: starting a new overlay");
            self.overlay().join(None);
        }
    }

    /// Dials the next bootstrap node; the join goes through it once connected. When every
    /// one has failed, the last is joined through anyway: the algorithm's own join retries
    /// then keep trying it.
    fn try_next_bootstrap(&mut self) {
        let Some(next) = self.bootstrap.front().cloned() else {
            return;
        };
        if self.bootstrap.len() == 1 {
            info!(via = %next.addr.peer, "joining through the bootstrap node");
            self.bootstrap.clear();
            self.overlay().join(Some(next));
            return;
        }
        let opts = DialOpts::peer_id(next.addr.peer)
            .addresses(next.addr.addrs.clone())
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            warn!(peer = %next.addr.peer, error = %e, "cannot dial the bootstrap node");
            self.bootstrap.pop_front();
            self.try_next_bootstrap();
        }
    }

    /// A connection to or a failure to reach `peer`, while bootstrap nodes are being tried.
    fn bootstrap_reached(&mut self, peer: PeerId, reached: bool) {
        if self.bootstrap.front().is_none_or(|b| b.addr.peer != peer) {
            return;
        }
        let Some(via) = self.bootstrap.pop_front() else {
            return;
        };
        if reached {
            info!(via = %peer, "joining through the bootstrap node");
            self.bootstrap.clear();
            self.overlay().join(Some(via));
        } else {
            warn!(%peer, "bootstrap node unreachable: trying the next");
            self.try_next_bootstrap();
        }
    }

    /// Says why a bootstrap node could not be reached, while the node is not joined: the
    /// warning names the address, and `status` shows it until the node joins.
    fn bootstrap_failed(&mut self, peer: PeerId, error: &libp2p::swarm::DialError) {
        // Only a node still joining needs its bootstrap node; one leaving may find it gone.
        if !matches!(self.phase(), Phase::Idle | Phase::Joining) {
            return;
        }
        let Some(addrs) = self.bootstrap_addrs.get(&peer) else {
            return;
        };
        let address = addrs
            .first()
            .map(|a| a.clone().with(Protocol::P2p(peer)).to_string())
            .unwrap_or_else(|| peer.to_string());
        let reason = dial_reason(error);
        warn!(%address, %reason, "cannot reach the bootstrap node");
        self.join_problem = Some(format!("cannot reach bootstrap node {address}: {reason}"));
    }

    async fn run(mut self, mut rx: mpsc::Receiver<ApiRequest<X>>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while !self.stopping {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                req = rx.recv() => match req {
                    Some(req) => self.on_api(req),
                    None => {
                        info!("every handle dropped: stopping without leaving");
                        return;
                    }
                },
                _ = tick.tick() => self.discover(),
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

    fn on_overlay_event(&mut self, event: OverlayEvent<<NodeApps<X> as AppSet<PeerAddr>>::Event>) {
        let event = match event {
            OverlayEvent::Node(e) => e,
            OverlayEvent::StorageFailed(e) => {
                error!(error = %e, "cannot write records to disk: writes are refused until it \
                    takes them again; reads and routing go on");
                let refusal = ApiError::Storage(e.clone());
                for (_, reply) in self.puts.drain() {
                    let _ = reply.send(Err(refusal.clone()));
                }
                self.storage_problem = Some(e);
                return;
            }
            OverlayEvent::StorageRecovered => {
                info!("records are written to disk again: writes accepted");
                self.storage_problem = None;
                return;
            }
        };
        match event {
            Event::Joined => {
                info!(id = %self.swarm.behaviour().overlay.contact().id, "joined the overlay");
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
            Event::App(Layer::Head(DhtEvent::PutDone { op, result, .. })) => {
                if let Some(reply) = self.puts.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::App(Layer::Head(DhtEvent::GetDone { op, result, .. })) => {
                if let Some(reply) = self.gets.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::App(Layer::Head(DhtEvent::AnnounceDone { op, result, .. })) => {
                if let Some(reply) = self.announces.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::App(Layer::Head(DhtEvent::MembersDone { op, result, .. })) => {
                if let Some(reply) = self.members.remove(&op) {
                    let _ = reply.send(result.map_err(|e| ApiError::Failed(e.to_string())));
                }
            }
            Event::App(Layer::Tail(e)) => {
                // Nobody listening is fine: the events are for whoever wants them.
                let _ = self.events.send(e);
            }
            Event::NeighborUpdate { node, joined } => {
                debug!(peer = %node.addr.peer, joined, "neighbour set changed")
            }
        }
    }

    fn on_api(&mut self, req: ApiRequest<X>) {
        let joined = self.phase() == Phase::Joined;
        match req {
            ApiRequest::App(cmd) => {
                self.overlay()
                    .feed_command(crate::io::Command::App(Layer::Tail(cmd)));
            }
            ApiRequest::Put { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Put { reply, .. } if self.storage_problem.is_some() => {
                let problem = self.storage_problem.clone().unwrap_or_default();
                let _ = reply.send(Err(ApiError::Storage(problem)));
            }
            ApiRequest::Put {
                value: Some(v),
                reply,
                ..
            } if v.len() > self.max_value_bytes() => {
                let max = self.max_value_bytes();
                let _ = reply.send(Err(ApiError::BadRequest(format!(
                    "the value has {} bytes; at most {max} are allowed",
                    v.len()
                ))));
            }
            ApiRequest::Put { key, value, reply } => {
                let op = self.overlay().put(key, value);
                self.puts.insert(op, reply);
            }
            ApiRequest::Get { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Get { key, reply } => {
                let op = self.overlay().get(key);
                self.gets.insert(op, reply);
            }
            ApiRequest::Announce { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Announce { member, reply, .. }
                if member.len() > crate::dht::MAX_MEMBER_BYTES =>
            {
                let _ = reply.send(Err(ApiError::BadRequest(format!(
                    "the member has {} bytes; at most {} are allowed",
                    member.len(),
                    crate::dht::MAX_MEMBER_BYTES
                ))));
            }
            ApiRequest::Announce {
                key,
                member,
                ttl,
                reply,
            } => {
                let op = self.overlay().announce(key, member, ttl);
                self.announces.insert(op, reply);
            }
            ApiRequest::Members { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Members { key, reply } => {
                let op = self.overlay().members(key);
                self.members.insert(op, reply);
            }
            ApiRequest::Lookup { reply, .. } if !joined => {
                let _ = reply.send(Err(ApiError::NotJoined));
            }
            ApiRequest::Lookup { key, mode, reply } => {
                let op = self.overlay().lookup(key, mode);
                self.lookups.insert(op, reply);
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
                    self.overlay().leave();
                } else if self.phase() != Phase::Leaving {
                    self.stopping = true;
                }
            }
        }
    }

    fn max_value_bytes(&self) -> usize {
        self.swarm
            .behaviour()
            .overlay
            .node()
            .config()
            .limits
            .max_value_bytes
    }

    fn status(&self) -> NodeStatus {
        let overlay = &self.swarm.behaviour().overlay;
        let node = overlay.node();
        let me = overlay.contact();
        let r = node.routing();
        let stats = node.stats();
        NodeStatus {
            id: me.id.to_string(),
            peer: me.addr.peer.to_string(),
            overlay: R::NAME.to_string(),
            phase: format!("{:?}", node.phase()),
            listen: self.listen.iter().map(ToString::to_string).collect(),
            routing: r.summary(),
            applications: <NodeApps<X> as AppSet<PeerAddr>>::protocols(),
            neighbours: r
                .neighbor_set(STATUS_NEIGHBOURS)
                .into_iter()
                .map(|c| (c.id.to_string(), c.addr.peer.to_string()))
                .collect(),
            stored_keys: node.apps().0.store().len(),
            stored_values: node.apps().0.store().live_values(),
            connected_peers: self.swarm.connected_peers().count(),
            messages_sent: stats.messages_sent,
            timeouts: stats.timeouts,
            rejected: overlay.rejected(),
            join_problem: if node.phase() == Phase::Joined {
                None
            } else {
                self.join_problem.clone()
            },
            storage_problem: self.storage_problem.clone(),
        }
    }

    /// While not in an overlay and without a bootstrap: ask the peers mDNS found, then join
    /// or create as [`Discovery::decide`] says.
    fn discover(&mut self) {
        if self.discovery.deadline.is_none() || self.phase() != Phase::Idle {
            return;
        }
        let me = self.swarm.behaviour().overlay.contact().clone();
        match self.discovery.decide(&me, R::NAME, Instant::now()) {
            Decision::Join(via) => {
                info!(via = %via.addr.peer, "joining through a peer found on the LAN");
                self.discovery.deadline = None;
                self.overlay().join(Some(via));
            }
            Decision::Create => {
                info!("no overlay found on the LAN: starting a new one");
                self.discovery.deadline = None;
                self.overlay().join(None);
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
            addrs: self.swarm.behaviour().overlay.contact().addr.addrs.clone(),
        };
        self.swarm.behaviour_mut().hello.send_request(&peer, hello);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent<R, X>>) {
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
                self.bootstrap_reached(peer_id, true);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "cannot connect");
                if let Some(peer) = peer_id {
                    self.bootstrap_failed(peer, &error);
                    self.bootstrap_reached(peer, false);
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                debug!(%error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_hello_event(&mut self, ev: request_response::Event<Hello, HelloReply>) {
        use request_response::{Event as RrEvent, Message};
        match ev {
            RrEvent::Message {
                peer,
                message:
                    Message::Request {
                        channel, request, ..
                    },
                ..
            } => {
                if self.discovery.deadline.is_some() && self.discovery.asked_by(peer, request.addrs)
                {
                    info!(%peer, "a peer on the LAN found us before mDNS showed it to us");
                    self.say_hello(peer);
                }
                let reply = HelloReply {
                    contact: self.swarm.behaviour().overlay.contact().clone(),
                    overlay: R::NAME.to_string(),
                    joined: self.phase() == Phase::Joined,
                    lan: self.discovery.lan_for(&peer),
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
            } => {
                let me = *self.swarm.local_peer_id();
                for told in self.discovery.answered(&me, peer, response) {
                    info!(peer = %told.peer, via = %peer, "heard of a peer on the LAN");
                    for addr in told.addrs {
                        self.swarm.add_peer_address(told.peer, addr);
                    }
                    if self.discovery.deadline.is_some() {
                        self.say_hello(told.peer);
                    }
                }
            }
            RrEvent::OutboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "no answer to hello");
                self.discovery.unanswered(peer);
            }
            _ => {}
        }
    }
}
