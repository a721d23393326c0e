//! Scribe's side of `bench net-multicast`: real nodes of one overlay on loopback, each
//! hosting Scribe with its documented defaults, every node a member of one group.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use multicast::{Scribe, ScribeCommand, ScribeEvent};
use overlay::net::{NetConfig, NetHandle, PeerAddr};
use overlay::{Key, Layer, Routing};
use tokio::sync::broadcast::error::RecvError;

use super::tally::Tally;
use super::{Group, NetMulticastArgs};
use crate::daemon::{dht_config, node_config};
use crate::loopback::LoopbackNet;

type Apps = overlay::apps![Scribe<PeerAddr>];

/// A network of real nodes with Scribe, all members of one group.
pub struct ScribeNet {
    nodes: Vec<Option<NetHandle<Apps>>>,
    group: Key,
}

/// Records node `index`'s deliveries and subscription into `tally`.
fn listen(index: usize, node: &NetHandle<Apps>, tally: Arc<Tally>) {
    let mut rx = node.events();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(Layer::Head(ScribeEvent::Delivered(p))) => tally.received(index, &p.payload),
                Ok(Layer::Head(ScribeEvent::Subscribed { .. })) => tally.attached(index),
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!("bench listener of node {index} missed {missed} events")
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

impl ScribeNet {
    /// Starts `args.nodes` nodes of `R`, one after another, and subscribes each to the
    /// group.
    pub async fn start<R: Routing<Addr = PeerAddr>>(
        args: &NetMulticastArgs,
        config: R::Config,
        tally: Arc<Tally>,
    ) -> Result<ScribeNet> {
        let round = Duration::from_secs_f64(args.maintenance);
        let net = LoopbackNet::<R> {
            routing: config,
            node: node_config(overlay::LookupMode::Recursive),
            dht: dht_config(3, round),
            idle_timeout: NetConfig::<R::Config>::default().idle_timeout,
        };
        let nodes = net
            .start_nodes_with(args.nodes, args.quiet, || (Scribe::default(), ()))
            .await?;
        let group = Key::hash("bench");
        for (i, node) in nodes.iter().enumerate() {
            listen(i, node, Arc::clone(&tally));
            node.command(ScribeCommand::Subscribe(group))
                .await
                .with_context(|| format!("node {i} cannot subscribe"))?;
        }
        Ok(ScribeNet {
            nodes: nodes.into_iter().map(Some).collect(),
            group,
        })
    }
}

impl Group for ScribeNet {
    fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    async fn publish(&self, node: usize, payload: Vec<u8>) -> Result<()> {
        let n = self.nodes[node]
            .as_ref()
            .context("a crashed node cannot publish")?;
        let group = self.group;
        n.command(ScribeCommand::Publish { group, payload })
            .await
            .with_context(|| format!("node {node} cannot publish"))
    }

    async fn messages_sent(&self, nodes: &[usize]) -> Result<u64> {
        let mut sum = 0;
        for n in nodes.iter().filter_map(|i| self.nodes[*i].as_ref()) {
            sum += n.status().await.context("node status")?.messages_sent;
        }
        Ok(sum)
    }

    fn crash(&mut self, node: usize) {
        // Dropping a node's only handle stops it at once, connections closed, no goodbye.
        self.nodes[node] = None;
    }
}
