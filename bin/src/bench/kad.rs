//! The baseline of `bench net`: libp2p's own Kademlia (`libp2p-kad`, k = 20, α = 3), real
//! nodes on loopback, driven through the same kind of handle as our overlays.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libp2p::futures::StreamExt;
use libp2p::kad::{self, GetRecordOk, Mode, QueryId, QueryResult, Quorum, Record, RecordKey};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use overlay::net::swarm_settings;
use tokio::sync::{mpsc, oneshot};

type KadBehaviour = kad::Behaviour<kad::store::MemoryStore>;

/// One finished Kademlia lookup: the number of requests it sent and whether it found peers.
pub struct KadLookup {
    /// Requests sent (each answered one is also a message back).
    pub requests: u32,
    /// Requests answered.
    pub answered: u32,
    /// Whether the query found any closest peers.
    pub ok: bool,
}

enum KadCmd {
    Closest(Vec<u8>, oneshot::Sender<KadLookup>),
    Put(Vec<u8>, Vec<u8>, oneshot::Sender<bool>),
    Get(Vec<u8>, oneshot::Sender<Option<Vec<u8>>>),
}

/// A running libp2p-kad node.
#[derive(Clone)]
pub struct KadNode {
    tx: mpsc::Sender<KadCmd>,
    /// Its peer id.
    pub peer: PeerId,
    /// Where it listens.
    pub addr: Multiaddr,
}

impl KadNode {
    /// Starts a Kademlia node on loopback that knows `known` (peer and address).
    pub async fn start(known: Option<&KadNode>) -> Result<KadNode> {
        let mut swarm: Swarm<KadBehaviour> = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )?
            .with_behaviour(|key| {
                let peer = key.public().to_peer_id();
                let mut config = kad::Config::new(kad::PROTOCOL_NAME);
                // Bootstrapped explicitly below; the periodic one only warns on the first node.
                config.set_periodic_bootstrap_interval(None);
                kad::Behaviour::with_config(peer, kad::store::MemoryStore::new(peer), config)
            })?
            // The same transport settings as our nodes': the comparison is of the protocols.
            .with_swarm_config(|c| swarm_settings(c, Duration::from_secs(120)))
            .build();
        // Loopback addresses are never "confirmed external": without this Kademlia would
        // stay a client and answer nobody.
        swarm.behaviour_mut().set_mode(Some(Mode::Server));
        swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        if let Some(k) = known {
            swarm.behaviour_mut().add_address(&k.peer, k.addr.clone());
            swarm.behaviour_mut().bootstrap().context("kad bootstrap")?;
        }
        let peer = *swarm.local_peer_id();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(run(swarm, rx));
        Ok(KadNode { tx, peer, addr })
    }

    /// `get_closest_peers(key)`: Kademlia's lookup.
    pub async fn closest(&self, key: Vec<u8>) -> Option<KadLookup> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(KadCmd::Closest(key, reply)).await.ok()?;
        rx.await.ok()
    }

    /// `put_record` with quorum one.
    pub async fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(KadCmd::Put(key, value, reply)).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// `get_record`: the first value found.
    pub async fn get(&self, key: Vec<u8>) -> Option<Vec<u8>> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(KadCmd::Get(key, reply)).await.ok()?;
        rx.await.ok().flatten()
    }
}

enum Pending {
    Closest(oneshot::Sender<KadLookup>),
    Put(oneshot::Sender<bool>),
    Get(Option<oneshot::Sender<Option<Vec<u8>>>>),
}

async fn run(mut swarm: Swarm<KadBehaviour>, mut rx: mpsc::Receiver<KadCmd>) {
    let mut pending: HashMap<QueryId, Pending> = HashMap::new();
    loop {
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return };
                let kad = swarm.behaviour_mut();
                match cmd {
                    KadCmd::Closest(key, reply) => {
                        pending.insert(kad.get_closest_peers(key), Pending::Closest(reply));
                    }
                    KadCmd::Put(key, value, reply) => {
                        match kad.put_record(Record::new(RecordKey::new(&key), value), Quorum::One) {
                            Ok(id) => {
                                pending.insert(id, Pending::Put(reply));
                            }
                            Err(_) => {
                                let _ = reply.send(false);
                            }
                        }
                    }
                    KadCmd::Get(key, reply) => {
                        pending.insert(kad.get_record(RecordKey::new(&key)), Pending::Get(Some(reply)));
                    }
                }
            }
            ev = swarm.select_next_some() => {
                let SwarmEvent::Behaviour(kad::Event::OutboundQueryProgressed { id, result, stats, step }) = ev else {
                    continue;
                };
                match (pending.get_mut(&id), result) {
                    (Some(Pending::Get(reply)), QueryResult::GetRecord(r)) => {
                        if let Ok(GetRecordOk::FoundRecord(found)) = r
                            && let Some(reply) = reply.take()
                        {
                            let _ = reply.send(Some(found.record.value));
                            if let Some(mut q) = swarm.behaviour_mut().query_mut(&id) {
                                q.finish();
                            }
                        }
                    }
                    (Some(_), QueryResult::GetClosestPeers(r)) if step.last => {
                        if let Some(Pending::Closest(reply)) = pending.remove(&id) {
                            let _ = reply.send(KadLookup {
                                requests: stats.num_requests(),
                                answered: stats.num_successes(),
                                ok: r.is_ok_and(|ok| !ok.peers.is_empty()),
                            });
                        }
                        continue;
                    }
                    (Some(_), QueryResult::PutRecord(r)) if step.last => {
                        if let Some(Pending::Put(reply)) = pending.remove(&id) {
                            let _ = reply.send(r.is_ok());
                        }
                        continue;
                    }
                    _ => {}
                }
                if step.last
                    && let Some(Pending::Get(Some(reply))) = pending.remove(&id)
                {
                    let _ = reply.send(None);
                }
            }
        }
    }
}

/// Starts `n` Kademlia nodes, each bootstrapped through a random earlier one, and lets
/// their routing tables fill.
pub async fn start_network(n: usize, settle: Duration) -> Result<Vec<KadNode>> {
    use rand::RngExt;
    let mut nodes: Vec<KadNode> = Vec::with_capacity(n);
    for _ in 0..n {
        let known = (!nodes.is_empty()).then(|| &nodes[rand::rng().random_range(0..nodes.len())]);
        let node = KadNode::start(known).await?;
        nodes.push(node);
    }
    let started = Instant::now();
    // A second bootstrap round once everyone exists fills the buckets as a long-running
    // network's periodic bootstrap would.
    for node in &nodes {
        let _ = node.closest(node.peer.to_bytes()).await;
    }
    tokio::time::sleep(settle.saturating_sub(started.elapsed())).await;
    Ok(nodes)
}
