//! Real libp2p nodes on loopback, 16 per overlay, for each routing algorithm: join, put and
//! get from every node, graceful leave without losing a key, and a crash of a quarter of
//! the nodes after which every key is still read (replication factor 3). Every other node
//! looks keys up recursively, the others iteratively: the modes share one overlay.

mod common;

use anyhow::{Result, bail, ensure};
use common::{ROUND, within};
use dht_can::Can;
use dht_chord::Chord;
use dht_pastry::{Pastry, PastryConfig};
use dht_tapestry::Tapestry;
use overlay::net::{NetConfig, NetHandle, PeerAddr, spawn};
use overlay::{DhtConfig, Key, LookupMode, NodeConfig, Routing};

const NODES: usize = 16;
const KEYS: usize = 40;

fn net_config<C: Default>(
    routing: C,
    bootstrap: Option<&NetHandle>,
    lookup_mode: LookupMode,
) -> NetConfig<C> {
    let base = common::loopback(routing, bootstrap.map(|b| b.listen_addrs()));
    NetConfig {
        dht: DhtConfig {
            replication: 3,
            repair_interval: ROUND * 2,
            ..DhtConfig::default()
        },
        node: NodeConfig {
            lookup_mode,
            ..base.node.clone()
        },
        ..base
    }
}

/// Node `i`'s lookup mode: odd ones recursive.
fn mode_of(i: usize) -> LookupMode {
    match i % 2 {
        1 => LookupMode::Recursive,
        _ => LookupMode::Iterative,
    }
}

/// Reads every key from every node; each get may be retried twice (a node that just lost
/// a neighbour may need one maintenance round to route around it).
/// Returns the number of copies the nodes hold.
async fn read_all(nodes: &[NetHandle], keys: &[(Key, Vec<u8>)], stage: &str) -> Result<usize> {
    let mut failures = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for (key, value) in keys {
            let mut last = None;
            for _attempt in 0..3 {
                match within(20, "get", node.get(*key)).await? {
                    Ok(Some(v)) if v == *value => {
                        last = None;
                        break;
                    }
                    other => last = Some(format!("{other:?}")),
                }
                tokio::time::sleep(ROUND * 2).await;
            }
            if let Some(why) = last {
                failures.push(format!("node {i} key {}: {why}", key.short()));
            }
        }
    }
    let mut copies = 0;
    for node in nodes {
        copies += node.status().await?.stored_values;
    }
    eprintln!(
        "{stage}: {copies} copies of {} keys on {} nodes",
        keys.len(),
        nodes.len()
    );
    ensure!(
        failures.is_empty(),
        "{stage}: {} of {} gets failed ({copies} copies of {} keys on {} nodes): {:?}",
        failures.len(),
        nodes.len() * keys.len(),
        keys.len(),
        nodes.len(),
        &failures[..failures.len().min(5)]
    );
    Ok(copies)
}

async fn exercise<R: Routing<Addr = PeerAddr>>(config: R::Config) -> Result<()> {
    let first = spawn::<R>(net_config(config.clone(), None, mode_of(0))).await?;
    within(10, "first node", first.joined()).await??;
    let mut nodes = vec![first];
    for i in 1..NODES {
        let via = &nodes[i / 2];
        let node = spawn::<R>(net_config(config.clone(), Some(via), mode_of(i))).await?;
        within(30, "join", node.joined()).await??;
        nodes.push(node);
    }
    let keys: Vec<(Key, Vec<u8>)> = (0..KEYS)
        .map(|i| {
            (
                Key::hash(format!("key-{i}")),
                format!("value-{i}").into_bytes(),
            )
        })
        .collect();
    let names: Vec<Key> = keys.iter().map(|(k, _)| *k).collect();
    common::roots_agree(60, &nodes, &names).await?;
    for (i, (key, value)) in keys.iter().enumerate() {
        within(20, "put", nodes[i % NODES].put(*key, value.clone())).await??;
    }
    read_all(&nodes, &keys, "after joining").await?;

    for node in nodes.drain(NODES - 2..) {
        within(20, "leave", node.leave()).await??;
    }
    common::roots_agree(60, &nodes, &names).await?;
    read_all(&nodes, &keys, "after two graceful leaves").await?;

    // Dropping a node's only handle stops it without a word: a crash. A quarter of the
    // nodes crash, chosen so that every key keeps a live replica (with 3 of 14 nodes
    // crashing at random, some key's whole replica set goes down in about one run in ten,
    // and no protocol can serve that key).
    let mut replica_sets = Vec::new();
    for (key, _) in &keys {
        let report = within(20, "lookup", nodes[0].lookup(*key)).await??;
        let ids: Vec<String> = report.replicas.into_iter().take(3).map(|r| r.0).collect();
        replica_sets.push(ids);
    }
    let quarter = nodes.len() / 4;
    let mut down: Vec<String> = Vec::new();
    let mut survivors = Vec::new();
    for node in nodes {
        let id = node.id().to_string();
        let keeps_all = replica_sets
            .iter()
            .all(|set| set.iter().any(|r| *r != id && !down.contains(r)));
        if down.len() < quarter && keeps_all {
            down.push(id);
            drop(node);
        } else {
            survivors.push(node);
        }
    }
    ensure!(
        down.len() == quarter,
        "could not crash a quarter of the nodes"
    );
    // Settled: the survivors agree on every key's root, and repair has made r = 3 copies
    // of every key again.
    common::roots_agree(60, &survivors, &names).await?;
    // The total can touch 3 × KEYS while a copy that is no longer a replica's is still
    // held and a short key is not yet repaired, so it must stay there over two repair
    // intervals.
    within(60, "repair back to 3 copies", async {
        let mut held_since = None;
        loop {
            let mut copies = 0;
            for node in &survivors {
                copies += node.status().await.map_or(0, |s| s.stored_values);
            }
            if copies < 3 * KEYS {
                held_since = None;
            } else if held_since
                .get_or_insert_with(std::time::Instant::now)
                .elapsed()
                >= ROUND * 4
            {
                break;
            }
            tokio::time::sleep(ROUND).await;
        }
    })
    .await?;
    let copies = read_all(&survivors, &keys, "after a quarter of the nodes crashed").await?;
    // Repair restored r = 3 copies of every key (a key short of copies is one crash from
    // being lost, even if every get still succeeds).
    ensure!(
        copies >= 3 * KEYS,
        "only {copies} copies of {KEYS} keys after repair"
    );
    for node in &survivors {
        let status = node.status().await?;
        if status.rejected > 0 {
            bail!("node {} rejected {} messages", status.peer, status.rejected);
        }
    }
    Ok(())
}

/// One overlay at a time: 16 real nodes each on a 2-core machine is load enough, and four
/// networks at once made requests miss their timeouts (false failure detections).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run<R: Routing<Addr = PeerAddr>>(config: R::Config) -> Result<()> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    common::runtime().block_on(exercise::<R>(config))
}

#[test]
fn chord_nodes_on_loopback() -> Result<()> {
    run::<Chord<PeerAddr>>(common::chord())
}

#[test]
fn pastry_nodes_on_loopback() -> Result<()> {
    run::<Pastry<PeerAddr>>(common::pastry())
}

/// Each newcomer first looks for a nearby node from the one it was given, over the
/// network, and joins through that one.
#[test]
fn pastry_nodes_with_nearby_discovery_on_loopback() -> Result<()> {
    let config = PastryConfig {
        discover_nearby: true,
        ..common::pastry()
    };
    run::<Pastry<PeerAddr>>(config)
}

#[test]
fn tapestry_nodes_on_loopback() -> Result<()> {
    run::<Tapestry<PeerAddr>>(common::tapestry())
}

#[test]
fn can_nodes_on_loopback() -> Result<()> {
    run::<Can<PeerAddr>>(common::can())
}
