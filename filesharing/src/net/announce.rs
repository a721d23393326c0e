//! Announcing to a torrent's trackers: the first tracker of the first tier that answers is
//! used (BEP 12), again after the interval it names, and the peers it lists go to the
//! client's loop.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::InfoHash;
use crate::tracker::{AnnounceRequest, Event, announce_url, parse_announce_response};

/// What the next announce reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Report {
    pub uploaded: u64,
    pub downloaded: u64,
    pub left: u64,
}

/// Announces until `report`'s sender is dropped, then says `stopped` (briefly).
pub(super) async fn announce_loop(
    trackers: Vec<String>,
    info_hash: InfoHash,
    peer_id: [u8; 20],
    port: u16,
    mut report: watch::Receiver<Report>,
    peers: mpsc::Sender<Vec<SocketAddr>>,
) {
    let request = |r: Report, event| request(info_hash, peer_id, port, r, event);
    let mut event = Event::Started;
    let mut was_complete = report.borrow().left == 0;
    loop {
        let r = *report.borrow_and_update();
        let (interval, found) = announce_once(&trackers, request(r, event)).await;
        if !found.is_empty() && peers.send(found).await.is_err() {
            break;
        }
        event = Event::None;
        // Wake at the interval, or at once when the download completes.
        let wait = tokio::time::sleep(interval);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                changed = report.changed() => {
                    if changed.is_err() {
                        let r = *report.borrow();
                        let _ = tokio::time::timeout(
                            Duration::from_secs(5),
                            announce_once(&trackers, request(r, Event::Stopped)),
                        )
                        .await;
                        return;
                    }
                    let complete = report.borrow().left == 0;
                    if complete && !was_complete {
                        was_complete = true;
                        event = Event::Completed;
                        break;
                    }
                }
            }
        }
    }
}

/// The announce of `peer_id` listening on `port`.
pub(super) fn request(
    info_hash: InfoHash,
    peer_id: [u8; 20],
    port: u16,
    r: Report,
    event: Event,
) -> AnnounceRequest {
    AnnounceRequest {
        info_hash,
        peer_id,
        port,
        left: r.left,
        uploaded: r.uploaded,
        downloaded: r.downloaded,
        event,
        numwant: Some(50),
        compact: true,
        ip: None,
    }
}

/// One announce, tracker by tracker until one answers: its interval and peers. A tracker
/// that fails is logged and the next one tried; if none answers, try again in a minute.
pub(super) async fn announce_once(
    trackers: &[String],
    req: AnnounceRequest,
) -> (Duration, Vec<SocketAddr>) {
    for base in trackers {
        if !base.starts_with("http://") && !base.starts_with("https://") {
            continue;
        }
        let url = announce_url(base, &req);
        let got = tokio::task::spawn_blocking(move || fetch(&url)).await;
        match got {
            Ok(Ok(bytes)) => match parse_announce_response(&bytes) {
                Ok(answer) => {
                    tracing::debug!(tracker = %base, peers = answer.peers.len(), "announced");
                    return (answer.interval, answer.peers);
                }
                Err(e) => tracing::warn!(tracker = %base, "{e}"),
            },
            Ok(Err(e)) => tracing::warn!(tracker = %base, "announce failed: {e}"),
            Err(e) => tracing::warn!(tracker = %base, "announce failed: {e}"),
        }
    }
    (Duration::from_secs(60), Vec::new())
}

fn fetch(url: &str) -> Result<Vec<u8>, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let mut answer = agent.get(url).call()?;
    answer.body_mut().with_config().limit(1 << 20).read_to_vec()
}
