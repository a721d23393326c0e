//! The application layer on real libp2p nodes: the conformance suite's `Probe` application
//! runs on 16 nodes of each overlay beside the DHT, and its scenario (pings to random
//! peers, timers set and cancelled, messages routed to random keys) must come out exactly
//! as its inputs call for, as it does on 1,000 simulated nodes; every routed message's
//! `forward` calls must chain from its source to the key's root.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{ROUND, wait_for, within};
use dht_can::Can;
use dht_chord::Chord;
use dht_pastry::Pastry;
use dht_tapestry::Tapestry;
use overlay::conformance::kbr::{ProbeApps, ProbeOutcome, ProbeScenario};
use overlay::conformance::probe::{Probe, ProbeEvent};
use overlay::net::{NetConfig, NetHandle, PeerAddr, spawn_with};
use overlay::{Key, NodeId, Routing};
use rand::SeedableRng;

const NODES: usize = 16;
const SCENARIO: ProbeScenario = ProbeScenario {
    pings: 3,
    timers: 4,
    routes: 3,
};

type Handle = NetHandle<ProbeApps<PeerAddr>>;
/// The `update` calls seen, as (node index, neighbour, entered).
type Updates = Arc<Mutex<Vec<(usize, NodeId, bool)>>>;

fn net_config<C: Default>(routing: C, bootstrap: Option<&Handle>) -> NetConfig<C> {
    common::loopback(routing, bootstrap.map(|b| b.listen_addrs()))
}

/// Checks that the `forward` calls of each routed message chain from its source to the
/// root it was delivered at, each hop naming the one before it.
fn check_chains(events: &[ProbeEvent], keys: &BTreeMap<u64, Key>) -> Result<()> {
    let mut hops: BTreeMap<u64, Vec<(NodeId, Option<NodeId>, NodeId)>> = BTreeMap::new();
    let mut delivered: BTreeMap<u64, (NodeId, NodeId, u32)> = BTreeMap::new();
    for e in events {
        match e {
            ProbeEvent::Forwarded {
                tag,
                at,
                prev,
                next,
            } => {
                hops.entry(*tag).or_default().push((*at, *prev, *next));
            }
            ProbeEvent::Delivered {
                tag,
                at,
                origin,
                hops,
            } => {
                delivered.insert(*tag, (*at, *origin, *hops));
            }
            _ => {}
        }
    }
    for tag in keys.keys() {
        let (root, origin, count) = delivered[tag];
        let mut left = hops.remove(tag).unwrap_or_default();
        ensure!(
            left.len() == count as usize + 1,
            "message {tag}: {} forward calls for {count} hops: {left:?}",
            left.len()
        );
        let (mut at, mut prev) = (origin, None);
        loop {
            let i = left
                .iter()
                .position(|h| h.0 == at && h.1 == prev)
                .with_context(|| format!("message {tag}: the chain breaks at {at}: {left:?}"))?;
            let (_, _, next) = left.swap_remove(i);
            if next == at {
                break;
            }
            (prev, at) = (Some(at), next);
        }
        ensure!(
            at == root && left.is_empty(),
            "message {tag}: the forward chain ends at {at}, delivered at {root}"
        );
    }
    Ok(())
}

async fn exercise<R: Routing<Addr = PeerAddr>>(config: R::Config) -> Result<()> {
    let apps = || (Probe::default(), ());
    // Every node's events from its start (the join's `update` calls included); the
    // update calls also by node, to replay against its neighbour set.
    let events: Arc<Mutex<Vec<ProbeEvent>>> = Arc::default();
    let updates: Updates = Arc::default();
    let collect = |i: usize, node: &Handle| {
        let mut rx = node.events();
        let (events, updates) = (Arc::clone(&events), Arc::clone(&updates));
        tokio::spawn(async move {
            while let Ok(overlay::Layer::Head(e)) = rx.recv().await {
                if let ProbeEvent::Update { node, joined } = e {
                    updates.lock().unwrap().push((i, node, joined));
                }
                events.lock().unwrap().push(e);
            }
        });
    };
    let first = spawn_with::<R, _>(net_config(config.clone(), None), apps()).await?;
    collect(0, &first);
    within(10, "first node", first.joined()).await??;
    let mut nodes = vec![first];
    for i in 1..NODES {
        let via = &nodes[i / 2];
        let node = spawn_with::<R, _>(net_config(config.clone(), Some(via)), apps()).await?;
        collect(i, &node);
        within(30, "join", node.joined()).await??;
        nodes.push(node);
    }
    let contacts: Vec<_> = nodes
        .iter()
        .map(|n| {
            overlay::Contact::new(
                n.id(),
                PeerAddr {
                    peer: n.peer_id(),
                    addrs: n.listen_addrs().to_vec(),
                },
            )
        })
        .collect();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(23);
    let mut keys = BTreeMap::new();
    let commands: Vec<_> = (0..NODES)
        .map(|i| SCENARIO.commands(i, &contacts, &mut rng, &mut keys))
        .collect();
    // The overlay has settled once lookups from every node agree on every key's root.
    let key_list: Vec<Key> = keys.values().copied().collect();
    let roots = common::roots_stable(90, &nodes, &key_list).await?;
    let mut pinged = BTreeMap::new();
    for (node, cmds) in nodes.iter().zip(commands) {
        for cmd in cmds {
            if let overlay::conformance::probe::ProbeCommand::Ping { tag, to } = &cmd {
                pinged.insert(*tag, to.id);
            }
            node.command(cmd).await?;
        }
    }
    let expected = SCENARIO.expected(NODES as u64);
    let score = || -> ProbeOutcome {
        let events = events.lock().unwrap();
        SCENARIO.score(events.iter(), &keys, |k| roots.get(k).copied(), &pinged)
    };
    // Every timer has had its time once the last one would fire.
    let last_timer = ROUND + Duration::from_millis(100 * SCENARIO.timers);
    let done = wait_for(30, "the scenario", || score() == expected).await;
    tokio::time::sleep(last_timer).await;
    let got = score();
    if got != expected {
        let events = events.lock().unwrap();
        for (tag, key) in &keys {
            let at: Vec<_> = events.iter().filter(|e| matches!(e, ProbeEvent::Delivered { tag: t, .. } | ProbeEvent::Forwarded { tag: t, .. } if t == tag)).collect();
            eprintln!("tag {tag} root {:?}: {at:?}", roots.get(key));
        }
    }
    ensure!(
        done.is_ok() && got == expected,
        "{}: probe scenario gave {got:?}, expected {expected:?}",
        R::NAME
    );
    check_chains(&events.lock().unwrap(), &keys)?;
    stop_and_redirect(&nodes, &events, &roots).await?;
    updates_match_neighbours(&nodes, &updates).await
}

/// Replaying each node's `update` calls gives the neighbour set its status shows.
async fn updates_match_neighbours(nodes: &[Handle], updates: &Updates) -> Result<()> {
    let replayed = |i: usize| -> Vec<String> {
        let mut count: BTreeMap<NodeId, i64> = BTreeMap::new();
        for (n, id, joined) in updates.lock().unwrap().iter() {
            if *n == i {
                *count.entry(*id).or_default() += if *joined { 1 } else { -1 };
            }
        }
        count
            .into_iter()
            .filter(|(_, c)| *c > 0)
            .map(|(id, _)| id.to_string())
            .collect()
    };
    // The overlay may still be settling: wait until a moment when every node agrees.
    let mut last = String::new();
    let agreed = within(30, "update calls matching the neighbour sets", async {
        loop {
            let mut all = true;
            for (i, node) in nodes.iter().enumerate() {
                let mut shown: Vec<String> = node
                    .status()
                    .await
                    .map(|s| s.neighbours.into_iter().map(|n| n.0).collect())
                    .unwrap_or_default();
                shown.sort();
                shown.dedup();
                let replay = replayed(i);
                if replay != shown {
                    all = false;
                    last = format!("node {i}: replayed {replay:?}, neighbours {shown:?}");
                    break;
                }
            }
            if all {
                break;
            }
            tokio::time::sleep(ROUND).await;
        }
    })
    .await;
    ensure!(agreed.is_ok(), "{last}");
    Ok(())
}

/// A routed message told to stop at its key's root ends there (a message sent after it to
/// the same key is delivered, so it had its chance), and a message whose first hop the
/// source changes goes there and still reaches its root.
async fn stop_and_redirect(
    nodes: &[Handle],
    events: &Arc<Mutex<Vec<ProbeEvent>>>,
    roots: &BTreeMap<Key, NodeId>,
) -> Result<()> {
    let delivered = |tag: u64| {
        let events = events.lock().unwrap();
        events
            .iter()
            .any(|e| matches!(e, ProbeEvent::Delivered { tag: t, .. } if *t == tag))
    };
    let forwards = |tag: u64| -> Vec<(NodeId, Option<NodeId>)> {
        let events = events.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                ProbeEvent::Forwarded {
                    tag: t, at, prev, ..
                } if *t == tag => Some((*at, *prev)),
                _ => None,
            })
            .collect()
    };
    // Every route ends at its key's root, so a message told to stop there is sure to
    // meet the node that stops it, unless the overlay is still settling and the key's
    // root moves between the agreement and the send. The roots are asked again right
    // before each try, and a delivery at another node (the root moved) is tried again.
    let from = &nodes[0];
    let (key, _) = roots
        .iter()
        .map(|(k, r)| (*k, *r))
        .find(|(_, r)| *r != from.id())
        .context("every key's root is the first node")?;
    let route = |tag, stop_at, redirect| overlay::conformance::probe::ProbeCommand::Route {
        tag,
        key,
        stop_at,
        redirect,
    };
    let delivered_at = |tag: u64| {
        let events = events.lock().unwrap();
        events.iter().find_map(|e| match e {
            ProbeEvent::Delivered { tag: t, at, .. } if *t == tag => Some(*at),
            _ => None,
        })
    };
    let mut root = None;
    for attempt in 0..3u64 {
        let now = common::roots_agree(60, nodes, &[key]).await?[&key];
        let (stopped, after) = (900_000 + 2 * attempt, 900_001 + 2 * attempt);
        from.command(route(stopped, Some(now), None)).await?;
        from.command(route(after, None, None)).await?;
        wait_for(20, "the message after the stopped one", || delivered(after)).await?;
        match delivered_at(stopped) {
            None => {
                let seen = forwards(stopped);
                ensure!(
                    seen.first().map(|h| h.0) == Some(from.id()) && seen.iter().any(|h| h.0 == now),
                    "the stopped message's forward calls: {seen:?}"
                );
                root = Some(now);
                break;
            }
            Some(at) => ensure!(
                at != now,
                "a message told to stop at its root {now} was delivered there"
            ),
        }
    }
    let root = root.context("the key's root kept moving over three tries")?;

    for (j, to) in nodes.iter().enumerate().skip(1).step_by(3) {
        let tag = 910_000 + j as u64;
        let contact = overlay::Contact::new(
            to.id(),
            PeerAddr {
                peer: to.peer_id(),
                addrs: to.listen_addrs().to_vec(),
            },
        );
        nodes[0].command(route(tag, None, Some(contact))).await?;
        wait_for(20, "the redirected message", || delivered(tag)).await?;
        let path = forwards(tag);
        ensure!(
            path.contains(&(to.id(), Some(nodes[0].id()))),
            "the changed first hop was not followed: {path:?}"
        );
        let at = delivered_at(tag);
        ensure!(
            at == Some(root),
            "the redirected message reached {at:?}, not the root"
        );
    }
    Ok(())
}

/// One overlay at a time: 16 real nodes each on a 2-core machine is load enough.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn run<R: Routing<Addr = PeerAddr>>(config: R::Config) -> Result<()> {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    common::runtime().block_on(exercise::<R>(config))
}

#[test]
fn chord_runs_the_probe_application() -> Result<()> {
    run::<Chord<PeerAddr>>(common::chord())
}

#[test]
fn pastry_runs_the_probe_application() -> Result<()> {
    run::<Pastry<PeerAddr>>(common::pastry())
}

#[test]
fn tapestry_runs_the_probe_application() -> Result<()> {
    run::<Tapestry<PeerAddr>>(common::tapestry())
}

#[test]
fn can_runs_the_probe_application() -> Result<()> {
    run::<Can<PeerAddr>>(common::can())
}
