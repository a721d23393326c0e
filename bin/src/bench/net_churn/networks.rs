//! The networks `bench net --churn` runs its workload on: each of our overlays, and
//! libp2p's Kademlia.

use anyhow::Result;
use overlay::net::{NetHandle, PeerAddr};
use overlay::{Key, Routing};

use super::workload::{ChurnNet, Traffic};
use crate::bench::kad::KadNode;
use crate::loopback::LoopbackNet;

impl<R: Routing<Addr = PeerAddr>> ChurnNet for LoopbackNet<R> {
    type Node = NetHandle;

    async fn start(&self, via: Option<&NetHandle>) -> Result<NetHandle> {
        self.spawn(via, ()).await
    }

    async fn joined(&self, node: &NetHandle) -> Result<()> {
        Ok(node.joined().await?)
    }

    async fn put(&self, node: &NetHandle, key: Key, value: Vec<u8>) -> bool {
        node.put(key, value).await.is_ok()
    }

    async fn get(&self, node: &NetHandle, key: Key) -> Option<Vec<u8>> {
        node.get(key).await.ok().flatten()
    }

    async fn leave(&self, node: NetHandle) {
        let _ = node.leave().await;
    }

    async fn traffic(&self, node: &NetHandle) -> Option<Traffic> {
        let s = node.status().await.ok()?;
        Some(Traffic {
            sent: s.messages_sent,
            timeouts: s.timeouts,
        })
    }
}

/// libp2p-kad nodes (k = 20, α = 3): a record is put with quorum one and the first value
/// found is read, as in `bench net`.
pub struct KadNet;

impl ChurnNet for KadNet {
    type Node = KadNode;

    async fn start(&self, via: Option<&KadNode>) -> Result<KadNode> {
        KadNode::start(via).await
    }

    /// Kademlia's join: a lookup of the node's own id, which fills its buckets and puts
    /// it in the buckets of the nodes it asks.
    async fn joined(&self, node: &KadNode) -> Result<()> {
        let _ = node.closest(node.peer.to_bytes()).await;
        Ok(())
    }

    async fn put(&self, node: &KadNode, key: Key, value: Vec<u8>) -> bool {
        node.put(key.as_bytes().to_vec(), value).await
    }

    async fn get(&self, node: &KadNode, key: Key) -> Option<Vec<u8>> {
        node.get(key.as_bytes().to_vec()).await
    }

    /// Kademlia has no leave: the node stops, as in a crash.
    async fn leave(&self, node: KadNode) {
        drop(node);
    }

    /// libp2p-kad keeps no count of the messages it sends.
    async fn traffic(&self, _node: &KadNode) -> Option<Traffic> {
        None
    }
}
