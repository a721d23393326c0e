//! What the real-node tests share: a node on loopback with short timeouts, joining
//! through a given node, and a deadline around a future.

#![allow(dead_code)] // each test file uses its own part

pub mod clients;
pub mod process;

use std::time::Duration;

use anyhow::{Context, Result};
use dht_can::CanConfig;
use dht_chord::ChordConfig;
use dht_pastry::PastryConfig;
use dht_tapestry::TapestryConfig;
use libp2p::Multiaddr;
use overlay::net::{NetConfig, NetHandle, PeerAddr};
use overlay::{Key, NodeConfig, NodeId};
use std::collections::BTreeMap;

/// The maintenance period of the test nodes: short, so repair happens within seconds.
pub const ROUND: Duration = Duration::from_millis(500);

/// A node listening on 127.0.0.1 without mDNS, joining through the first of `bootstrap`
/// (or starting an overlay), with a 2 s request timeout.
pub fn loopback<C: Default>(routing: C, bootstrap: Option<&[Multiaddr]>) -> NetConfig<C> {
    NetConfig {
        routing,
        node: NodeConfig {
            request_timeout: Duration::from_secs(2),
            ..NodeConfig::default()
        },
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
        bootstrap: bootstrap.map(|b| b[..1].to_vec()).unwrap_or_default(),
        mdns: false,
        ..NetConfig::default()
    }
}

/// Chord as real nodes run it (next hops from the successor list too), with every
/// maintenance task each [`ROUND`].
pub fn chord() -> ChordConfig {
    ChordConfig {
        stabilize_interval: ROUND,
        fix_fingers_interval: ROUND,
        check_predecessor_interval: ROUND,
        join_retry: ROUND,
        route_through_successors: true,
        ..ChordConfig::default()
    }
}

/// Pastry with every maintenance task each [`ROUND`] (its routing table every two).
pub fn pastry() -> PastryConfig {
    PastryConfig {
        leaf_interval: ROUND,
        table_interval: ROUND * 2,
        join_retry: ROUND,
        ..PastryConfig::default()
    }
}

/// Tapestry as real nodes run it (heartbeats to each entry's closest node; a backup is
/// probed when it moves up), with every maintenance task each [`ROUND`] (its routing
/// table every two).
pub fn tapestry() -> TapestryConfig {
    TapestryConfig {
        backup_probes: Some(0),
        ping_interval: ROUND,
        table_interval: ROUND * 2,
        join_retry: ROUND,
        ..TapestryConfig::default()
    }
}

/// CAN as real nodes run it (next hops among the neighbours' neighbours too), with every
/// maintenance task each [`ROUND`].
pub fn can() -> CanConfig {
    CanConfig {
        two_hop_routing: true,
        update_interval: ROUND,
        takeover_delay: ROUND,
        join_retry: ROUND,
        ..CanConfig::default()
    }
}

/// Polls `check` every 100 ms until it holds, for at most `secs`.
pub async fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) -> Result<()> {
    within(secs, what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// Waits, for at most `secs`, until lookups from every node in `nodes` agree on the root
/// of every key in `keys` (the overlay has settled for them); returns those roots.
pub async fn roots_agree<X: overlay::AppSet<PeerAddr>>(
    secs: u64,
    nodes: &[NetHandle<X>],
    keys: &[Key],
) -> Result<BTreeMap<Key, NodeId>> {
    within(secs, "agreement on the roots", async {
        loop {
            // Every lookup of a round at once: one slowed by a crashed node's timeout does
            // not hold up the others.
            let asks = keys.iter().flat_map(|key| {
                nodes.iter().map(move |n| async move {
                    let root: Option<NodeId> = match n.lookup(*key).await {
                        Ok(report) => report.replicas.first().and_then(|r| r.0.parse().ok()),
                        Err(_) => None,
                    };
                    (*key, root)
                })
            });
            let answers = futures::future::join_all(asks).await;
            let mut roots: BTreeMap<Key, Option<NodeId>> = BTreeMap::new();
            let mut agree = true;
            for (key, root) in answers {
                agree &= root.is_some() && *roots.entry(key).or_insert(root) == root;
            }
            if agree {
                return roots
                    .into_iter()
                    .filter_map(|(k, r)| Some((k, r?)))
                    .collect();
            }
            tokio::time::sleep(ROUND).await;
        }
    })
    .await
}

/// How long the roots must hold before they count as stable.
const STABLE_GAP: Duration = Duration::from_secs(2);

/// [`roots_agree`], asked again and again until the same roots have held for
/// [`STABLE_GAP`], within `secs` in all: for a test that takes the roots as where its
/// messages must end up. One agreement is not enough there: a node briefly out of the ring
/// (a timeout under load made its neighbours drop it, and the next stabilization brings it
/// back) leaves every lookup agreeing on the wrong root for a second or so.
pub async fn roots_stable<X: overlay::AppSet<PeerAddr>>(
    secs: u64,
    nodes: &[NetHandle<X>],
    keys: &[Key],
) -> Result<BTreeMap<Key, NodeId>> {
    within(secs, "roots that hold still", async {
        let mut held = (
            roots_agree(secs, nodes, keys).await?,
            tokio::time::Instant::now(),
        );
        loop {
            // Asked a round apart, so the checks do not load the nodes into timeouts.
            tokio::time::sleep(ROUND).await;
            let now = roots_agree(secs, nodes, keys).await?;
            if now != held.0 {
                held = (now, tokio::time::Instant::now());
            } else if held.1.elapsed() >= STABLE_GAP {
                return Ok(now);
            }
        }
    })
    .await?
}

/// `f`, or an error naming `what` if it takes more than `secs`.
pub async fn within<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> Result<T> {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .with_context(|| format!("{what}: no answer within {secs} s"))
}

/// A two-thread runtime for one test, with logs going to the test output (shown when the
/// test fails): warnings, or what `RUST_LOG` asks for.
pub fn runtime() -> tokio::runtime::Runtime {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
