//! Real nodes in this process: the runtime they run on, and networks of them on 127.0.0.1
//! (`p2p demo`, `p2p bench net`, `p2p bench net-multicast`).

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

/// Maintenance rounds a connection may stay unused before it is closed, in networks too
/// large for this process to hold a connection between every pair of nodes. Every node
/// lives in this process, so each open connection costs two of its file descriptors; a
/// Pastry join alone opens some 50 (its announcements and their probes), and at the
/// default 120 s a 256-node overlay runs out of descriptors while it forms.
pub const IDLE_ROUNDS: u32 = 5;

/// Share of the open-file limit the connections of a loopback network may take; the rest
/// is for listeners, the runtime, files and the connections of nodes joining late.
const CONNECTION_SHARE: f64 = 0.9;

/// How long a connection of a loopback network of `n` nodes may stay unused: as long as a
/// node of its own keeps one (`NetConfig`'s default) when this process may hold a
/// connection between every pair of its nodes, `IDLE_ROUNDS` rounds otherwise.
///
/// A connection closed while idle costs a new handshake (TCP, Noise, Yamux) the next time
/// the pair talks. Nodes that touch much of their table in turn (Tapestry's heartbeats
/// probe every node of its map within some eight rounds) would then pay one for nearly
/// every message, and on a small host the handshakes crowd out the messages.
pub fn idle_timeout(n: usize, round: Duration) -> Duration {
    let soft = open_file_limit();
    let every_pair = (n as u64).saturating_mul(n.saturating_sub(1) as u64);
    match soft {
        Some(soft) if every_pair as f64 <= soft as f64 * CONNECTION_SHARE => {
            NetConfig::<()>::default().idle_timeout
        }
        _ => round * IDLE_ROUNDS,
    }
}

/// How the nodes of one loopback network of `R` are set up.
pub struct LoopbackNet<R: Routing> {
    /// The routing algorithm's parameters.
    pub routing: R::Config,
    /// The node core's parameters.
    pub node: NodeConfig,
    /// The DHT's parameters.
    pub dht: DhtConfig,
    /// Connections idle this long are closed.
    pub idle_timeout: Duration,
}

impl<R: Routing<Addr = PeerAddr>> LoopbackNet<R> {
    /// Starts one node on a free loopback port hosting `apps` beside the DHT, joining
    /// through `via` (without it, the node starts an overlay). Does not wait for the join.
    pub async fn spawn<X: AppSet<PeerAddr>, Y: AppSet<PeerAddr>>(
        &self,
        via: Option<&NetHandle<Y>>,
        apps: X,
    ) -> Result<NetHandle<X>> {
        let bootstrap = via.map_or_else(Vec::new, |v| v.listen_addrs()[..1].to_vec());
        let handle = spawn_with::<R, X>(
            NetConfig {
                routing: self.routing.clone(),
                node: self.node.clone(),
                dht: self.dht.clone(),
                listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
                bootstrap,
                mdns: false,
                idle_timeout: self.idle_timeout,
                ..NetConfig::default()
            },
            apps,
        )
        .await?;
        Ok(handle)
    }

    /// Starts `n` nodes one after another, each joining through a random member (the
    /// first starts the overlay), and waits for every join.
    pub async fn start_nodes(&self, n: usize, quiet: bool) -> Result<Vec<NetHandle>> {
        self.start_nodes_with(n, quiet, || ()).await
    }

    /// [`Self::start_nodes`], each node hosting the applications `apps` makes beside the
    /// DHT.
    pub async fn start_nodes_with<X: AppSet<PeerAddr>>(
        &self,
        n: usize,
        quiet: bool,
        apps: impl Fn() -> X,
    ) -> Result<Vec<NetHandle<X>>> {
        let pb = bar(n as u64, &format!("{} join", R::NAME), quiet);
        let mut nodes: Vec<NetHandle<X>> = Vec::with_capacity(n);
        for _ in 0..n {
            let via = match nodes.len() {
                0 => None,
                len => Some(&nodes[rand::rng().random_range(0..len)]),
            };
            let started = nodes.len();
            let out_of_files = |e: anyhow::Error| out_of_descriptors(e, started, n, R::NAME);
            let handle = self.spawn(via, apps()).await.map_err(out_of_files)?;
            tokio::time::timeout(Duration::from_secs(60), handle.joined())
                .await
                .context("a node did not join within 60 s")
                .map_err(out_of_files)?
                .map_err(anyhow::Error::from)
                .map_err(out_of_files)?;
            nodes.push(handle);
            pb.inc(1);
        }
        pb.finish_and_clear();
        Ok(nodes)
    }
}

/// Says what running out of file descriptors means here, where every node lives in this
/// one process and each connection holds a descriptor at both of its ends.
fn out_of_descriptors(e: anyhow::Error, started: usize, n: usize, overlay: &str) -> anyhow::Error {
    let soft = open_file_limit();
    // Out of descriptors, a node that cannot accept its peers' connections fails to join
    // by a timeout rather than by an error naming them; the count of those open says it.
    let open = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64);
    let exhausted = soft
        .zip(open.ok())
        .is_some_and(|(soft, open)| open * 20 >= soft * 19);
    if !exhausted && !format!("{e:#}").contains("os error 24") {
        return e;
    }
    let limit = soft.map_or_else(|| "?".into(), |soft| soft.to_string());
    // Tapestry's maps, and so the nodes that probe a node, grow with the backups per entry;
    // fewer backups is the lever a user has short of the limit.
    let backups = if overlay == "tapestry" {
        "; in Tapestry, --backups 1 keeps two nodes per entry of a node's map instead of four"
    } else {
        ""
    };
    e.context(format!(
        "this process ran out of file descriptors with {started} of {n} nodes started: all \
         the nodes share its limit of {limit} open files, and each connection between two \
         of them holds two; run fewer --nodes, or raise the hard limit (ulimit -Hn, as \
         root){backups}"
    ))
}

/// This process's soft limit on open files, which every node it hosts shares.
fn open_file_limit() -> Option<u64> {
    rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
}
