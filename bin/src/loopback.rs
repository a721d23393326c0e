//! Real nodes in this process: the runtime they run on, and networks of them on 127.0.0.1
//! (`p2p demo`, `p2p bench net`).

use std::time::Duration;

use anyhow::{Context, Result};
use overlay::net::{NetConfig, NetHandle, PeerAddr, spawn_with};
use overlay::{AppSet, DhtConfig, NodeConfig, Routing};
use rand::RngExt;

use crate::bench::progress::bar;

/// The multi-threaded tokio runtime real nodes run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Starts `n` nodes of `R` on loopback, one after another, each joining through a random
/// member (the first starts the overlay), and waits for every join. Connections idle for
/// `idle_timeout` are closed.
pub async fn start_nodes<R: Routing<Addr = PeerAddr>>(
    n: usize,
    routing: &R::Config,
    node: &NodeConfig,
    dht: &DhtConfig,
    idle_timeout: Duration,
    quiet: bool,
) -> Result<Vec<NetHandle>> {
    start_nodes_with::<R, ()>(n, routing, node, dht, idle_timeout, quiet, || ()).await
}

/// [`start_nodes`], each node hosting the applications `apps` makes beside the DHT.
pub async fn start_nodes_with<R: Routing<Addr = PeerAddr>, X: AppSet<PeerAddr>>(
    n: usize,
    routing: &R::Config,
    node: &NodeConfig,
    dht: &DhtConfig,
    idle_timeout: Duration,
    quiet: bool,
    apps: impl Fn() -> X,
) -> Result<Vec<NetHandle<X>>> {
    let pb = bar(n as u64, &format!("{} join", R::NAME), quiet);
    let mut nodes: Vec<NetHandle<X>> = Vec::with_capacity(n);
    for _ in 0..n {
        let bootstrap = match nodes.len() {
            0 => Vec::new(),
            len => nodes[rand::rng().random_range(0..len)].listen_addrs()[..1].to_vec(),
        };
        let handle = spawn_with::<R, X>(
            NetConfig {
                routing: routing.clone(),
                node: node.clone(),
                dht: dht.clone(),
                listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
                bootstrap,
                mdns: false,
                idle_timeout,
                ..NetConfig::default()
            },
            apps(),
        )
        .await?;
        tokio::time::timeout(Duration::from_secs(60), handle.joined())
            .await
            .context("a node did not join within 60 s")??;
        nodes.push(handle);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(nodes)
}
