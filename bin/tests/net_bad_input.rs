//! Hostile input over the real network: a raw libp2p peer sends garbage bytes, truncated
//! CBOR, an oversized message, a wrong protocol version and a message claiming an id that is
//! not its own, each framed as the overlay's transport frames messages. Each is refused for
//! that peer, and the node goes on serving it and the others.

mod common;

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use dht_chord::{Chord, ChordConfig};
use libp2p::futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, StreamProtocol, Swarm, noise, tcp, yamux};
use overlay::net::{
    Envelope, Frame, Frames, FramesEvent, NetConfig, NetHandle, PeerAddr, Unsent, node_id_of,
    protocol_name, spawn,
};
use overlay::wire::{Request, Wire};
use overlay::{Contact, Key};
use serde::de::IgnoredAny;

/// Largest frame the raw peer reads.
const READ_LIMIT: usize = 16 << 20;
/// Longest wait for one answer or failure.
const DEADLINE: Duration = Duration::from_secs(20);

/// A raw peer speaking the overlay's framing under `protocol`, with no node behind it.
type Attacker = Swarm<Frames>;

fn attacker(protocol: StreamProtocol) -> Result<Attacker> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| Frames::new(protocol, READ_LIMIT))?
        .build())
}

/// How an exchange ended, as the raw peer saw it.
#[derive(Debug)]
enum Outcome {
    /// An answer to the request with this id.
    Answered(u64),
    /// The frame tagged with this id did not leave, and why.
    Unsent(u64, Unsent),
}

/// Waits for the next answer from `from`, or a report that a frame to it did not leave.
async fn next_outcome(swarm: &mut Attacker, from: PeerId) -> Result<Outcome> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::Behaviour(FramesEvent::Received {
                    peer,
                    frame: Frame::Bytes(bytes),
                }) if peer == from => {
                    let envelope: Envelope<IgnoredAny, IgnoredAny> =
                        cbor4ii::serde::from_slice(&bytes).context("the node's frame")?;
                    if let Wire::Response { id, .. } = envelope.wire {
                        return Ok(Outcome::Answered(id));
                    }
                }
                SwarmEvent::Behaviour(FramesEvent::Unsent { peer, tags, why }) if peer == from => {
                    if let Some(id) = tags.first() {
                        return Ok(Outcome::Unsent(*id, why));
                    }
                }
                _ => {}
            }
        }
    })
    .await
    .context("no answer and no failure within the deadline")?
}

fn net_config(bootstrap: Option<&NetHandle>) -> NetConfig<ChordConfig> {
    common::loopback(common::chord(), bootstrap.map(|b| b.listen_addrs()))
}

async fn scenario() -> Result<()> {
    let mut nodes = vec![spawn::<Chord<PeerAddr>>(net_config(None)).await?];
    nodes[0].joined().await?;
    for _ in 1..4 {
        let n = spawn::<Chord<PeerAddr>>(net_config(Some(&nodes[0]))).await?;
        n.joined().await?;
        nodes.push(n);
    }
    let probe_keys: Vec<Key> = (0..8).map(|i| Key::hash(format!("settle-{i}"))).collect();
    common::roots_agree(30, &nodes, &probe_keys).await?;
    let target = &nodes[1];
    let addr = target.listen_addrs()[0].clone();
    let peer = target.peer_id();
    let key = Key::hash("before");
    nodes[0]
        .put(key, b"stored before the attack".to_vec())
        .await?;

    let mut evil = attacker(protocol_name("chord"))?;
    let me = *evil.local_peer_id();
    let honest_from = Contact::new(
        node_id_of(&me),
        PeerAddr {
            peer: me,
            addrs: vec![],
        },
    );
    let find = |from: Contact<PeerAddr>, id: u64| Envelope::<(), ()> {
        from,
        app: None,
        wire: Wire::Request {
            id,
            body: Request::FindNext { key, avoid: vec![] },
        },
    };
    let encode = |e: &Envelope<(), ()>| {
        let mut buf = Vec::new();
        cbor4ii::serde::to_writer(&mut buf, e).unwrap();
        buf
    };
    let send = |swarm: &mut Attacker, id: u64, bytes: Vec<u8>| {
        swarm
            .behaviour_mut()
            .send(peer, vec![addr.clone()], Some(id), bytes)
    };

    // A well-formed request gets an answer: the raw peer speaks the protocol correctly.
    send(&mut evil, 1, encode(&find(honest_from.clone(), 1)));
    let first = next_outcome(&mut evil, peer).await?;
    ensure!(
        matches!(first, Outcome::Answered(1)),
        "a valid request is answered: {first:?}"
    );

    // Garbage, truncated CBOR and a request under a forged id, then a valid request on the
    // same stream: the node reads and answers in order, so the first answer to arrive
    // shows that none of the bad ones got one.
    send(
        &mut evil,
        2,
        b"\xff\x00 definitely not CBOR \x13\x37".to_vec(),
    );
    let good = encode(&find(honest_from.clone(), 3));
    send(&mut evil, 3, good[..good.len() / 2].to_vec());
    let mut forged = honest_from.clone();
    forged.id = Key([0; 20]);
    send(&mut evil, 4, encode(&find(forged, 4)));
    send(&mut evil, 5, encode(&find(honest_from.clone(), 5)));
    let after_bad = next_outcome(&mut evil, peer).await?;
    ensure!(
        matches!(after_bad, Outcome::Answered(5)),
        "garbage, truncated CBOR and a forged id get no answer: {after_bad:?}"
    );

    // A frame announced over the node's limit: the node drops the stream unread, so the
    // frame never finishes leaving; a new stream is served again.
    send(&mut evil, 6, vec![0x42; 5 << 20]);
    let huge = next_outcome(&mut evil, peer).await?;
    ensure!(
        matches!(huge, Outcome::Unsent(6, Unsent::StreamFailed)),
        "an oversized message is refused: {huge:?}"
    );
    send(&mut evil, 7, encode(&find(honest_from.clone(), 7)));
    let again = next_outcome(&mut evil, peer).await?;
    ensure!(
        matches!(again, Outcome::Answered(7)),
        "the peer is served on a new stream after its oversized message: {again:?}"
    );

    let mut old = attacker(StreamProtocol::new("/p2p/chord/1"))?;
    old.behaviour_mut()
        .send(peer, vec![addr.clone()], Some(8), good);
    let wrong_version = next_outcome(&mut old, peer).await?;
    let Outcome::Unsent(8, Unsent::StreamFailed) = wrong_version else {
        bail!("a wrong protocol version is refused at negotiation: {wrong_version:?}");
    };

    let status = target.status().await?;
    ensure!(
        status.rejected >= 4,
        "the node counted the bad messages: {status:?}"
    );
    // Still serving: reads and writes through the attacked node and through the others.
    ensure!(target.get(key).await?.as_deref() == Some(&b"stored before the attack"[..]));
    target
        .put(Key::hash("after"), b"written after".to_vec())
        .await?;
    for n in &nodes {
        ensure!(n.get(Key::hash("after")).await?.as_deref() == Some(&b"written after"[..]));
    }
    Ok(())
}

#[test]
fn bad_input_is_refused_per_peer_and_the_node_keeps_serving() -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(scenario())
}
