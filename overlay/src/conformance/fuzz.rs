//! Fuzzing a node's decoders: bytes from outside (real messages of every kind the overlay
//! sends, mutated, and random bytes) never make a node panic, and a message it rejects
//! leaves its state as it was.
//!
//! The budget is bounded for the test suite; `P2P_FUZZ_CASES` raises it for a longer run:
//! `P2P_FUZZ_CASES=200000 cargo test --release -p dht-chord --test conformance fuzz`.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::apps::AppSet;
use crate::conformance::{NODES, grown, put};
use crate::dht::DhtCommand;
use crate::io::Command;
use crate::sim::{SimRouting, Simulator};

/// Cases run per overlay unless `P2P_FUZZ_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 1000;

/// One way of damaging a real message.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flip bits of the byte at this position (modulo the length).
    Flip(usize, u8),
    /// Cut the message at this position.
    Truncate(usize),
    /// Insert a byte at this position.
    Insert(usize, u8),
    /// Overwrite bytes from this position with these.
    Overwrite(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(p, b)| Mutation::Flip(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(p, b)| Mutation::Overwrite(p, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
    match m {
        Mutation::Flip(p, b) => {
            let i = at(*p, bytes.len());
            if let Some(x) = bytes.get_mut(i) {
                *x ^= b;
            }
        }
        Mutation::Truncate(p) => bytes.truncate(at(*p, bytes.len())),
        Mutation::Insert(p, b) => bytes.insert(at(*p, bytes.len() + 1), *b),
        Mutation::Overwrite(p, new) => {
            let i = at(*p, bytes.len());
            for (j, b) in new.iter().enumerate() {
                if let Some(x) = bytes.get_mut(i + j) {
                    *x = *b;
                }
            }
        }
    }
}

/// An input: a captured message (by index) with mutations, or random bytes.
#[derive(Clone, Debug)]
enum Input {
    Mutated(usize, Vec<Mutation>),
    Random(Vec<u8>),
}

/// The number of cases to run: `P2P_FUZZ_CASES`, or `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("P2P_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Feeds `cases` fuzzed inputs, built from the messages `sim` captured (see
/// [`Simulator::capture_messages`]), to its first live node from its second, with a
/// runner seeded by `seed`. Fails if a node panics, or if a rejected input changed the
/// node's state.
pub fn fuzz_node_inputs<R: SimRouting, S: AppSet<u32>>(
    sim: &mut Simulator<R, S>,
    cases: u32,
    seed: u8,
) {
    let corpus = sim.captured_messages().to_vec();
    assert!(!corpus.is_empty(), "{}: no message was captured", R::NAME);
    let addr = sim.live()[0];
    let peer = sim.contact(sim.live()[1]).clone();
    let input = prop_oneof![
        3 => (0..corpus.len(), prop::collection::vec(mutation(), 1..4))
            .prop_map(|(i, m)| Input::Mutated(i, m)),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Input::Random),
    ];
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let sim = std::cell::RefCell::new(sim);
    let result = runner.run(&input, |input| {
        let bytes = match &input {
            Input::Mutated(i, ms) => {
                let mut b = corpus[*i].clone();
                for m in ms {
                    apply(&mut b, m);
                }
                b
            }
            Input::Random(b) => b.clone(),
        };
        let mut sim = sim.borrow_mut();
        let before = format!("{:?}", sim.node(addr).expect("live"));
        let result = sim.with_node(addr, |node, ctx| {
            node.handle_bytes(ctx, peer.clone(), &bytes)
        });
        if result.is_err() {
            // The rejection counter is the one thing a rejected message may change.
            let after = format!("{:?}", sim.node(addr).expect("live"));
            prop_assert_eq!(
                strip_rejected(&before),
                strip_rejected(&after),
                "a rejected input changed the node"
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{}: fuzzing the node's inputs: {e}", R::NAME);
    }
}

/// `text` without the value of its `rejected` counter.
fn strip_rejected(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("rejected: ") {
        let (head, tail) = rest.split_at(i + "rejected: ".len());
        out.push_str(head);
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// A small overlay grows and stores and reads keys while every kind of message it sends
/// is captured; then [`fuzz_node_inputs`] runs on it.
pub fn decoders_survive_fuzzing<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES / 8, 17);
    sim.capture_messages(4);
    // More joins, keys written and read: routing, join, DHT and repair messages.
    sim.grow(4, std::time::Duration::from_secs(5), 0.1, |_, _| {});
    let nodes = sim.live().to_vec();
    for i in 0..20u64 {
        let key = crate::Key::hash(format!("fuzz-{i}"));
        put(
            &mut sim,
            nodes[i as usize % nodes.len()],
            i + 1,
            key,
            vec![i as u8; 40],
        );
        let get = DhtCommand::Get { op: 100 + i, key };
        sim.command(nodes[(i as usize + 1) % nodes.len()], Command::app(get));
    }
    let until = sim.now() + std::time::Duration::from_secs(120);
    sim.run_until(until);
    fuzz_node_inputs(&mut sim, cases(DEFAULT_CASES), 17);
}
