//! The overlay as a libp2p `NetworkBehaviour` other applications build on: two swarms of
//! our own, each composing `OverlayBehaviour` with identify, form a Chord overlay and
//! store and read a value; and a node given several bootstrap addresses joins through the
//! first one that answers.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use dht_chord::{Chord, ChordConfig};
use libp2p::futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, noise, tcp, yamux};
use overlay::net::{DefaultNetEvent, NetConfig, OverlayBehaviour, OverlayEvent, PeerAddr, spawn};
use overlay::{DhtEvent, Event, Key, NodeConfig};

type ChordNode = Chord<PeerAddr>;

/// An application's behaviour: the overlay beside another protocol.
#[derive(NetworkBehaviour)]
struct App {
    overlay: OverlayBehaviour<ChordNode>,
    identify: identify::Behaviour,
}

fn chord_config() -> ChordConfig {
    let round = Duration::from_millis(300);
    ChordConfig {
        stabilize_interval: round,
        fix_fingers_interval: round,
        check_predecessor_interval: round,
        join_retry: round,
        ..ChordConfig::default()
    }
}

fn node_config() -> NodeConfig {
    NodeConfig {
        request_timeout: Duration::from_secs(2),
        ..NodeConfig::default()
    }
}

/// A swarm listening on loopback whose overlay has started (not joined).
async fn app_swarm() -> Result<Swarm<App>> {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| App {
            overlay: OverlayBehaviour::new(
                key.public().to_peer_id(),
                chord_config(),
                node_config(),
            ),
            identify: identify::Behaviour::new(identify::Config::new(
                "/test/1".into(),
                key.public(),
            )),
        })?
        .build();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    swarm.behaviour_mut().overlay.start(vec![addr])?;
    Ok(swarm)
}

/// Polls both swarms until `want` accepts an overlay event of the first one.
async fn until<T>(
    a: &mut Swarm<App>,
    b: &mut Swarm<App>,
    mut want: impl FnMut(&Event<PeerAddr, DefaultNetEvent>) -> Option<T>,
) -> Result<T> {
    let wait = async {
        loop {
            let ev = tokio::select! {
                ev = a.select_next_some() => ev,
                _ = b.select_next_some() => continue,
            };
            match ev {
                SwarmEvent::Behaviour(AppEvent::Overlay(OverlayEvent::Node(e))) => {
                    if let Some(t) = want(&e) {
                        return Ok(t);
                    }
                }
                SwarmEvent::Behaviour(AppEvent::Overlay(OverlayEvent::StorageFailed(e))) => {
                    bail!("storage failed: {e}")
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .context("no such event within 30 s")?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlay_behaviour_composes_with_other_behaviours() -> Result<()> {
    let mut first = app_swarm().await?;
    let mut second = app_swarm().await?;
    first.behaviour_mut().overlay.join(None);
    until(&mut first, &mut second, |e| {
        matches!(e, Event::Joined).then_some(())
    })
    .await?;
    let via = first.behaviour().overlay.contact().clone();
    second.behaviour_mut().overlay.join(Some(via));
    until(&mut second, &mut first, |e| {
        matches!(e, Event::Joined).then_some(())
    })
    .await?;

    let key = Key::hash("composed");
    let put = second
        .behaviour_mut()
        .overlay
        .put(key, Some(b"beside identify".to_vec()));
    until(&mut second, &mut first, |e| match e.app() {
        Some(DhtEvent::PutDone { op, result, .. }) if *op == put => Some(result.clone()),
        _ => None,
    })
    .await??;
    let get = first.behaviour_mut().overlay.get(key);
    let value = until(&mut first, &mut second, |e| match e.app() {
        Some(DhtEvent::GetDone { op, result, .. }) if *op == get => Some(result.clone()),
        _ => None,
    })
    .await??;
    ensure!(
        value.as_deref() == Some(&b"beside identify"[..]),
        "read {value:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_falls_back_to_the_next_node() -> Result<()> {
    let config = |bootstrap: Vec<Multiaddr>| NetConfig {
        routing: chord_config(),
        node: node_config(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
        bootstrap,
        mdns: false,
        ..NetConfig::default()
    };
    let first = spawn::<ChordNode>(config(Vec::new())).await?;
    first.joined().await?;
    // Nothing listens on port 1: the dial is refused at once.
    let dead: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{}", PeerId::random()).parse()?;
    let second = spawn::<ChordNode>(config(vec![dead, first.listen_addrs()[0].clone()])).await?;
    tokio::time::timeout(Duration::from_secs(30), second.joined())
        .await
        .context("the node did not join through the second bootstrap address")??;
    let key = Key::hash("fallback");
    second.put(key, b"joined".to_vec()).await?;
    ensure!(first.get(key).await?.as_deref() == Some(&b"joined"[..]));
    Ok(())
}
