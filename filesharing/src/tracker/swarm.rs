//! The tracker's state: for each torrent the peers that announced lately, what each still
//! needs, and how many finished; answers in bencode.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use super::request::{AnnounceRequest, Event};
use crate::metainfo::InfoHash;

/// How a tracker serves.
#[derive(Clone, Debug)]
pub struct TrackerConfig {
    /// How often peers are told to announce.
    pub interval: Duration,
    /// The least time between a peer's announces.
    pub min_interval: Duration,
    /// A peer silent this long is dropped.
    pub expiry: Duration,
    /// Peers in an answer when the peer does not say.
    pub default_numwant: usize,
    /// Most peers in an answer.
    pub max_numwant: usize,
    /// Most torrents tracked; announces for more are refused.
    pub max_torrents: usize,
    /// Most peers per torrent; new peers beyond are refused.
    pub max_peers: usize,
    /// Take the address a peer claims (`ip=`) instead of the one it connects from (for
    /// a tracker behind a proxy, or peers on one host with several addresses).
    pub trust_ip: bool,
}

impl Default for TrackerConfig {
    /// Announce every 2 minutes (30 s at least), expire after 5 minutes of silence, 50
    /// peers per answer (200 at most), 10,000 torrents of 10,000 peers.
    fn default() -> Self {
        TrackerConfig {
            interval: Duration::from_secs(120),
            min_interval: Duration::from_secs(30),
            expiry: Duration::from_secs(300),
            default_numwant: 50,
            max_numwant: 200,
            max_torrents: 10_000,
            max_peers: 10_000,
            trust_ip: false,
        }
    }
}

#[derive(Debug)]
struct Peer {
    addr: SocketAddr,
    left: u64,
    seen: Duration,
}

#[derive(Debug, Default)]
struct Swarm {
    peers: BTreeMap<[u8; 20], Peer>,
    /// Completed downloads reported while the swarm lasted.
    downloaded: u64,
    /// Where the next answer starts taking peers, so that answers rotate through them.
    cursor: usize,
}

impl Swarm {
    fn counts(&self) -> (u64, u64) {
        let seeds = self.peers.values().filter(|p| p.left == 0).count() as u64;
        (seeds, self.peers.len() as u64 - seeds)
    }
}

/// A tracker: every torrent's swarm.
#[derive(Debug, Default)]
pub struct Tracker {
    cfg: TrackerConfig,
    swarms: HashMap<InfoHash, Swarm>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PeerList {
    Compact(bt_bencode::ByteString),
    Dicts(Vec<PeerDict>),
}

#[derive(Serialize)]
struct PeerDict {
    ip: String,
    #[serde(rename = "peer id")]
    peer_id: bt_bencode::ByteString,
    port: u16,
}

#[derive(Serialize)]
struct AnnounceAnswer {
    interval: u64,
    #[serde(rename = "min interval")]
    min_interval: u64,
    complete: u64,
    incomplete: u64,
    peers: PeerList,
    #[serde(skip_serializing_if = "Option::is_none")]
    peers6: Option<bt_bencode::ByteString>,
}

#[derive(Serialize)]
struct ScrapeEntry {
    complete: u64,
    downloaded: u64,
    incomplete: u64,
}

#[derive(Serialize)]
struct ScrapeAnswer {
    files: BTreeMap<bt_bencode::ByteString, ScrapeEntry>,
}

#[derive(Serialize)]
struct Failure<'a> {
    #[serde(rename = "failure reason")]
    reason: &'a str,
}

fn encode<T: Serialize>(t: &T) -> Vec<u8> {
    bt_bencode::to_vec(t).expect("tracker answers always encode")
}

impl Tracker {
    /// A tracker with `cfg`.
    pub fn new(cfg: TrackerConfig) -> Self {
        Tracker {
            cfg,
            swarms: HashMap::new(),
        }
    }

    /// The bencoded answer that refuses a request for `reason`.
    pub fn failure(reason: &str) -> Vec<u8> {
        encode(&Failure { reason })
    }

    /// Torrents and peers tracked.
    pub fn size(&self) -> (usize, usize) {
        let peers = self.swarms.values().map(|s| s.peers.len()).sum();
        (self.swarms.len(), peers)
    }

    /// Serves an announce from a peer connecting from `from`, at time `now` (any clock
    /// that only goes forward); the bencoded answer.
    pub fn announce(&mut self, req: &AnnounceRequest, from: IpAddr, now: Duration) -> Vec<u8> {
        self.expire(now);
        let ip = match req.ip {
            Some(ip) if self.cfg.trust_ip => ip,
            _ => from,
        };
        let addr = SocketAddr::new(ip, req.port);
        if !self.swarms.contains_key(&req.info_hash) {
            if req.event == Event::Stopped {
                return self.answer(req, &Swarm::default());
            }
            if self.swarms.len() >= self.cfg.max_torrents {
                return Self::failure("this tracker tracks as many torrents as it can");
            }
        }
        let swarm = self.swarms.entry(req.info_hash).or_default();
        match req.event {
            Event::Stopped => {
                swarm.peers.remove(&req.peer_id);
            }
            _ => {
                if !swarm.peers.contains_key(&req.peer_id)
                    && swarm.peers.len() >= self.cfg.max_peers
                {
                    return Self::failure("this torrent has as many peers as the tracker keeps");
                }
                let before = swarm.peers.insert(
                    req.peer_id,
                    Peer {
                        addr,
                        left: req.left,
                        seen: now,
                    },
                );
                // A completion counts once, even if announced again.
                let was_leeching = before.is_none_or(|p| p.left > 0);
                if req.event == Event::Completed && was_leeching {
                    swarm.downloaded += 1;
                }
            }
        }
        let out = self.answer(req, &self.swarms[&req.info_hash]);
        let step = self.cfg.max_numwant;
        if let Some(swarm) = self.swarms.get_mut(&req.info_hash) {
            swarm.cursor = (swarm.cursor + step) % swarm.peers.len().max(1);
            if swarm.peers.is_empty() {
                self.swarms.remove(&req.info_hash);
            }
        }
        out
    }

    /// The answer to `req` from `swarm`: counts, and peers other than the asker (a seeder
    /// gets leechers only), starting at the swarm's cursor.
    fn answer(&self, req: &AnnounceRequest, swarm: &Swarm) -> Vec<u8> {
        let (complete, incomplete) = swarm.counts();
        let want = req
            .numwant
            .unwrap_or(self.cfg.default_numwant)
            .min(self.cfg.max_numwant);
        let seeding = req.left == 0;
        let n = swarm.peers.len();
        let chosen: Vec<(&[u8; 20], &Peer)> = if req.event == Event::Stopped {
            Vec::new()
        } else {
            swarm
                .peers
                .iter()
                .cycle()
                .skip(swarm.cursor.min(n))
                .take(n)
                .filter(|(id, p)| **id != req.peer_id && !(seeding && p.left == 0))
                .take(want)
                .collect()
        };
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (_, p) in &chosen {
            match p.addr {
                SocketAddr::V4(a) => {
                    v4.extend(a.ip().octets());
                    v4.extend(a.port().to_be_bytes());
                }
                SocketAddr::V6(a) => {
                    v6.extend(a.ip().octets());
                    v6.extend(a.port().to_be_bytes());
                }
            }
        }
        let (peers, peers6) = if req.compact {
            (
                PeerList::Compact(v4.into()),
                (!v6.is_empty()).then(|| v6.into()),
            )
        } else {
            let dicts = chosen
                .iter()
                .map(|(id, p)| PeerDict {
                    ip: p.addr.ip().to_string(),
                    peer_id: id.to_vec().into(),
                    port: p.addr.port(),
                })
                .collect();
            (PeerList::Dicts(dicts), None)
        };
        encode(&AnnounceAnswer {
            interval: self.cfg.interval.as_secs(),
            min_interval: self.cfg.min_interval.as_secs(),
            complete,
            incomplete,
            peers,
            peers6,
        })
    }

    /// Serves a scrape for `hashes` (none: every torrent, up to 1,000).
    pub fn scrape(&mut self, hashes: &[InfoHash], now: Duration) -> Vec<u8> {
        self.expire(now);
        let listed: Vec<InfoHash> = if hashes.is_empty() {
            self.swarms.keys().take(1000).copied().collect()
        } else {
            hashes.iter().take(1000).copied().collect()
        };
        let files = listed
            .into_iter()
            .map(|h| {
                let entry = match self.swarms.get(&h) {
                    Some(s) => {
                        let (complete, incomplete) = s.counts();
                        ScrapeEntry {
                            complete,
                            downloaded: s.downloaded,
                            incomplete,
                        }
                    }
                    None => ScrapeEntry {
                        complete: 0,
                        downloaded: 0,
                        incomplete: 0,
                    },
                };
                (h.0.to_vec().into(), entry)
            })
            .collect();
        encode(&ScrapeAnswer { files })
    }

    /// Drops peers silent for longer than the expiry, and swarms left empty (with their
    /// count of completed downloads).
    pub fn expire(&mut self, now: Duration) {
        let expiry = self.cfg.expiry;
        self.swarms.retain(|_, s| {
            s.peers.retain(|_, p| now.saturating_sub(p.seen) <= expiry);
            !s.peers.is_empty()
        });
    }
}

#[cfg(test)]
mod tests;
