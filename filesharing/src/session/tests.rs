//! Sessions swarming in memory: every message delivered in order, reads answered at once,
//! time advanced by hand.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::metainfo::FileEntry;
use crate::wire::Message;

fn torrent(len: usize, piece_length: u64) -> (Info, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let pieces = data
        .chunks(piece_length as usize)
        .map(|c| sha1::Sha1::digest(c).into())
        .collect();
    let info = Info {
        name: "t".into(),
        piece_length,
        pieces,
        files: vec![FileEntry {
            path: vec![],
            length: len as u64,
        }],
        private: false,
    };
    (info, data)
}

/// A peer's handshake, with or without the fast extension.
fn peer(fast: bool) -> crate::wire::Handshake {
    let mut h = crate::wire::Handshake::new(crate::InfoHash([0; 20]), [1; 20]).with_extensions();
    if !fast {
        h.reserved[7] = 0;
    }
    h
}

struct Node {
    session: Session,
    data: Vec<u8>,
    /// Serves flipped bytes.
    liar: bool,
    written: Vec<bool>,
    complete: bool,
}

struct Swarm {
    nodes: Vec<Node>,
    now: Duration,
    closed: Vec<(usize, usize, String, bool)>,
    piece_length: u64,
}

impl Swarm {
    /// Node i's connection to node j is numbered j on i's side.
    fn new(info: &Info, data: &[u8], seeds: &[usize], liars: &[usize], n: usize) -> Self {
        let pieces = info.pieces.len() as u32;
        let nodes = (0..n)
            .map(|i| {
                let seed = seeds.contains(&i) || liars.contains(&i);
                let have = if seed {
                    Bitfield::full(pieces)
                } else {
                    Bitfield::empty(pieces)
                };
                let config = SessionConfig {
                    seed: i as u64,
                    ..SessionConfig::default()
                };
                Node {
                    session: Session::new(info, have, config),
                    data: if seed {
                        data.to_vec()
                    } else {
                        vec![0; data.len()]
                    },
                    liar: liars.contains(&i),
                    written: vec![seed; pieces as usize],
                    complete: false,
                }
            })
            .collect();
        let mut swarm = Swarm {
            nodes,
            now: Duration::ZERO,
            closed: Vec::new(),
            piece_length: info.piece_length,
        };
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    swarm.nodes[i]
                        .session
                        .peer_connected(j as u64, &peer(true), Duration::ZERO);
                }
            }
        }
        swarm
    }

    /// Runs until nothing is left to do in a round and `until` holds, or `rounds` pass.
    fn run(&mut self, rounds: usize, until: impl Fn(&Swarm) -> bool) {
        for round in 0..rounds {
            self.now += Duration::from_millis(100);
            if round % 10 == 0 {
                for node in &mut self.nodes {
                    node.session.tick(self.now);
                }
            }
            self.deliver();
            if until(self) {
                return;
            }
        }
    }

    fn deliver(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(action) = self.nodes[i].session.poll_action() {
                    any = true;
                    self.apply(i, action);
                }
            }
            if !any {
                return;
            }
        }
    }

    fn apply(&mut self, i: usize, action: Action) {
        let now = self.now;
        match action {
            Action::Send(j, message) => {
                let j = j as usize;
                let sent = match &message {
                    Message::Piece { data, .. } => Some(data.len() as u64),
                    _ => None,
                };
                self.nodes[j].session.message(i as u64, message, now);
                if let Some(bytes) = sent {
                    self.nodes[i].session.block_sent(j as u64, bytes, now);
                }
            }
            Action::Close { peer, reason, ban } => {
                let j = peer as usize;
                self.closed.push((i, j, reason, ban));
                self.nodes[j].session.peer_disconnected(i as u64);
            }
            Action::Read(j, block) => {
                let start =
                    block.index as usize * self.piece_length as usize + block.begin as usize;
                let mut bytes = self.nodes[i].data[start..start + block.length as usize].to_vec();
                if self.nodes[i].liar {
                    bytes.iter_mut().for_each(|b| *b ^= 0x5a);
                }
                self.nodes[i].session.block_read(j, block, bytes, now);
            }
            Action::Write { index, data } => {
                let start = index as usize * self.piece_length as usize;
                let node = &mut self.nodes[i];
                node.data[start..start + data.len()].copy_from_slice(&data);
                node.written[index as usize] = true;
            }
            Action::Complete => self.nodes[i].complete = true,
        }
    }
}

#[test]
fn a_leecher_gets_every_byte_from_a_seed() {
    let (info, data) = torrent(1_000_003, 64 * 1024);
    let mut swarm = Swarm::new(&info, &data, &[0], &[], 2);
    swarm.run(600, |s| s.nodes[1].complete);
    assert!(swarm.nodes[1].complete, "closed: {:?}", swarm.closed);
    assert_eq!(swarm.nodes[1].data, data);
    assert!(swarm.nodes[1].written.iter().all(|w| *w));
    assert_eq!(swarm.nodes[1].session.stats().downloaded, data.len() as u64);
    assert_eq!(swarm.nodes[1].session.stats().hash_failures, 0);
}

#[test]
fn leechers_trade_so_the_seed_uploads_less_than_it_would_alone() {
    let (info, data) = torrent(2_000_000, 32 * 1024);
    let mut swarm = Swarm::new(&info, &data, &[0], &[], 7);
    swarm.run(3000, |s| s.nodes.iter().all(|n| n.session.is_complete()));
    for node in &swarm.nodes[1..] {
        assert_eq!(node.data, data);
    }
    let from_seed = swarm.nodes[0].session.stats().uploaded;
    let by_leechers: u64 = swarm.nodes[1..]
        .iter()
        .map(|n| n.session.stats().uploaded)
        .sum();
    assert!(by_leechers > 0, "leechers never uploaded");
    assert!(from_seed < 6 * data.len() as u64, "seed sent {from_seed}");
}

#[test]
fn a_peer_sending_bad_data_is_banned_and_the_download_completes() {
    let (info, data) = torrent(600_000, 16 * 1024);
    let mut swarm = Swarm::new(&info, &data, &[1], &[0], 3);
    swarm.run(3000, |s| s.nodes[2].complete);
    assert!(swarm.nodes[2].complete);
    assert_eq!(swarm.nodes[2].data, data);
    assert!(
        swarm
            .closed
            .iter()
            .any(|(i, j, _, ban)| *i == 2 && *j == 0 && *ban),
        "closed: {:?}",
        swarm.closed
    );
    let stats = swarm.nodes[2].session.stats();
    assert!(stats.hash_failures >= 3 && stats.banned == 1, "{stats:?}");
}

#[test]
fn at_most_five_peers_are_unchoked_at_once() {
    let (info, data) = torrent(4_000_000, 64 * 1024);
    let mut swarm = Swarm::new(&info, &data, &[0], &[], 12);
    for _ in 0..50 {
        swarm.run(10, |_| false);
        let unchoked = swarm.nodes[0]
            .session
            .peers
            .values()
            .filter(|p| !p.am_choking)
            .count();
        assert!(unchoked <= 5, "{unchoked} unchoked");
    }
}

#[test]
fn malformed_messages_close_the_connection() {
    let (info, _) = torrent(100_000, 16 * 1024);
    let pieces = info.pieces.len() as u32;
    let bad = [
        Message::Have(pieces),
        Message::Bitfield(vec![0xff]),
        Message::Request {
            index: 0,
            begin: 16 * 1024 - 1,
            length: 2,
        },
        Message::Request {
            index: 0,
            begin: 0,
            length: 1 << 20,
        },
    ];
    for message in bad {
        let mut s = Session::new(&info, Bitfield::full(pieces), SessionConfig::default());
        s.peer_connected(1, &peer(true), Duration::ZERO);
        s.message(1, message.clone(), Duration::ZERO);
        let closed = std::iter::from_fn(|| s.poll_action())
            .any(|a| matches!(a, Action::Close { peer: 1, .. }));
        assert!(closed, "{message:?} did not close");
        assert_eq!(s.peer_count(), 0);
    }
}

fn any_message(pieces: u32) -> impl Strategy<Value = Message> {
    let small = 0..pieces + 2;
    prop_oneof![
        Just(Message::Choke),
        Just(Message::Unchoke),
        Just(Message::Interested),
        Just(Message::NotInterested),
        Just(Message::HaveAll),
        Just(Message::HaveNone),
        small.clone().prop_map(Message::Have),
        small.clone().prop_map(Message::AllowedFast),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(Message::Bitfield),
        (small.clone(), 0u32..40_000, 0u32..40_000).prop_map(|(index, begin, length)| {
            Message::Request {
                index,
                begin,
                length,
            }
        }),
        (small.clone(), 0u32..40_000, 0u32..40_000).prop_map(|(index, begin, length)| {
            Message::RejectRequest {
                index,
                begin,
                length,
            }
        }),
        (
            small,
            0u32..40_000,
            proptest::collection::vec(any::<u8>(), 0..20_000)
        )
            .prop_map(|(index, begin, data)| Message::Piece { index, begin, data }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever a peer sends, in whatever order, the session answers without panicking.
    #[test]
    fn any_message_sequence_is_survived(
        seed in any::<bool>(),
        fast in any::<bool>(),
        messages in proptest::collection::vec(any_message(20), 0..40),
    ) {
        let (info, _) = torrent(20 * 16 * 1024 - 5, 16 * 1024);
        let pieces = info.pieces.len() as u32;
        let have = if seed { Bitfield::full(pieces) } else { Bitfield::empty(pieces) };
        let mut s = Session::new(&info, have, SessionConfig::default());
        s.peer_connected(1, &peer(fast), Duration::ZERO);
        for (t, m) in messages.into_iter().enumerate() {
            let now = Duration::from_secs(t as u64);
            s.message(1, m, now);
            s.tick(now);
            while let Some(a) = s.poll_action() {
                if let Action::Read(k, b) = a {
                    s.block_read(k, b, vec![0; b.length as usize], now);
                }
            }
        }
    }
}

#[test]
fn a_bitfield_after_have_none_replaces_it() {
    // aria2c sends have-none, then a bitfield once it has pieces to show.
    let (info, _) = torrent(100_000, 16 * 1024);
    let pieces = info.pieces.len() as u32;
    let mut s = Session::new(&info, Bitfield::empty(pieces), SessionConfig::default());
    s.peer_connected(1, &peer(true), Duration::ZERO);
    s.message(1, Message::HaveNone, Duration::ZERO);
    s.message(
        1,
        Message::Bitfield(Bitfield::full(pieces).as_wire().to_vec()),
        Duration::ZERO,
    );
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert!(
        actions.contains(&Action::Send(1, Message::Interested)),
        "{actions:?}"
    );
    assert_eq!(s.availability, vec![1; pieces as usize]);
    assert_eq!(s.peer_count(), 1);
}

#[test]
fn metadata_is_served_to_peers_that_ask() {
    use crate::wire::{ExtHandshake, MetadataMessage, UT_METADATA};
    let (info, _) = torrent(100_000, 16 * 1024);
    let pieces = info.pieces.len() as u32;
    let bytes: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    let mut s = Session::new(&info, Bitfield::full(pieces), SessionConfig::default())
        .with_metadata(bytes.clone());
    s.peer_connected(1, &peer(true), Duration::ZERO);
    let theirs = ExtHandshake {
        m: [("ut_metadata".to_string(), 9)].into(),
        ..ExtHandshake::default()
    };
    s.message(
        1,
        Message::Extended {
            id: 0,
            payload: theirs.encode(),
        },
        Duration::ZERO,
    );
    for piece in [1, 5] {
        let payload = MetadataMessage::Request(piece).encode();
        s.message(
            1,
            Message::Extended {
                id: UT_METADATA,
                payload,
            },
            Duration::ZERO,
        );
    }
    let sent: Vec<MetadataMessage> = std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| match a {
            Action::Send(1, Message::Extended { id: 9, payload }) => {
                MetadataMessage::decode(&payload)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            MetadataMessage::Data {
                piece: 1,
                total_size: 20_000,
                data: bytes[16_384..].to_vec()
            },
            MetadataMessage::Reject(5)
        ]
    );
}
