//! Which block to ask a peer for next: blocks of started pieces first (strict priority),
//! then a new piece, random among the first few and rarest first after; when every
//! missing block is already asked for, the endgame asks again of other peers.

use std::time::Duration;

use rand::RngExt;

use super::{BlockRef, BlockState, Partial, PeerKey, Session};
use crate::wire::{BLOCK_LEN, Message};

/// Requests kept open per peer at the least and at the most; in between, enough to cover
/// two seconds at the peer's rate.
const MIN_QUEUE: usize = 16;
const MAX_QUEUE: usize = 250;

impl Session {
    /// Tops up the requests open with `key` to its queue depth.
    pub(super) fn fill_requests(&mut self, key: PeerKey, now: Duration) {
        loop {
            let Some(peer) = self.peers.get(&key) else {
                return;
            };
            let depth = ((peer.down.per_second(now) * 2.0) as usize / BLOCK_LEN as usize)
                .clamp(MIN_QUEUE, MAX_QUEUE);
            if !peer.am_interested || peer.requested.len() >= depth {
                return;
            }
            let Some(block) = self.next_block(key) else {
                return;
            };
            let peer = self.peers.get_mut(&key).expect("listed");
            peer.requested.push_back((block, now));
            self.send(
                key,
                Message::Request {
                    index: block.index,
                    begin: block.begin,
                    length: block.length,
                },
                now,
            );
        }
    }

    fn next_block(&mut self, key: PeerKey) -> Option<BlockRef> {
        let peer = &self.peers[&key];
        let may =
            |i: u32| peer.has.get(i) && (!peer.peer_choking || peer.allowed_fast.contains(&i));
        // Strict priority: finish what is started.
        for (&index, partial) in &mut self.partial {
            if !may(index) {
                continue;
            }
            if let Some(n) = partial
                .blocks
                .iter()
                .position(|b| *b == BlockState::Missing)
            {
                partial.blocks[n] = BlockState::Requested(1);
                return Some(self.layout.block(index, n as u32));
            }
        }
        // A new piece, unless enough are started already to keep every peer busy.
        if self.partial.len() < 8 + 2 * self.peers.len() {
            let fresh = (0..self.layout.pieces())
                .filter(|&i| !self.have.get(i) && !self.partial.contains_key(&i) && may(i));
            let random =
                !self.config.rarest_first || self.have.count() < self.config.random_first_pieces;
            let mut best: Option<(u32, u32)> = None;
            let mut ties = 0u32;
            for i in fresh {
                let rank = if random {
                    0
                } else {
                    self.availability[i as usize]
                };
                match best {
                    Some((_, r)) if rank > r => {}
                    Some((_, r)) if rank == r => {
                        ties += 1;
                        if self.rng.random_range(0..ties) == 0 {
                            best = Some((i, rank));
                        }
                    }
                    _ => {
                        best = Some((i, rank));
                        ties = 1;
                    }
                }
            }
            if let Some((index, _)) = best {
                let blocks = self.layout.blocks(index);
                let mut partial = Partial {
                    data: vec![0; self.layout.piece_size(index) as usize],
                    blocks: vec![BlockState::Missing; blocks as usize],
                    got: 0,
                    contributors: Default::default(),
                };
                partial.blocks[0] = BlockState::Requested(1);
                self.partial.insert(index, partial);
                return Some(self.layout.block(index, 0));
            }
        }
        // Endgame: every block wanted is asked for; ask this peer too for the least-asked
        // one it has not been asked for.
        let started = self.partial.len() as u32;
        let unstarted = self.layout.pieces() - self.have.count() - started;
        if unstarted > 0 {
            return None;
        }
        let peer = &self.peers[&key];
        let mut best: Option<(BlockRef, u8)> = None;
        for (&index, partial) in &self.partial {
            if !may(index) {
                continue;
            }
            for (n, state) in partial.blocks.iter().enumerate() {
                if let BlockState::Requested(c) = *state {
                    let block = self.layout.block(index, n as u32);
                    let mine = peer.requested.iter().any(|(b, _)| *b == block);
                    if !mine && best.is_none_or(|(_, bc)| c < bc) {
                        best = Some((block, c));
                    }
                }
            }
        }
        let (block, c) = best?;
        let partial = self.partial.get_mut(&block.index).expect("listed");
        partial.blocks[(block.begin / BLOCK_LEN) as usize] = BlockState::Requested(c + 1);
        Some(block)
    }
}
