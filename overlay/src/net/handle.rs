//! The application's side of a running node: requests go to the driver task, answers come
//! back on one-shot channels.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::apps::{AppSet, Pick};
use crate::id::{Key, NodeId};
use crate::net::error::ApiError;
use crate::net::peer_addr::PeerAddr;

/// Where a key lives and how the lookup got there (ids as hexadecimal strings, for JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LookupReport {
    /// The key (40 hexadecimal digits).
    pub key: String,
    /// The root, then the rest of the replica set: `(node id, peer id)`.
    pub replicas: Vec<(String, String)>,
    /// The node ids on the way, in order: those that answered an iterative lookup, or
    /// those a recursive one passed through.
    pub path: Vec<String>,
    /// Number of hops.
    pub hops: u32,
    /// Messages sent and received.
    pub messages: u32,
    /// Time the lookup took, in milliseconds.
    pub latency_ms: f64,
}

/// What `p2p status` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Node id (40 hexadecimal digits).
    pub id: String,
    /// libp2p peer id.
    pub peer: String,
    /// Routing algorithm.
    pub overlay: String,
    /// Life-cycle phase (`Joining`, `Joined`, ...).
    pub phase: String,
    /// Addresses the node listens on.
    pub listen: Vec<String>,
    /// The routing algorithm's own summary of its state (fingers, leaf set, map, zones).
    pub routing: String,
    /// The applications it hosts, by protocol name (`dht/1`, ...).
    #[serde(default)]
    pub applications: Vec<String>,
    /// The neighbour set: `(node id, peer id)`.
    pub neighbours: Vec<(String, String)>,
    /// Records held (tombstones included).
    pub stored_keys: usize,
    /// Live values held.
    pub stored_values: usize,
    /// Peers connected right now.
    pub connected_peers: usize,
    /// Messages sent.
    pub messages_sent: u64,
    /// Requests that timed out or could not be delivered.
    pub timeouts: u64,
    /// Messages rejected as malformed or invalid.
    pub rejected: u64,
    /// While not joined: why the last attempt to reach a bootstrap node failed.
    #[serde(default)]
    pub join_problem: Option<String>,
    /// While records cannot be written to disk (a full disk): why. Writes are refused
    /// meanwhile.
    #[serde(default)]
    pub storage_problem: Option<String>,
}

/// A request to the driver task.
pub(crate) enum ApiRequest<X: AppSet<PeerAddr>> {
    App(X::Command),
    Put {
        key: Key,
        value: Option<Vec<u8>>,
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    Get {
        key: Key,
        reply: oneshot::Sender<Result<Option<Vec<u8>>, ApiError>>,
    },
    Lookup {
        key: Key,
        mode: Option<crate::LookupMode>,
        reply: oneshot::Sender<Result<LookupReport, ApiError>>,
    },
    Announce {
        key: Key,
        member: Vec<u8>,
        ttl: Duration,
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    Members {
        key: Key,
        reply: oneshot::Sender<Result<Vec<Vec<u8>>, ApiError>>,
    },
    Status {
        reply: oneshot::Sender<NodeStatus>,
    },
    WaitJoined {
        reply: oneshot::Sender<()>,
    },
    Leave {
        reply: oneshot::Sender<()>,
    },
}

/// A running node, as the application sees it: the DHT's operations, and commands to and
/// events from the extra applications `X` it hosts. Cloning gives another handle to the
/// same node; dropping every handle stops the node without leaving (as a crash would).
pub struct NetHandle<X: AppSet<PeerAddr> = ()> {
    pub(crate) tx: mpsc::Sender<ApiRequest<X>>,
    pub(crate) events: broadcast::Sender<X::Event>,
    /// A receiver made before the node started, handed to the first caller of
    /// [`NetHandle::events`] so that it misses nothing (the join's `update` calls).
    pub(crate) first_events: Arc<Mutex<Option<broadcast::Receiver<X::Event>>>>,
    pub(crate) peer: PeerId,
    pub(crate) id: NodeId,
    pub(crate) listen: Vec<Multiaddr>,
}

impl<X: AppSet<PeerAddr>> Clone for NetHandle<X> {
    fn clone(&self) -> Self {
        NetHandle {
            tx: self.tx.clone(),
            events: self.events.clone(),
            first_events: Arc::clone(&self.first_events),
            peer: self.peer,
            id: self.id,
            listen: self.listen.clone(),
        }
    }
}

impl<X: AppSet<PeerAddr>> std::fmt::Debug for NetHandle<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetHandle")
            .field("peer", &self.peer)
            .field("id", &self.id)
            .field("listen", &self.listen)
            .finish()
    }
}

impl<X: AppSet<PeerAddr>> NetHandle<X> {
    /// Gives one of the extra applications a command; what it reports arrives on
    /// [`NetHandle::events`].
    pub async fn command<C, I>(&self, cmd: C) -> Result<(), ApiError>
    where
        X::Command: Pick<C, I>,
    {
        self.tx
            .send(ApiRequest::App(X::Command::inject(cmd)))
            .await
            .map_err(|_| ApiError::Stopped)
    }

    /// The extra applications' events: from the node's start for the first caller, from
    /// now on for later ones (a slow reader misses the oldest).
    pub fn events(&self) -> broadcast::Receiver<X::Event> {
        let first = self.first_events.lock().map(|mut f| f.take());
        match first {
            Ok(Some(rx)) => rx,
            _ => self.events.subscribe(),
        }
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer
    }

    /// The node's overlay id (SHA-1 of its peer id).
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The addresses it listens on, each ending in `/p2p/<peer id>` (usable as another
    /// node's bootstrap).
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ApiRequest<X>,
    ) -> Result<T, ApiError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| ApiError::Stopped)?;
        rx.await.map_err(|_| ApiError::Stopped)
    }

    /// Stores `value` under `key` on the key's replica set.
    pub async fn put(&self, key: Key, value: Vec<u8>) -> Result<(), ApiError> {
        self.ask(|reply| ApiRequest::Put {
            key,
            value: Some(value),
            reply,
        })
        .await?
    }

    /// Removes `key` (a tombstone replaces the value on every replica).
    pub async fn remove(&self, key: Key) -> Result<(), ApiError> {
        self.ask(|reply| ApiRequest::Put {
            key,
            value: None,
            reply,
        })
        .await?
    }

    /// Reads `key`; `None` when no replica holds a value.
    pub async fn get(&self, key: Key) -> Result<Option<Vec<u8>>, ApiError> {
        self.ask(|reply| ApiRequest::Get { key, reply }).await?
    }

    /// Adds `member` to `key`'s set for `ttl` (at most a day), or extends its time: it
    /// stays among the key's members until then, so announce it again before to keep it.
    pub async fn announce(&self, key: Key, member: Vec<u8>, ttl: Duration) -> Result<(), ApiError> {
        self.ask(|reply| ApiRequest::Announce {
            key,
            member,
            ttl,
            reply,
        })
        .await?
    }

    /// The live members of `key`'s set, most time left first.
    pub async fn members(&self, key: Key) -> Result<Vec<Vec<u8>>, ApiError> {
        self.ask(|reply| ApiRequest::Members { key, reply }).await?
    }

    /// Finds `key`'s root and the path to it, the node's way
    /// ([`crate::NodeConfig::lookup_mode`]).
    pub async fn lookup(&self, key: Key) -> Result<LookupReport, ApiError> {
        self.lookup_with(key, None).await
    }

    /// Finds `key`'s root and the path to it, in `mode` if given.
    pub async fn lookup_with(
        &self,
        key: Key,
        mode: Option<crate::LookupMode>,
    ) -> Result<LookupReport, ApiError> {
        self.ask(|reply| ApiRequest::Lookup { key, mode, reply })
            .await?
    }

    /// The node's state.
    pub async fn status(&self) -> Result<NodeStatus, ApiError> {
        self.ask(|reply| ApiRequest::Status { reply }).await
    }

    /// Waits until the node has joined its overlay.
    pub async fn joined(&self) -> Result<(), ApiError> {
        self.ask(|reply| ApiRequest::WaitJoined { reply }).await
    }

    /// Hands the node's records over, leaves the overlay and stops the node.
    pub async fn leave(&self) -> Result<(), ApiError> {
        self.ask(|reply| ApiRequest::Leave { reply }).await
    }
}
