//! Hostile input over the real network: a raw libp2p peer sends garbage bytes, truncated
//! CBOR, an oversized message, a wrong protocol version and a message claiming an id that is
//! not its own. Each is refused for that peer, and the node goes on serving the others.

mod common;

use std::io;
use std::time::Duration;

use anyhow::{Result, ensure};
use dht_chord::{Chord, ChordConfig};
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, noise, tcp, yamux};
use overlay::net::{Envelope, NetConfig, NetHandle, PeerAddr, node_id_of, spawn};
use overlay::wire::{Request, Wire};
use overlay::{Contact, Key};

/// Sends whatever bytes it is given and reads whatever comes back.
#[derive(Clone, Default)]
struct RawCodec;

const READ_LIMIT: u64 = 16 << 20;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut buf = Vec::new();
        io.take(READ_LIMIT).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    async fn read_response<T>(&mut self, p: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        // The node refuses by closing the stream without an answer.
        let buf = self.read_request(p, io).await?;
        if buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream closed without an answer",
            ));
        }
        Ok(buf)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        p: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write_request(p, io, res).await
    }
}

type Attacker = Swarm<request_response::Behaviour<RawCodec>>;

fn attacker(protocol: &'static str) -> Result<Attacker> {
    Ok(libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                RawCodec,
                [(StreamProtocol::new(protocol), ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(5)),
            )
        })?
        .build())
}

/// Sends `bytes` and reports how the exchange ended: the answer, or the failure.
async fn send(
    swarm: &mut Attacker,
    to: PeerId,
    addr: &Multiaddr,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let id: OutboundRequestId =
        swarm
            .behaviour_mut()
            .send_request_with_addresses(&to, bytes, vec![addr.clone()]);
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            }) if request_id == id => return Ok(response),
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            }) if request_id == id => return Err(error.to_string()),
            _ => {}
        }
    }
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

    let mut evil = attacker("/p2p/chord/1")?;
    let me = *evil.local_peer_id();
    let honest_from = Contact::new(
        node_id_of(&me),
        PeerAddr {
            peer: me,
            addrs: vec![],
        },
    );
    let find = |from: Contact<PeerAddr>| Envelope::<(), ()> {
        from,
        app: None,
        wire: Wire::Request {
            id: 1,
            body: Request::FindNext { key, avoid: vec![] },
        },
    };
    let encode = |e: &Envelope<(), ()>| {
        let mut buf = Vec::new();
        cbor4ii::serde::to_writer(&mut buf, e).unwrap();
        buf
    };

    // A well-formed request gets an answer: the raw peer speaks the protocol correctly.
    let good = encode(&find(honest_from.clone()));
    ensure!(
        send(&mut evil, peer, &addr, good.clone()).await.is_ok(),
        "a valid request is answered"
    );

    let garbage = send(
        &mut evil,
        peer,
        &addr,
        b"\xff\x00 definitely not CBOR \x13\x37".to_vec(),
    )
    .await;
    ensure!(garbage.is_err(), "garbage gets no answer: {garbage:?}");
    let truncated = send(&mut evil, peer, &addr, good[..good.len() / 2].to_vec()).await;
    ensure!(
        truncated.is_err(),
        "truncated CBOR gets no answer: {truncated:?}"
    );
    let huge = send(&mut evil, peer, &addr, vec![0x42; 5 << 20]).await;
    ensure!(
        huge.is_err(),
        "an oversized message gets no answer: {huge:?}"
    );
    let mut forged = honest_from.clone();
    forged.id = Key([0; 20]);
    let impostor = send(&mut evil, peer, &addr, encode(&find(forged))).await;
    ensure!(
        impostor.is_err(),
        "a forged id gets no answer: {impostor:?}"
    );

    let mut old = attacker("/p2p/chord/2")?;
    let wrong_version = send(&mut old, peer, &addr, good).await;
    ensure!(
        wrong_version
            .as_ref()
            .is_err_and(|e| e.contains("protocol")),
        "a wrong protocol version is refused at negotiation: {wrong_version:?}"
    );

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
