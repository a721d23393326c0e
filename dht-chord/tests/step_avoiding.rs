//! Routing around next hops that just failed (`step_avoiding`): the tables still list
//! them, and a message routed again must neither go back to them nor stop short of the
//! key's root.

use dht_chord::{Chord, ChordConfig, FingerTable};
use overlay::conformance::scratch::contact;
use overlay::{Key, Routing, Step};

/// Node 10 of a ring 5, 10, 20, 30, 40, knowing its neighbours only.
fn node() -> Chord<u32> {
    let succ = vec![contact(20), contact(30), contact(40)];
    Chord::from_tables(
        contact(10),
        ChordConfig::default(),
        Some(contact(5)),
        succ,
        FingerTable::default(),
    )
}

fn ids(step: &Step<u32>) -> Vec<u32> {
    step.contacts().iter().map(|c| c.addr).collect()
}

#[test]
fn the_successor_after_a_failed_one_is_the_root() {
    let chord = node();
    let key = Key([15; 20]);
    assert!(matches!(chord.step(&key, 1), Step::Root(_)));
    assert_eq!(ids(&chord.step(&key, 1)), [20]);
    let around = chord.step_avoiding(&key, 2, &[contact(20).id]);
    assert!(matches!(around, Step::Root(_)), "{around:?}");
    assert_eq!(ids(&around), [30, 40]);
}

#[test]
fn a_failed_hop_is_not_offered_again() {
    let chord = node();
    let key = Key([35; 20]);
    let first = chord.step(&key, 1).contacts()[0].clone();
    let around = chord.step_avoiding(&key, 3, &[first.id]);
    assert!(!ids(&around).contains(&first.addr), "{around:?}");
    assert!(!ids(&around).is_empty(), "{around:?}");
}

#[test]
fn with_every_successor_failed_the_node_does_not_claim_the_key() {
    let chord = node();
    let key = Key([35; 20]);
    let all: Vec<Key> = [20, 30, 40].map(|b| contact(b).id).to_vec();
    let around = chord.step_avoiding(&key, 2, &all);
    assert!(matches!(around, Step::Next(_)), "{around:?}");
}
