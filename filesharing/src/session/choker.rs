//! Who may ask us for blocks: the peers that give us the most (or, seeding, take the most)
//! hold the regular unchoke slots, re-chosen every ten seconds; one more slot rotates at
//! random every thirty seconds so that newcomers get a chance (the optimistic unchoke); a
//! peer that has snubbed us keeps only that one.

use std::time::Duration;

use rand::seq::SliceRandom;

use super::{PeerKey, Session};
use crate::wire::Message;

impl Session {
    /// Re-chooses the unchoked peers when their time has come.
    pub(super) fn choke_round(&mut self, now: Duration) {
        let rotate = self
            .last_optimistic
            .is_none_or(|t| now.saturating_sub(t) >= self.config.optimistic_every);
        let rechoke = self
            .last_rechoke
            .is_none_or(|t| now.saturating_sub(t) >= self.config.rechoke_every);
        if !rechoke && !rotate {
            return;
        }
        self.last_rechoke = Some(now);
        let seeding = self.have.is_full();
        let snub = self.config.snub_after;
        let mut ranked: Vec<(PeerKey, f64)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.peer_interested && !p.snubbed(now, snub))
            .map(|(k, p)| {
                let rate = if seeding {
                    p.up.per_second(now)
                } else {
                    p.down.per_second(now)
                };
                (*k, rate)
            })
            .collect();
        // Shuffled first so that equal rates (every peer at the start) are broken at random.
        ranked.shuffle(&mut self.rng);
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let regular: Vec<PeerKey> = ranked
            .iter()
            .take(self.config.unchoke_slots)
            .map(|(k, _)| *k)
            .collect();
        if rotate || self.optimistic.is_some_and(|k| regular.contains(&k)) {
            self.last_optimistic = Some(now);
            let mut others: Vec<PeerKey> = self
                .peers
                .iter()
                .filter(|(k, p)| p.peer_interested && !regular.contains(k))
                .map(|(k, _)| *k)
                .collect();
            others.sort_unstable();
            self.optimistic = others.get(self.rng_index(others.len())).copied();
        }
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            let unchoke = regular.contains(&key) || self.optimistic == Some(key);
            self.set_choked(key, !unchoke, now);
        }
    }

    /// Unchokes a newly interested peer at once if a slot is free, rather than making it
    /// wait for the next round.
    pub(super) fn unchoke_if_free(&mut self, key: PeerKey, now: Duration) {
        let unchoked = self.peers.values().filter(|p| !p.am_choking).count();
        if unchoked < self.config.unchoke_slots + 1 {
            self.set_choked(key, false, now);
        }
    }

    fn rng_index(&mut self, len: usize) -> usize {
        use rand::RngExt;
        if len == 0 {
            0
        } else {
            self.rng.random_range(0..len)
        }
    }

    fn set_choked(&mut self, key: PeerKey, choke: bool, now: Duration) {
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        if peer.am_choking == choke {
            return;
        }
        peer.am_choking = choke;
        if choke {
            // Queued requests die with the choke; with the fast extension each is
            // rejected so the peer can ask elsewhere at once.
            let dropped: Vec<_> = peer.wanted.drain(..).collect();
            let fast = peer.fast;
            self.send(key, Message::Choke, now);
            if fast {
                for b in dropped {
                    self.send(
                        key,
                        Message::RejectRequest {
                            index: b.index,
                            begin: b.begin,
                            length: b.length,
                        },
                        now,
                    );
                }
            }
        } else {
            self.send(key, Message::Unchoke, now);
        }
    }
}
