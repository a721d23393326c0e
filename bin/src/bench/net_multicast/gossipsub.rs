//! The baseline of `bench net-multicast`: libp2p's gossipsub in its default configuration,
//! real nodes on loopback, one topic, messages counted by gossipsub's own metrics.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, MetricsConfig};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm, noise, tcp, yamux};
use overlay::net::swarm_settings;
use prometheus_client::registry::Registry;
use rand::seq::IndexedRandom;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::Group;
use super::tally::Tally;

/// Earlier nodes each new node dials: gossipsub has no discovery of its own, and this is
/// its mesh degree (D = 6), so every node can fill its mesh.
const DIAL: usize = 6;

/// The metric counting data messages sent (publishes and forwards, one per peer).
const SENT_METRIC: &str = "topic_msg_sent_counts";

enum Cmd {
    Publish(Vec<u8>, oneshot::Sender<Result<(), String>>),
}

struct GossipNode {
    tx: mpsc::Sender<Cmd>,
    addr: Multiaddr,
    task: JoinHandle<()>,
    metrics: Registry,
}

/// A network of gossipsub nodes, all subscribed to one topic.
pub struct GossipNet {
    nodes: Vec<Option<GossipNode>>,
}

fn topic() -> IdentTopic {
    IdentTopic::new("bench")
}

async fn start_node(index: usize, dial: Vec<Multiaddr>, tally: Arc<Tally>) -> Result<GossipNode> {
    let mut metrics = Registry::default();
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| {
            gossipsub::Behaviour::new(
                MessageAuthenticity::Signed(key.clone()),
                gossipsub::Config::default(),
            )
            .map(|b| b.with_metrics(&mut metrics, MetricsConfig::default()))
            .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })?
        // The same transport settings as our nodes': the comparison is of the protocols.
        .with_swarm_config(|c| swarm_settings(c, Duration::from_secs(120)))
        .build();
    swarm
        .behaviour_mut()
        .subscribe(&topic())
        .map_err(|e| anyhow!("gossipsub subscribe: {e}"))?;
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    for a in dial {
        swarm.dial(a).context("gossipsub dial")?;
    }
    let (tx, rx) = mpsc::channel(256);
    let task = tokio::spawn(run(swarm, rx, index, tally));
    Ok(GossipNode {
        tx,
        addr,
        task,
        metrics,
    })
}

async fn run(
    mut swarm: Swarm<gossipsub::Behaviour>,
    mut rx: mpsc::Receiver<Cmd>,
    index: usize,
    tally: Arc<Tally>,
) {
    let hash = topic().hash();
    let mut meshed = false;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Cmd::Publish(data, reply)) => {
                    let r = swarm.behaviour_mut().publish(topic(), data);
                    let _ = reply.send(r.map(|_| ()).map_err(|e| e.to_string()));
                }
                None => return,
            },
            ev = swarm.select_next_some() => {
                if let SwarmEvent::Behaviour(gossipsub::Event::Message { message, .. }) = ev {
                    tally.received(index, &message.data);
                }
                if !meshed && swarm.behaviour().mesh_peers(&hash).next().is_some() {
                    meshed = true;
                    tally.attached(index);
                }
            }
        }
    }
}

/// The sum of the metric `name`'s samples in `registry`.
fn metric(registry: &Registry, name: &str) -> Result<u64> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)
        .context("cannot read gossipsub's metrics")?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

impl GossipNet {
    /// Starts `n` gossipsub nodes on loopback, each dialling up to [`DIAL`] random nodes
    /// started before it, and waits until every node has a mesh for the topic.
    pub async fn start(n: usize, tally: Arc<Tally>, quiet: bool) -> Result<GossipNet> {
        let pb = crate::bench::progress::bar(n as u64, "gossipsub join", quiet);
        let mut nodes: Vec<Option<GossipNode>> = Vec::with_capacity(n);
        for i in 0..n {
            let known: Vec<Multiaddr> = nodes.iter().flatten().map(|n| n.addr.clone()).collect();
            let dial = known.sample(&mut rand::rng(), DIAL).cloned().collect();
            nodes.push(Some(start_node(i, dial, Arc::clone(&tally)).await?));
            pb.inc(1);
        }
        pb.finish_and_clear();
        Ok(GossipNet { nodes })
    }
}

impl Group for GossipNet {
    fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    async fn publish(&self, node: usize, payload: Vec<u8>) -> Result<()> {
        let n = self.nodes[node]
            .as_ref()
            .context("a crashed node cannot publish")?;
        let (reply, rx) = oneshot::channel();
        n.tx.send(Cmd::Publish(payload, reply))
            .await
            .map_err(|_| anyhow!("gossipsub node {node} stopped"))?;
        rx.await
            .map_err(|_| anyhow!("gossipsub node {node} stopped"))?
            .map_err(|e| anyhow!("gossipsub publish: {e}"))
    }

    async fn messages_sent(&self, nodes: &[usize]) -> Result<u64> {
        nodes
            .iter()
            .filter_map(|i| self.nodes[*i].as_ref())
            .map(|n| metric(&n.metrics, SENT_METRIC))
            .sum()
    }

    fn crash(&mut self, node: usize) {
        if let Some(n) = self.nodes[node].take() {
            n.task.abort();
        }
    }
}
