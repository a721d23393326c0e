//! Scribe on 16 real libp2p nodes of each overlay: every member receives every message, in
//! its publisher's order, before and after a subscriber crashes and after a forwarder
//! crashes (its subtree joins the tree again), or the root where no other forwarder exists.

mod common;

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};
use common::{ROUND, wait_for, within};
use multicast::{GroupReport, Scribe, ScribeCommand, ScribeConfig, ScribeEvent};
use overlay::net::{NetHandle, PeerAddr, spawn_with};
use overlay::{Key, Layer, NodeId};

const NODES: usize = 16;

type Apps = overlay::apps![Scribe<PeerAddr>];
type Handle = NetHandle<Apps>;

/// What one node reported.
#[derive(Default)]
struct Seen {
    subscribed: bool,
    /// (publisher, sequence number, payload), in delivery order.
    delivered: Vec<(NodeId, u64, String)>,
    groups: Option<Vec<GroupReport<PeerAddr>>>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Scribe's timers scaled to the test's maintenance round.
fn scribe() -> Scribe<PeerAddr> {
    Scribe::new(Arc::new(ScribeConfig {
        heartbeat_interval: ROUND,
        parent_timeout: ROUND * 3,
        refresh_interval: ROUND * 4,
        child_timeout: ROUND * 12,
        reorder_timeout: ROUND * 2,
        ..ScribeConfig::default()
    }))
}

fn collect(log: &Log, i: usize, node: &Handle) {
    let mut rx = node.events();
    let log = Arc::clone(log);
    tokio::spawn(async move {
        while let Ok(Layer::Head(e)) = rx.recv().await {
            let mut log = log.lock().expect("log");
            match e {
                ScribeEvent::Subscribed { .. } => log[i].subscribed = true,
                ScribeEvent::Delivered(p) => {
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    log[i].delivered.push((p.publisher, p.seq, text));
                }
                ScribeEvent::Groups(g) => log[i].groups = Some(g),
                _ => {}
            }
        }
    });
}

/// Whether member `i` delivered a message with payload `text`.
fn heard(log: &Log, i: usize, text: &str) -> bool {
    log.lock().expect("log")[i]
        .delivered
        .iter()
        .any(|(_, _, t)| t == text)
}

/// Publishes probes from `publisher` until every live member hears one (the tree has
/// repaired), then `count` messages from each publisher in turn, and checks that every
/// live member got them all, each once, in each publisher's order.
async fn round(
    nodes: &[Option<Handle>],
    log: &Log,
    group: Key,
    publishers: [usize; 2],
    name: &str,
    count: usize,
) -> Result<()> {
    let live: Vec<usize> = (0..NODES).filter(|i| nodes[*i].is_some()).collect();
    let publish = |from: usize, text: String| {
        let node = nodes[from].clone().expect("publishers live");
        async move {
            let payload = text.into_bytes();
            node.command(ScribeCommand::Publish { group, payload })
                .await
        }
    };
    within(
        60,
        &format!("{name}: the tree to reach every member"),
        async {
            for k in 0.. {
                let probe = format!("{name} probe {k}");
                publish(publishers[0], probe.clone()).await?;
                tokio::time::sleep(ROUND).await;
                if live.iter().all(|i| heard(log, *i, &probe)) {
                    break;
                }
            }
            anyhow::Ok(())
        },
    )
    .await??;
    for k in 0..count {
        for p in publishers {
            publish(p, format!("{name} {p} {k}")).await?;
        }
    }
    let last = |p: usize| format!("{name} {p} {}", count - 1);
    wait_for(30, &format!("{name}: every message everywhere"), || {
        live.iter()
            .all(|i| publishers.iter().all(|p| heard(log, *i, &last(*p))))
    })
    .await?;
    let log = log.lock().expect("log");
    for i in &live {
        for p in publishers {
            let mine: Vec<&str> = log[*i]
                .delivered
                .iter()
                .map(|(_, _, t)| t.as_str())
                .filter(|t| t.starts_with(&format!("{name} {p} ")))
                .collect();
            let expected: Vec<String> = (0..count).map(|k| format!("{name} {p} {k}")).collect();
            ensure!(mine == expected, "member {i} got {mine:?} from {p}");
        }
        let mut seqs: Vec<(NodeId, u64)> =
            log[*i].delivered.iter().map(|(p, s, _)| (*p, *s)).collect();
        let all = seqs.len();
        seqs.dedup();
        ensure!(seqs.len() == all, "member {i} got a message twice");
        ensure!(
            publishers.iter().all(|p| {
                let id = nodes[*p].as_ref().map(|n| n.id());
                let s: Vec<u64> = log[*i]
                    .delivered
                    .iter()
                    .filter(|(q, _, _)| Some(*q) == id)
                    .map(|(_, s, _)| *s)
                    .collect();
                s.windows(2).all(|w| w[0] < w[1])
            }),
            "member {i} got a publisher's messages out of order"
        );
    }
    Ok(())
}

/// Every live node's groups, freshly reported.
async fn reports(
    nodes: &[Option<Handle>],
    log: &Log,
) -> Result<Vec<Option<GroupReport<PeerAddr>>>> {
    for (i, n) in nodes.iter().enumerate() {
        if let Some(n) = n {
            log.lock().expect("log")[i].groups = None;
            n.command(ScribeCommand::Report).await?;
        }
    }
    wait_for(10, "reports", || {
        let log = log.lock().expect("log");
        (0..NODES).all(|i| nodes[i].is_none() || log[i].groups.is_some())
    })
    .await?;
    let log = log.lock().expect("log");
    Ok((0..NODES)
        .map(|i| log[i].groups.as_ref().and_then(|g| g.first().cloned()))
        .collect())
}

fn run<R>(config: R::Config) -> Result<()>
where
    R: overlay::Routing<Addr = PeerAddr>,
    R::Config: Clone + Default + Send + Sync + 'static,
{
    common::runtime().block_on(async {
        let log: Log = Arc::new(Mutex::new((0..NODES).map(|_| Seen::default()).collect()));
        let mut nodes: Vec<Option<Handle>> = Vec::new();
        for i in 0..NODES {
            let via = nodes.get(i / 2).and_then(|n: &Option<Handle>| n.as_ref());
            let cfg = common::loopback(config.clone(), via.map(|v| v.listen_addrs()));
            let node = spawn_with::<R, _>(cfg, (scribe(), ())).await?;
            collect(&log, i, &node);
            within(30, "join", node.joined()).await??;
            nodes.push(Some(node));
        }
        let group = Key::hash("news");
        for n in nodes.iter().flatten() {
            n.command(ScribeCommand::Subscribe(group)).await?;
        }
        wait_for(30, "every member attached", || {
            log.lock().expect("log").iter().all(|s| s.subscribed)
        })
        .await?;
        let publishers = [1, 2];
        round(&nodes, &log, group, publishers, "first", 10).await?;

        // A member with no child crashes (dropping its only handle stops it silently).
        let tree = reports(&nodes, &log).await?;
        let leaf = (0..NODES)
            .filter(|i| !publishers.contains(i))
            .find(|i| {
                tree[*i]
                    .as_ref()
                    .is_some_and(|g| g.children.is_empty() && !g.root)
            })
            .context("a leaf member")?;
        nodes[leaf] = None;
        round(&nodes, &log, group, publishers, "after a leaf crashed", 10).await?;

        // A forwarder crashes and its children find new parents; where the root's children
        // are all leaves, the root crashes and the tree re-roots. Whichever node that is, two
        // other members publish.
        let tree = reports(&nodes, &log).await?;
        let report = |i: &usize| tree[*i].as_ref();
        let forwarder =
            (0..NODES).find(|i| report(i).is_some_and(|g| !g.children.is_empty() && !g.root));
        let (crashed, what) = match forwarder {
            Some(f) => (f, "after a forwarder crashed"),
            None => (
                (0..NODES)
                    .find(|i| report(i).is_some_and(|g| g.root))
                    .context("a root")?,
                "after the root crashed",
            ),
        };
        nodes[crashed] = None;
        let live: Vec<usize> = (0..NODES).filter(|i| nodes[*i].is_some()).collect();
        let publishers = [live[0], live[1]];
        round(&nodes, &log, group, publishers, what, 10).await?;
        Ok(())
    })
}

#[test]
fn scribe_on_chord_nodes() -> Result<()> {
    run::<dht_chord::Chord<PeerAddr>>(common::chord())
}

#[test]
fn scribe_on_pastry_nodes() -> Result<()> {
    run::<dht_pastry::Pastry<PeerAddr>>(common::pastry())
}

#[test]
fn scribe_on_tapestry_nodes() -> Result<()> {
    run::<dht_tapestry::Tapestry<PeerAddr>>(common::tapestry())
}

#[test]
fn scribe_on_can_nodes() -> Result<()> {
    run::<dht_can::Can<PeerAddr>>(common::can())
}
