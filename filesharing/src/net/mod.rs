//! The tokio driver of a [`Session`]: a TCP listener, dials to the peers trackers and the
//! caller name, one task per connection, storage reads and writes, and the session's clock.
//! `p2p seed` and `p2p download` run it.

mod announce;
mod connection;
mod magnet;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::Metainfo;
use crate::session::{Action, Bitfield, PeerKey, Session, SessionConfig, SessionStats};
use crate::storage::Storage;
use crate::wire::{Handshake, PeerId};
use connection::{Event, Outgoing};
pub use magnet::fetch_metadata;

/// How a client runs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Where to accept peers (port 0: any free port).
    pub listen: SocketAddr,
    /// Most connections at once.
    pub max_peers: usize,
    /// Peers to dial besides the trackers' (e.g. from a magnet link or the overlay).
    pub peers: Vec<SocketAddr>,
    /// Whether to announce to the torrent's trackers.
    pub use_trackers: bool,
    /// Whether to keep running (seeding) once complete; otherwise stop then.
    pub keep_seeding: bool,
    /// The session's knobs.
    pub session: SessionConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            max_peers: 50,
            peers: Vec::new(),
            use_trackers: true,
            keep_seeding: false,
            session: SessionConfig::default(),
        }
    }
}

/// The client's state, as a progress display wants it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Bytes of verified pieces held.
    pub have: u64,
    /// Bytes of the torrent.
    pub total: u64,
    /// Connected peers.
    pub peers: usize,
    /// Bytes per second received, over the last seconds.
    pub down_rate: f64,
    /// Bytes per second sent.
    pub up_rate: f64,
    /// Traffic counters.
    pub stats: SessionStats,
}

/// Why a client stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// A magnet link's metadata could not be had from peers.
    #[error("{0}")]
    Metadata(String),
    /// A piece could not be read or written.
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
}

/// A client for one torrent, bound to its port.
pub struct Client {
    meta: Metainfo,
    storage: Storage,
    session: Session,
    config: ClientConfig,
    listener: TcpListener,
    peer_id: PeerId,
    /// Peers found by trackers or by the caller ([`Client::peer_sender`]), to dial.
    found_tx: mpsc::Sender<Vec<SocketAddr>>,
    found_rx: mpsc::Receiver<Vec<SocketAddr>>,
}

/// A new peer id in Azureus style: our client code and version, then random bytes.
pub fn new_peer_id() -> PeerId {
    let mut id = *b"-P20010-000000000000";
    let mut rng = rand::rng();
    for b in &mut id[8..] {
        *b = rng.random_range(b'0'..=b'z');
    }
    id
}

struct Conn {
    tx: mpsc::UnboundedSender<Outgoing>,
    addr: SocketAddr,
    peer_id: PeerId,
    dialed: bool,
}

/// The start of our peer ids: our client, then its version.
const CLIENT_PREFIX: &[u8] = b"-P2";

impl Client {
    /// Binds the listening socket; `have` is what storage verified.
    pub async fn bind(
        meta: Metainfo,
        storage: Storage,
        have: Bitfield,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ClientError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let session = Session::new(&meta.info, have, config.session.clone())
            .with_metadata(meta.info_bytes.clone());
        let (found_tx, found_rx) = mpsc::channel(8);
        Ok(Client {
            meta,
            storage,
            session,
            config,
            listener,
            peer_id: new_peer_id(),
            found_tx,
            found_rx,
        })
    }

    /// Where to send peers found some other way while the client runs (through the
    /// overlay, say); it dials those it does not know yet.
    pub fn peer_sender(&self) -> mpsc::Sender<Vec<SocketAddr>> {
        self.found_tx.clone()
    }

    /// The address peers reach us at.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    /// Runs until complete (or, with `keep_seeding`, until `stop` resolves), publishing
    /// progress every half second. Returns the session's counters, and whether it is
    /// complete.
    pub async fn run(
        mut self,
        progress: watch::Sender<Progress>,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(SessionStats, bool), ClientError> {
        let start = Instant::now();
        let total = self.meta.info.total_length();
        let ours = Handshake::new(self.meta.info_hash, self.peer_id).with_extensions();
        let (events_tx, mut events) = mpsc::channel::<Event>(1024);
        let (report_tx, report_rx) = watch::channel(self.report());
        let peers_tx = self.found_tx.clone();
        // Taken out of `self`, which the loop borrows.
        let mut found = std::mem::replace(&mut self.found_rx, mpsc::channel(1).1);
        let trackers: Vec<String> = self.meta.trackers.iter().flatten().cloned().collect();
        if self.config.use_trackers && !trackers.is_empty() {
            tokio::spawn(announce::announce_loop(
                trackers,
                self.meta.info_hash,
                self.peer_id,
                self.local_addr().port(),
                report_rx,
                peers_tx,
            ));
        }
        let mut known: Vec<SocketAddr> = self.config.peers.clone();
        // When each address may be dialed again, and how many dials have failed in a row.
        let mut retry: HashMap<SocketAddr, (Instant, u32)> = HashMap::new();
        let mut dialing: HashSet<SocketAddr> = HashSet::new();
        let mut conns: HashMap<PeerKey, Conn> = HashMap::new();
        let mut banned: HashSet<PeerId> = HashSet::new();
        let mut next_key: PeerKey = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let me = self.local_addr();
        tokio::pin!(stop);
        let complete_at_start = self.session.is_complete();
        loop {
            tokio::select! {
                _ = &mut stop => break,
                Ok((stream, addr)) = self.listener.accept() => {
                    if conns.len() + dialing.len() >= self.config.max_peers {
                        continue;
                    }
                    next_key += 1;
                    tokio::spawn(connection::run(stream, addr, next_key, ours, false, events_tx.clone()));
                }
                Some(list) = found.recv() => {
                    for addr in list {
                        if !known.contains(&addr) && addr != me {
                            known.push(addr);
                        }
                    }
                }
                Some(event) = events.recv() => {
                    let now = start.elapsed();
                    match event {
                        Event::Connected { key, addr, theirs, tx, dialed } => {
                            if dialed {
                                dialing.remove(&addr);
                            }
                            if banned.contains(&theirs.peer_id) {
                                let _ = tx.send(Outgoing::Close);
                                continue;
                            }
                            // Two connections to one peer (each side dialed the other): of
                            // ours, both sides keep the one the higher id dialed. Other
                            // clients drop the one they do not want themselves; dropping one
                            // here too could close both.
                            let twin = conns.iter().find(|(_, c)| c.peer_id == theirs.peer_id).map(|(k, c)| (*k, c.dialed));
                            if let Some((old, old_dialed)) = twin
                                && theirs.peer_id.starts_with(CLIENT_PREFIX)
                            {
                                let keep_ours = self.peer_id > theirs.peer_id;
                                if dialed != keep_ours {
                                    let _ = tx.send(Outgoing::Close);
                                    continue;
                                }
                                if old_dialed != keep_ours
                                    && let Some(c) = conns.remove(&old)
                                {
                                    let _ = c.tx.send(Outgoing::Close);
                                    self.session.peer_disconnected(old);
                                }
                            }
                            tracing::debug!(%addr, "peer connected");
                            conns.insert(key, Conn { tx, addr, peer_id: theirs.peer_id, dialed });
                            self.session.peer_connected(key, &theirs, now);
                        }
                        Event::Failed { addr, why } => {
                            dialing.remove(&addr);
                            tracing::debug!(%addr, "{why}");
                        }
                        Event::Message(key, m) => self.session.message(key, m, now),
                        Event::Sent(key, bytes) => self.session.block_sent(key, bytes, now),
                        Event::Closed(key, why) => {
                            if let Some(c) = conns.remove(&key) {
                                tracing::debug!(addr = %c.addr, "peer gone: {why}");
                                self.session.peer_disconnected(key);
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = start.elapsed();
                    self.session.tick(now);
                    let (down_rate, up_rate) = self.session.rates(now);
                    progress.send_replace(Progress {
                        have: self.session.bytes_held(),
                        total,
                        peers: conns.len(),
                        down_rate,
                        up_rate,
                        stats: self.session.stats().clone(),
                    });
                    report_tx.send_replace(self.report());
                    // Dial known peers while there is room, unless about to stop.
                    let wall = Instant::now();
                    let connected: HashSet<SocketAddr> = conns.values().map(|c| c.addr).collect();
                    let stopping = self.session.is_complete() && !self.config.keep_seeding;
                    for addr in known.iter().filter(|_| !stopping) {
                        if conns.len() + dialing.len() >= self.config.max_peers {
                            break;
                        }
                        if connected.contains(addr) || dialing.contains(addr)
                            || retry.get(addr).is_some_and(|(t, _)| *t > wall)
                        {
                            continue;
                        }
                        // Each dial of an address waits longer than the last, so a peer that is not up
                        // yet is tried again soon and one that keeps failing or closing rarely.
                        let failures = retry.get(addr).map_or(0, |(_, n)| *n);
                        let wait = Duration::from_secs(1 << failures.min(6)).min(Duration::from_secs(60));
                        retry.insert(*addr, (wall + wait, failures + 1));
                        dialing.insert(*addr);
                        next_key += 1;
                        tokio::spawn(dial(*addr, next_key, ours, events_tx.clone()));
                    }
                }
            }
            while let Some(action) = self.session.poll_action() {
                match action {
                    Action::Send(key, m) => {
                        if let Some(c) = conns.get(&key) {
                            let _ = c.tx.send(Outgoing::Message(m));
                        }
                    }
                    Action::Close { peer, reason, ban } => {
                        if let Some(c) = conns.remove(&peer) {
                            tracing::debug!(addr = %c.addr, "closing: {reason}");
                            let _ = c.tx.send(Outgoing::Close);
                            if ban {
                                tracing::warn!(addr = %c.addr, "banned: {reason}");
                                banned.insert(c.peer_id);
                            }
                        }
                    }
                    Action::Read(key, block) => {
                        let data = self.storage.read(block.index, block.begin, block.length)?;
                        self.session.block_read(key, block, data, start.elapsed());
                    }
                    Action::Write { index, data } => self.storage.write_piece(index, &data)?,
                    Action::Complete => {}
                }
            }
            if self.session.is_complete() && !complete_at_start && !self.config.keep_seeding {
                break;
            }
        }
        if self.session.is_complete() {
            self.storage
                .sync()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        for c in conns.values() {
            let _ = c.tx.send(Outgoing::Close);
        }
        let stats = self.session.stats().clone();
        let complete = self.session.is_complete();
        report_tx.send_replace(self.report());
        // Dropping the report channel makes the announcer say `stopped`; give it a moment.
        drop(report_tx);
        progress.send_replace(Progress {
            have: self.session.bytes_held(),
            total,
            peers: 0,
            down_rate: 0.0,
            up_rate: 0.0,
            stats: stats.clone(),
        });
        Ok((stats, complete))
    }

    fn report(&self) -> announce::Report {
        let stats = self.session.stats();
        announce::Report {
            uploaded: stats.uploaded,
            downloaded: stats.downloaded,
            left: self.meta.info.total_length() - self.session.bytes_held(),
        }
    }
}

async fn dial(addr: SocketAddr, key: PeerKey, ours: Handshake, events: mpsc::Sender<Event>) {
    match tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => connection::run(stream, addr, key, ours, true, events).await,
        Ok(Err(e)) => {
            let _ = events
                .send(Event::Failed {
                    addr,
                    why: e.to_string(),
                })
                .await;
        }
        Err(_) => {
            let why = "no answer within 10 s".into();
            let _ = events.send(Event::Failed { addr, why }).await;
        }
    }
}
