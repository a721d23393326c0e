//! One TCP connection to a peer: the handshake, then a reader that turns bytes into
//! messages for the client's loop and a writer that sends what the loop queues.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use crate::session::PeerKey;
use crate::wire::{Decoder, HANDSHAKE_LEN, Handshake, Message};

/// How long a peer has to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes gathered into one write when several messages are queued.
const WRITE_BATCH: usize = 256 * 1024;

/// What a connection tells the client's loop.
#[derive(Debug)]
pub(super) enum Event {
    /// The handshake is done; messages for the peer go into `tx`.
    Connected {
        key: PeerKey,
        addr: SocketAddr,
        theirs: Handshake,
        tx: mpsc::UnboundedSender<Outgoing>,
        dialed: bool,
    },
    /// A dial or handshake failed.
    Failed { addr: SocketAddr, why: String },
    /// A message arrived.
    Message(PeerKey, Message),
    /// A block went onto the socket.
    Sent(PeerKey, u64),
    /// The connection ended.
    Closed(PeerKey, String),
}

/// What the loop tells a connection.
#[derive(Debug)]
pub(super) enum Outgoing {
    Message(Message),
    Close,
}

/// Exchanges handshakes on `stream` and, if the peer is in our swarm, runs the connection
/// until either side ends it.
pub(super) async fn run(
    mut stream: TcpStream,
    addr: SocketAddr,
    key: PeerKey,
    ours: Handshake,
    dialed: bool,
    events: mpsc::Sender<Event>,
) {
    let theirs =
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut stream, ours, dialed)).await {
            Ok(Ok(h)) => h,
            Ok(Err(why)) => return fail(&events, addr, why).await,
            Err(_) => return fail(&events, addr, "no handshake within 10 s".into()).await,
        };
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    if events
        .send(Event::Connected {
            key,
            addr,
            theirs,
            tx,
            dialed,
        })
        .await
        .is_err()
    {
        return;
    }
    let mut writer = tokio::spawn(write_loop(write, rx, key, events.clone()));
    // The writer ends when the loop closes the connection; the reader must end with it.
    let why = tokio::select! {
        why = read_loop(read, key, &events) => why,
        _ = &mut writer => "closed by us".into(),
    };
    writer.abort();
    let _ = events.send(Event::Closed(key, why)).await;
}

async fn fail(events: &mpsc::Sender<Event>, addr: SocketAddr, why: String) {
    let _ = events.send(Event::Failed { addr, why }).await;
}

/// Exchanges handshakes, the dialer first; the peer's, if it is for our torrent and not
/// ourselves.
pub(super) async fn handshake(
    stream: &mut TcpStream,
    ours: Handshake,
    dialed: bool,
) -> Result<Handshake, String> {
    let io = |e: std::io::Error| e.to_string();
    if dialed {
        stream.write_all(&ours.encode()).await.map_err(io)?;
    }
    let mut buf = [0u8; HANDSHAKE_LEN];
    stream.read_exact(&mut buf).await.map_err(io)?;
    let theirs = Handshake::decode(&buf).map_err(|e| e.to_string())?;
    if theirs.info_hash != ours.info_hash {
        return Err(format!(
            "handshake for another torrent, {}",
            theirs.info_hash
        ));
    }
    if theirs.peer_id == ours.peer_id {
        return Err("connected to ourselves".into());
    }
    if !dialed {
        stream.write_all(&ours.encode()).await.map_err(io)?;
    }
    Ok(theirs)
}

async fn read_loop(mut read: OwnedReadHalf, key: PeerKey, events: &mpsc::Sender<Event>) -> String {
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) => return "the peer closed the connection".into(),
            Ok(n) => n,
            Err(e) => return e.to_string(),
        };
        decoder.extend(&buf[..n]);
        loop {
            match decoder.next_message() {
                Ok(Some(m)) => {
                    if events.send(Event::Message(key, m)).await.is_err() {
                        return "the client stopped".into();
                    }
                }
                Ok(None) => break,
                Err(e) => return format!("protocol error: {e}"),
            }
        }
    }
}

async fn write_loop(
    mut write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    key: PeerKey,
    events: mpsc::Sender<Event>,
) {
    let mut out = Vec::with_capacity(WRITE_BATCH);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut blocks = Vec::new();
        let mut close = false;
        while let Some(item) = next.take() {
            match item {
                Outgoing::Message(m) => {
                    if let Message::Piece { data, .. } = &m {
                        blocks.push(data.len() as u64);
                    }
                    m.encode(&mut out);
                }
                Outgoing::Close => {
                    close = true;
                    break;
                }
            }
            if out.len() < WRITE_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if write.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
        for bytes in blocks {
            if events.send(Event::Sent(key, bytes)).await.is_err() {
                return;
            }
        }
        if close {
            let _ = write.shutdown().await;
            return;
        }
    }
}
