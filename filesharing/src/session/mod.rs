//! One torrent's swarm as a sans-IO state machine: it is told of connections, messages,
//! finished reads and writes, and the time; it answers with [`Action`]s (messages to send,
//! connections to close, blocks to read, verified pieces to write). Piece picking, choking,
//! request pipelining, verification and bans all live here, so the simulator and the TCP
//! driver run the same code.

mod bitfield;
mod choker;
mod peer;
mod picker;
mod rate;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use sha1::Digest;

pub use bitfield::Bitfield;
pub use peer::BlockRef;

use crate::Info;
use crate::wire::{BLOCK_LEN, ExtHandshake, Handshake, Message, MetadataMessage, UT_METADATA};
use peer::Peer;

/// A connection's number, chosen by the driver.
pub type PeerKey = u64;

/// Largest block a peer may ask for; clients ask for 16 KiB, a few for up to 32 KiB.
pub const MAX_REQUEST_LEN: u32 = 2 * BLOCK_LEN;

/// The knobs of a session; the defaults are BitTorrent's usual ones.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Peers unchoked for their rate (BEP 3 practice: four).
    pub unchoke_slots: usize,
    /// How often the regular unchokes are re-chosen.
    pub rechoke_every: Duration,
    /// How often the optimistic unchoke moves to another peer.
    pub optimistic_every: Duration,
    /// A peer that sends us no block for this long while it lets us ask is snubbed: it
    /// keeps only the optimistic slot.
    pub snub_after: Duration,
    /// A request unanswered this long is asked of someone else.
    pub request_timeout: Duration,
    /// Requests queued from one peer; more are rejected.
    pub max_peer_requests: usize,
    /// Blocks read for one peer and not yet on its socket; bounds memory per peer.
    pub max_reads_in_flight: usize,
    /// Pieces whose hash failed with a peer's data before the peer is banned.
    pub ban_after_bad_pieces: u32,
    /// Random picks among the first pieces, so that new peers have something to trade.
    pub random_first_pieces: u32,
    /// Whether the rarest piece is started first (otherwise a random one).
    pub rarest_first: bool,
    /// Seed of the session's random choices.
    pub seed: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            unchoke_slots: 4,
            rechoke_every: Duration::from_secs(10),
            optimistic_every: Duration::from_secs(30),
            snub_after: Duration::from_secs(60),
            request_timeout: Duration::from_secs(20),
            max_peer_requests: 500,
            max_reads_in_flight: 64,
            ban_after_bad_pieces: 3,
            random_first_pieces: 4,
            rarest_first: true,
            seed: 0,
        }
    }
}

/// What the driver must do.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Send a message to a peer.
    Send(PeerKey, Message),
    /// Close a connection; with `ban`, never accept the peer's address again.
    Close {
        /// The connection.
        peer: PeerKey,
        /// Why, for the log.
        reason: String,
        /// Whether the peer sent bad data.
        ban: bool,
    },
    /// Read a block for a peer, then call [`Session::block_read`].
    Read(PeerKey, BlockRef),
    /// Write a verified piece to storage.
    Write {
        /// Piece index.
        index: u32,
        /// The piece's bytes.
        data: Vec<u8>,
    },
    /// Every piece is verified and written.
    Complete,
}

/// Counters of the session's traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Bytes of verified pieces received.
    pub downloaded: u64,
    /// Bytes of blocks sent.
    pub uploaded: u64,
    /// Bytes received that were not kept (duplicates, failed pieces).
    pub wasted: u64,
    /// Pieces whose hash did not match.
    pub hash_failures: u32,
    /// Peers banned for bad data.
    pub banned: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockState {
    Missing,
    Requested(u8),
    Got,
}

/// A piece being downloaded.
#[derive(Debug)]
struct Partial {
    data: Vec<u8>,
    blocks: Vec<BlockState>,
    got: u32,
    contributors: BTreeSet<PeerKey>,
}

/// The layout the session needs from the metainfo.
#[derive(Clone, Debug)]
struct Layout {
    piece_length: u64,
    total: u64,
    hashes: Vec<[u8; 20]>,
}

impl Layout {
    fn pieces(&self) -> u32 {
        self.hashes.len() as u32
    }

    fn piece_size(&self, index: u32) -> u32 {
        let start = index as u64 * self.piece_length;
        self.piece_length.min(self.total - start) as u32
    }

    fn blocks(&self, index: u32) -> u32 {
        self.piece_size(index).div_ceil(BLOCK_LEN)
    }

    fn block(&self, index: u32, block: u32) -> BlockRef {
        let begin = block * BLOCK_LEN;
        BlockRef {
            index,
            begin,
            length: BLOCK_LEN.min(self.piece_size(index) - begin),
        }
    }
}

/// One torrent's swarm.
pub struct Session {
    layout: Layout,
    config: SessionConfig,
    have: Bitfield,
    availability: Vec<u32>,
    partial: BTreeMap<u32, Partial>,
    peers: BTreeMap<PeerKey, Peer>,
    strikes: BTreeMap<PeerKey, u32>,
    actions: VecDeque<Action>,
    rng: Xoshiro256PlusPlus,
    stats: SessionStats,
    last_rechoke: Option<Duration>,
    last_optimistic: Option<Duration>,
    optimistic: Option<PeerKey>,
    announced_complete: bool,
    metadata: Option<Vec<u8>>,
}

impl Session {
    /// A session for `info`, holding the pieces in `have` (verified on disk).
    pub fn new(info: &Info, have: Bitfield, config: SessionConfig) -> Self {
        let layout = Layout {
            piece_length: info.piece_length,
            total: info.total_length(),
            hashes: info.pieces.clone(),
        };
        assert_eq!(
            have.len(),
            layout.pieces(),
            "a bitfield of the torrent's pieces"
        );
        Session {
            availability: vec![0; layout.pieces() as usize],
            layout,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            config,
            announced_complete: have.is_full(),
            have,
            partial: BTreeMap::new(),
            peers: BTreeMap::new(),
            strikes: BTreeMap::new(),
            actions: VecDeque::new(),
            stats: SessionStats::default(),
            last_rechoke: None,
            last_optimistic: None,
            optimistic: None,
            metadata: None,
        }
    }

    /// Serves `info_bytes` (the info dictionary) to peers that ask for it (BEP 9), so that
    /// they can start from a magnet link.
    pub fn with_metadata(mut self, info_bytes: Vec<u8>) -> Self {
        self.metadata = Some(info_bytes);
        self
    }

    /// The pieces held.
    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    /// Whether every piece is held.
    pub fn is_complete(&self) -> bool {
        self.have.is_full()
    }

    /// Bytes of the pieces held.
    pub fn bytes_held(&self) -> u64 {
        self.have
            .ones()
            .map(|i| self.layout.piece_size(i) as u64)
            .sum()
    }

    /// Connected peers.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Traffic counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Bytes per second received from and sent to all peers.
    pub fn rates(&self, now: Duration) -> (f64, f64) {
        self.peers.values().fold((0.0, 0.0), |(d, u), p| {
            (d + p.down.per_second(now), u + p.up.per_second(now))
        })
    }

    /// The next thing for the driver to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// A connection finished its handshake; `theirs` is the peer's (ours always offers the
    /// fast extension and the extension protocol).
    pub fn peer_connected(&mut self, key: PeerKey, theirs: &Handshake, now: Duration) {
        let fast = theirs.fast();
        self.peers
            .insert(key, Peer::new(self.layout.pieces(), fast, now));
        if theirs.extended() {
            // BEP 10: the extension handshake goes right after the handshake.
            let ours = ExtHandshake::ours(
                self.metadata.as_ref().map(Vec::len),
                self.config.max_peer_requests,
            );
            let payload = ours.encode();
            self.send(key, Message::Extended { id: 0, payload }, now);
        }
        let announce = if fast && self.have.is_full() {
            Message::HaveAll
        } else if fast && self.have.count() == 0 {
            Message::HaveNone
        } else {
            Message::Bitfield(self.have.as_wire().to_vec())
        };
        // A bitfield of nothing is optional without the fast extension; skipping it
        // avoids clients that dislike an empty one.
        if !(matches!(announce, Message::Bitfield(_)) && self.have.count() == 0) {
            self.send(key, announce, now);
        }
    }

    /// A connection closed, by either side.
    pub fn peer_disconnected(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.remove(&key) else {
            return;
        };
        for i in peer.has.ones() {
            self.availability[i as usize] -= 1;
        }
        for (block, _) in peer.requested {
            self.unrequest(block);
        }
        if self.optimistic == Some(key) {
            self.optimistic = None;
        }
    }

    /// A message from a peer.
    pub fn message(&mut self, key: PeerKey, message: Message, now: Duration) {
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        peer.last_received = now;
        let fast = peer.fast;
        match message {
            Message::KeepAlive | Message::Port(_) | Message::Unknown(_) => {}
            Message::SuggestPiece(_) => {}
            Message::Extended { id: 0, payload } => {
                if let Some(h) = ExtHandshake::decode(&payload) {
                    peer.ut_metadata = h.ut_metadata();
                }
            }
            Message::Extended { id, payload } => {
                if id == UT_METADATA
                    && let Some(MetadataMessage::Request(piece)) = MetadataMessage::decode(&payload)
                {
                    self.metadata_requested(key, piece, now);
                }
            }
            Message::Choke => {
                peer.peer_choking = true;
                if !fast {
                    // Without the fast extension, a choke discards every open request.
                    let dropped: Vec<_> = peer.requested.drain(..).map(|(b, _)| b).collect();
                    for block in dropped {
                        self.unrequest(block);
                    }
                }
            }
            Message::Unchoke => {
                peer.peer_choking = false;
                peer.last_block = now;
                self.fill_requests(key, now);
            }
            Message::Interested => {
                peer.peer_interested = true;
                self.unchoke_if_free(key, now);
            }
            Message::NotInterested => {
                peer.peer_interested = false;
            }
            Message::Have(index) => {
                if index >= self.layout.pieces() {
                    return self.close(key, format!("have of piece {index}, out of range"));
                }
                if peer.has.set(index) {
                    self.availability[index as usize] += 1;
                }
                self.update_interest(key, now);
            }
            Message::Bitfield(bits) => {
                let pieces = self.layout.pieces();
                let Some(has) = Bitfield::from_wire(&bits, pieces) else {
                    return self.close(key, format!("a bitfield of {} bytes", bits.len()));
                };
                self.set_has(key, has, now);
            }
            Message::HaveAll | Message::HaveNone if !fast => {
                self.close(key, "have-all/none without the fast extension".into())
            }
            Message::HaveAll => {
                let full = Bitfield::full(self.layout.pieces());
                self.set_has(key, full, now);
            }
            Message::HaveNone => {
                let none = Bitfield::empty(self.layout.pieces());
                self.set_has(key, none, now);
            }
            Message::AllowedFast(index) => {
                if index < self.layout.pieces() && fast && !peer.allowed_fast.contains(&index) {
                    peer.allowed_fast.push(index);
                    self.fill_requests(key, now);
                }
            }
            Message::Request {
                index,
                begin,
                length,
            } => self.requested_of_us(
                key,
                BlockRef {
                    index,
                    begin,
                    length,
                },
                now,
            ),
            Message::Cancel {
                index,
                begin,
                length,
            } => {
                let block = BlockRef {
                    index,
                    begin,
                    length,
                };
                peer.wanted.retain(|b| *b != block);
            }
            Message::RejectRequest {
                index,
                begin,
                length,
            } => {
                if !fast {
                    return self.close(key, "a reject without the fast extension".into());
                }
                let block = BlockRef {
                    index,
                    begin,
                    length,
                };
                if let Some(at) = peer.requested.iter().position(|(b, _)| *b == block) {
                    peer.requested.remove(at);
                    self.unrequest(block);
                    if !self.peers[&key].peer_choking {
                        self.fill_requests(key, now);
                    }
                }
            }
            Message::Piece { index, begin, data } => {
                self.block_received(key, index, begin, data, now)
            }
        }
    }

    /// A block read from storage for a peer's request.
    pub fn block_read(&mut self, key: PeerKey, block: BlockRef, data: Vec<u8>, now: Duration) {
        if !self.peers.contains_key(&key) {
            return;
        }
        self.send(
            key,
            Message::Piece {
                index: block.index,
                begin: block.begin,
                data,
            },
            now,
        );
    }

    /// A block sent earlier with [`Action::Send`] has been written to the peer's socket.
    pub fn block_sent(&mut self, key: PeerKey, bytes: u64, now: Duration) {
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        peer.reads_in_flight = peer.reads_in_flight.saturating_sub(1);
        peer.up.add(bytes);
        self.stats.uploaded += bytes;
        self.pump_reads(key, now);
    }

    /// Time passes: rates are sampled, stale requests re-asked, chokes re-chosen, idle
    /// connections kept alive or closed.
    pub fn tick(&mut self, now: Duration) {
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            let timeout = self.config.request_timeout;
            let peer = self.peers.get_mut(&key).expect("listed");
            peer.down.sample(now);
            peer.up.sample(now);
            if now.saturating_sub(peer.last_received) > Duration::from_secs(180) {
                self.close(key, "nothing received for three minutes".into());
                continue;
            }
            if now.saturating_sub(peer.last_sent) > Duration::from_secs(90) {
                self.send(key, Message::KeepAlive, now);
            }
            let peer = self.peers.get_mut(&key).expect("listed");
            let mut stale = Vec::new();
            while let Some(&(block, at)) = peer.requested.front() {
                if now.saturating_sub(at) <= timeout {
                    break;
                }
                peer.requested.pop_front();
                stale.push(block);
            }
            for block in stale {
                self.unrequest(block);
            }
        }
        self.choke_round(now);
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.fill_requests(key, now);
        }
    }

    /// A peer's whole piece set. BEP 3 sends it first, but some clients (aria2c) send
    /// have-none and then a bitfield; the last one wins.
    /// Answers a BEP 9 request with the piece of the info dictionary, or a reject.
    fn metadata_requested(&mut self, key: PeerKey, piece: u32, now: Duration) {
        let Some(their_id) = self.peers.get(&key).and_then(|p| p.ut_metadata) else {
            return;
        };
        use crate::wire::METADATA_PIECE_LEN;
        let start = piece as usize * METADATA_PIECE_LEN;
        let reply = match &self.metadata {
            Some(m) if start < m.len() => MetadataMessage::Data {
                piece,
                total_size: m.len() as u64,
                data: m[start..m.len().min(start + METADATA_PIECE_LEN)].to_vec(),
            },
            _ => MetadataMessage::Reject(piece),
        };
        let payload = reply.encode();
        self.send(
            key,
            Message::Extended {
                id: their_id,
                payload,
            },
            now,
        );
    }

    fn set_has(&mut self, key: PeerKey, has: Bitfield, now: Duration) {
        let peer = self.peers.get_mut(&key).expect("caller checked");
        for i in peer.has.ones() {
            self.availability[i as usize] -= 1;
        }
        for i in has.ones() {
            self.availability[i as usize] += 1;
        }
        peer.has = has;
        if peer.has.is_full() && self.have.is_full() {
            return self.close(key, "both sides are seeds".into());
        }
        self.update_interest(key, now);
    }

    fn requested_of_us(&mut self, key: PeerKey, block: BlockRef, now: Duration) {
        let layout = &self.layout;
        let valid = block.index < layout.pieces()
            && block.length > 0
            && block.length <= MAX_REQUEST_LEN
            && block.begin as u64 + block.length as u64 <= layout.piece_size(block.index) as u64;
        if !valid {
            return self.close(key, format!("a request out of range: {block:?}"));
        }
        let have = self.have.get(block.index);
        let max = self.config.max_peer_requests;
        let peer = self.peers.get_mut(&key).expect("caller checked");
        let allowed = !peer.am_choking;
        if !have || !allowed || peer.wanted.len() >= max {
            if peer.fast {
                self.send(
                    key,
                    Message::RejectRequest {
                        index: block.index,
                        begin: block.begin,
                        length: block.length,
                    },
                    now,
                );
            }
            return;
        }
        peer.wanted.push_back(block);
        self.pump_reads(key, now);
    }

    fn pump_reads(&mut self, key: PeerKey, _now: Duration) {
        let max = self.config.max_reads_in_flight;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        while peer.reads_in_flight < max {
            let Some(block) = peer.wanted.pop_front() else {
                break;
            };
            peer.reads_in_flight += 1;
            self.actions.push_back(Action::Read(key, block));
        }
    }

    fn block_received(
        &mut self,
        key: PeerKey,
        index: u32,
        begin: u32,
        data: Vec<u8>,
        now: Duration,
    ) {
        let len = data.len() as u64;
        let block = BlockRef {
            index,
            begin,
            length: data.len() as u32,
        };
        let peer = self.peers.get_mut(&key).expect("caller checked");
        peer.down.add(len);
        peer.last_block = now;
        if let Some(at) = peer.requested.iter().position(|(b, _)| *b == block) {
            peer.requested.remove(at);
        }
        let layout = &self.layout;
        let n = begin / BLOCK_LEN;
        let fits = index < layout.pieces()
            && begin % BLOCK_LEN == 0
            && n < layout.blocks(index)
            && layout.block(index, n) == block;
        let state = self
            .partial
            .get(&index)
            .map(|p| p.blocks[n as usize])
            .filter(|_| fits);
        match state {
            Some(BlockState::Got) | None => {
                // A duplicate from the endgame, or a block we no longer want.
                self.stats.wasted += len;
            }
            Some(_) => {
                let partial = self.partial.get_mut(&index).expect("checked");
                partial.data[begin as usize..begin as usize + data.len()].copy_from_slice(&data);
                partial.blocks[n as usize] = BlockState::Got;
                partial.got += 1;
                partial.contributors.insert(key);
                // Anyone else asked for it in the endgame is told not to bother.
                let others: Vec<PeerKey> = self
                    .peers
                    .iter()
                    .filter(|(k, p)| **k != key && p.requested.iter().any(|(b, _)| *b == block))
                    .map(|(k, _)| *k)
                    .collect();
                for other in others {
                    let p = self.peers.get_mut(&other).expect("listed");
                    p.requested.retain(|(b, _)| *b != block);
                    self.send(
                        other,
                        Message::Cancel {
                            index,
                            begin,
                            length: block.length,
                        },
                        now,
                    );
                }
                if self.partial[&index].got == self.layout.blocks(index) {
                    self.piece_done(index, now);
                }
            }
        }
        if self.peers.contains_key(&key) {
            self.fill_requests(key, now);
        }
    }

    fn piece_done(&mut self, index: u32, now: Duration) {
        let partial = self.partial.remove(&index).expect("caller checked");
        let hash: [u8; 20] = sha1::Sha1::digest(&partial.data).into();
        if hash != self.layout.hashes[index as usize] {
            self.stats.hash_failures += 1;
            self.stats.wasted += partial.data.len() as u64;
            for key in partial.contributors {
                let strikes = self.strikes.entry(key).or_default();
                *strikes += 1;
                if *strikes >= self.config.ban_after_bad_pieces && self.peers.contains_key(&key) {
                    self.stats.banned += 1;
                    self.actions.push_back(Action::Close {
                        peer: key,
                        reason: format!("{strikes} pieces failed their hash"),
                        ban: true,
                    });
                    self.peer_disconnected(key);
                }
            }
            return;
        }
        self.stats.downloaded += partial.data.len() as u64;
        self.actions.push_back(Action::Write {
            index,
            data: partial.data,
        });
        self.have.set(index);
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in &keys {
            self.send(*key, Message::Have(index), now);
        }
        if self.have.is_full() && !self.announced_complete {
            self.announced_complete = true;
            self.actions.push_back(Action::Complete);
        }
        for key in keys {
            self.update_interest(key, now);
        }
    }

    /// Whether `key` has a piece we lack; sends interested or not-interested on a change.
    fn update_interest(&mut self, key: PeerKey, now: Duration) {
        let Some(peer) = self.peers.get(&key) else {
            return;
        };
        let wants = !self.have.is_full() && peer.has.ones().any(|i| !self.have.get(i));
        if wants != peer.am_interested {
            self.peers.get_mut(&key).expect("listed").am_interested = wants;
            let m = if wants {
                Message::Interested
            } else {
                Message::NotInterested
            };
            self.send(key, m, now);
        }
        if self.have.is_full() && self.peers.get(&key).is_some_and(|p| p.has.is_full()) {
            self.close(key, "both sides are seeds".into());
            return;
        }
        self.fill_requests(key, now);
    }

    fn unrequest(&mut self, block: BlockRef) {
        let n = (block.begin / BLOCK_LEN) as usize;
        if let Some(p) = self.partial.get_mut(&block.index)
            && let Some(BlockState::Requested(c)) = p.blocks.get(n).copied()
        {
            p.blocks[n] = if c > 1 {
                BlockState::Requested(c - 1)
            } else {
                BlockState::Missing
            };
        }
    }

    fn send(&mut self, key: PeerKey, message: Message, now: Duration) {
        if let Some(peer) = self.peers.get_mut(&key) {
            peer.last_sent = now;
            self.actions.push_back(Action::Send(key, message));
        }
    }

    fn close(&mut self, key: PeerKey, reason: String) {
        self.actions.push_back(Action::Close {
            peer: key,
            reason,
            ban: false,
        });
        self.peer_disconnected(key);
    }
}

#[cfg(test)]
mod tests;
