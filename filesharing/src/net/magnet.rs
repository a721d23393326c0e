//! Starting from a magnet link: the info dictionary is asked of peers (BEP 9 over BEP 10)
//! one at a time until one hands over bytes whose hash is the link's info-hash.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{ClientError, new_peer_id};
use crate::wire::{
    Decoder, ExtHandshake, Handshake, Message, MetadataAssembler, MetadataMessage, UT_METADATA,
};
use crate::{InfoHash, Magnet, Metainfo};

/// How long one peer has to hand over the metadata.
const PER_PEER: Duration = Duration::from_secs(30);

/// The torrent of `magnet`, its metadata fetched from the link's peers, `extra` peers and,
/// given the `port` the download will listen on, the link's trackers' peers, within
/// `limit`; with every peer address found, for the download to dial.
pub async fn fetch_metadata(
    magnet: &Magnet,
    extra: &[SocketAddr],
    port: Option<u16>,
    limit: Duration,
) -> Result<(Metainfo, Vec<SocketAddr>), ClientError> {
    let deadline = Instant::now() + limit;
    let peer_id = new_peer_id();
    let mut peers: Vec<SocketAddr> = extra.to_vec();
    for p in &magnet.peers {
        if let Ok(found) = tokio::net::lookup_host(p.as_str()).await {
            peers.extend(found);
        }
    }
    let mut tried = 0;
    let mut last_error = String::from("no peers");
    // Trackers are asked with the port the download will listen on: again after the
    // interval they name, or after a few seconds while they know no peer yet.
    let mut next_announce = port.map(|_| Instant::now());
    while Instant::now() < deadline {
        if let (Some(port), Some(at)) = (port, next_announce)
            && Instant::now() >= at
        {
            let report = super::announce::Report {
                left: 1,
                ..Default::default()
            };
            let (interval, found) = super::announce::announce_once(
                &magnet.trackers,
                super::announce::request(
                    magnet.info_hash,
                    peer_id,
                    port,
                    report,
                    crate::tracker::Event::None,
                ),
            )
            .await;
            let wait = if found.is_empty() {
                Duration::from_secs(5)
            } else {
                interval
            };
            next_announce = Some(Instant::now() + wait);
            for p in found {
                if !peers.contains(&p) {
                    peers.push(p);
                }
            }
        }
        if peers.is_empty() && (magnet.trackers.is_empty() || port.is_none()) {
            break;
        }
        for &addr in &peers {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            tried += 1;
            let got = tokio::time::timeout(
                PER_PEER.min(left),
                from_peer(addr, magnet.info_hash, peer_id),
            )
            .await;
            match got {
                Ok(Ok(bytes)) => {
                    let trackers = magnet.trackers.iter().map(|t| vec![t.clone()]).collect();
                    let meta = Metainfo::from_info_bytes(bytes, trackers)
                        .map_err(|e| ClientError::Metadata(format!("from {addr}: {e}")))?;
                    return Ok((meta, peers));
                }
                Ok(Err(e)) => last_error = format!("{addr}: {e}"),
                Err(_) => last_error = format!("{addr}: no metadata within {PER_PEER:?}"),
            }
            tracing::debug!("metadata: {last_error}");
        }
        // Peers that were not up yet may be by now.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(ClientError::Metadata(format!(
        "no peer handed over the torrent's metadata within {limit:?} ({tried} tries; last: {last_error})"
    )))
}

async fn from_peer(
    addr: SocketAddr,
    info_hash: InfoHash,
    peer_id: [u8; 20],
) -> Result<Vec<u8>, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut stream = TcpStream::connect(addr).await.map_err(io)?;
    let ours = Handshake::new(info_hash, peer_id).with_extensions();
    let theirs = super::connection::handshake(&mut stream, ours, true).await?;
    if !theirs.extended() {
        return Err("the peer does not speak the extension protocol".into());
    }
    let mut out = Vec::new();
    Message::Extended {
        id: 0,
        payload: ExtHandshake::ours(None, 250).encode(),
    }
    .encode(&mut out);
    if theirs.fast() {
        Message::HaveNone.encode(&mut out);
    }
    stream.write_all(&out).await.map_err(io)?;

    let mut decoder = Decoder::new();
    let mut assembler: Option<MetadataAssembler> = None;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err("the peer closed the connection".into());
        }
        decoder.extend(&chunk[..n]);
        while let Some(m) = decoder.next_message().map_err(|e| e.to_string())? {
            let Message::Extended { id, payload } = m else {
                continue;
            };
            if id == 0 && assembler.is_none() {
                let h = ExtHandshake::decode(&payload).ok_or("a malformed extension handshake")?;
                let ut = h.ut_metadata().ok_or("the peer does not serve metadata")?;
                let len = h.metadata_len().ok_or("the peer has no metadata to give")?;
                let a =
                    MetadataAssembler::new(info_hash, len).ok_or("an implausible metadata size")?;
                let mut out = Vec::new();
                for piece in 0..a.pieces() {
                    let payload = MetadataMessage::Request(piece).encode();
                    Message::Extended { id: ut, payload }.encode(&mut out);
                }
                stream.write_all(&out).await.map_err(io)?;
                assembler = Some(a);
            } else if id == UT_METADATA
                && let Some(a) = assembler.as_mut()
            {
                match MetadataMessage::decode(&payload) {
                    Some(MetadataMessage::Data { piece, data, .. }) => {
                        if let Some(bytes) = a.add(piece, data)? {
                            return Ok(bytes);
                        }
                    }
                    Some(MetadataMessage::Reject(piece)) => {
                        return Err(format!("the peer refused metadata piece {piece}"));
                    }
                    _ => {}
                }
            }
        }
    }
}
