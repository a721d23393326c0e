//! Scribe's decoders under fuzzing, over every overlay: real Scribe messages of every kind
//! (joins, acceptances, heartbeats, refreshes, publications, anycasts, leaves), mutated,
//! and random bytes never make a node panic, and one it rejects leaves it unchanged.

use std::time::Duration;

use multicast::{Scribe, ScribeCommand};
use overlay::conformance::fuzz::{DEFAULT_CASES, cases, fuzz_node_inputs};
use overlay::sim::{SimConfig, SimRouting, Simulator};
use overlay::{Command, Key};

type Apps = overlay::apps![Scribe<u32>];

fn fuzz<R: SimRouting>(cfg: R::Config) {
    let mut sim = Simulator::<R, Apps>::new(cfg, SimConfig::default(), 19);
    sim.build_oracle(40);
    sim.capture_messages(4);
    let group = Key::hash("fuzz");
    let nodes = sim.live().to_vec();
    sim.command(nodes[5], Command::app(ScribeCommand::Create(group)));
    // The fuzzed node (the first live one) is a member, so tree messages reach its state.
    for &m in nodes.iter().step_by(4) {
        sim.command(m, Command::app(ScribeCommand::Subscribe(group)));
    }
    sim.run_until(sim.now() + Duration::from_secs(2));
    for (i, &p) in nodes.iter().step_by(9).enumerate() {
        let payload = format!("message {i}").into_bytes();
        sim.command(p, Command::app(ScribeCommand::Publish { group, payload }));
    }
    let payload = b"anyone?".to_vec();
    sim.command(
        nodes[3],
        Command::app(ScribeCommand::Anycast { group, payload }),
    );
    sim.command(nodes[8], Command::app(ScribeCommand::Unsubscribe(group)));
    // Long enough for heartbeats, refreshes and their answers.
    sim.run_until(sim.now() + Duration::from_secs(30));
    fuzz_node_inputs(&mut sim, cases(DEFAULT_CASES), 19);
}

#[test]
fn scribe_over_chord() {
    fuzz::<dht_chord::Chord<u32>>(Default::default());
}

#[test]
fn scribe_over_pastry() {
    fuzz::<dht_pastry::Pastry<u32>>(Default::default());
}

#[test]
fn scribe_over_tapestry() {
    fuzz::<dht_tapestry::Tapestry<u32>>(Default::default());
}

#[test]
fn scribe_over_can() {
    fuzz::<dht_can::Can<u32>>(Default::default());
}
