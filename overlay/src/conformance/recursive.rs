//! Recursive lookups: the same roots over the same paths as iterative ones in a converged
//! overlay, fewer message delays, and failed hops routed around.

use std::time::Duration;

use crate::Key;
use crate::config::LookupMode;
use crate::conformance::{NODES, grown, live_in_random_order};
use crate::io::Command;
use crate::sim::{LookupStats, SimConfig, SimRouting, Simulator};

/// Looks up every `(from, key)` in `mode`, all issued at once, and returns what the
/// simulator measured.
fn lookups_in<R: SimRouting>(
    sim: &mut Simulator<R>,
    pairs: &[(u32, Key)],
    mode: LookupMode,
) -> LookupStats {
    sim.lookup_stats = LookupStats::default();
    for (op, &(from, key)) in pairs.iter().enumerate() {
        let mode = Some(mode);
        sim.command(
            from,
            Command::Lookup {
                op: op as u64,
                key,
                mode,
            },
        );
    }
    let until = sim.now() + Duration::from_secs(120);
    sim.run_until(until);
    std::mem::take(&mut sim.lookup_stats)
}

fn random_pairs<R: SimRouting>(sim: &mut Simulator<R>, per_node: usize) -> Vec<(u32, Key)> {
    let nodes = sim.live().to_vec();
    let mut pairs = Vec::new();
    for from in nodes {
        for _ in 0..per_node {
            pairs.push((from, Key::random(sim.rng())));
        }
    }
    pairs
}

/// In a converged overlay, recursive lookups from every node reach the true root in as
/// many hops as iterative lookups of the same keys from the same nodes (each hop picks the
/// same next hop either way), and sooner: a message per hop and one back, where an
/// iterative lookup pays a round trip per hop.
pub fn recursive_lookups_match_iterative_ones<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 21);
    // Frozen tables: both modes then see the same ones.
    sim.stop_maintenance();
    let pairs = random_pairs(&mut sim, 6);
    let iterative = lookups_in(&mut sim, &pairs, LookupMode::Iterative);
    let recursive = lookups_in(&mut sim, &pairs, LookupMode::Recursive);
    let n = pairs.len() as u64;
    for (mode, s) in [("iterative", &iterative), ("recursive", &recursive)] {
        assert_eq!(
            s.succeeded(),
            n,
            "{} {mode}: not all finished: {s:?}",
            R::NAME
        );
        assert_eq!(s.wrong, 0, "{} {mode}: wrong roots", R::NAME);
    }
    assert_eq!(
        recursive.hops,
        iterative.hops,
        "{}: recursive and iterative hop counts differ",
        R::NAME
    );
    // Each hop costs a message and its acknowledgement either way; a recursive answer
    // costs a request and its own acknowledgement more, unless the first hop found the
    // root and answered in its acknowledgement.
    let past_first_hop: u64 = iterative.hops.iter().skip(2).sum();
    assert_eq!(
        recursive.messages,
        iterative.messages + 2 * past_first_hop,
        "{}: recursive lookups sent {} messages, iterative {}, {past_first_hop} lookups \
         took two hops or more",
        R::NAME,
        recursive.messages,
        iterative.messages
    );
    // With delays that obey the triangle inequality (the default plane), a recursive
    // lookup of one hop takes as long as an iterative one, and of more hops less.
    let total = |s: &LookupStats| s.latencies_us.iter().sum::<u64>();
    let longer_than_one_hop = iterative.hops.iter().skip(2).any(|&c| c > 0);
    let faster = match longer_than_one_hop {
        true => total(&recursive) < total(&iterative),
        false => total(&recursive) == total(&iterative),
    };
    assert!(
        faster,
        "{}: recursive lookups took {} µs in all, iterative {}",
        R::NAME,
        total(&recursive),
        total(&iterative)
    );
}

/// An eighth of the nodes crash without a word; recursive lookups issued at once (while
/// every table still names them) find the true root at least as often as iterative ones
/// in the same run, and no more of them slowly: each hop routes around a next hop that
/// does not take the lookup over, and the origin goes on iteratively if no answer comes.
pub fn recursive_lookups_route_around_crashed_hops<R: SimRouting>(config: &R::Config) {
    let mut by_mode = Vec::new();
    for mode in [LookupMode::Iterative, LookupMode::Recursive] {
        // The same seed grows the same overlay and crashes the same nodes for both modes.
        let mut sim = grown::<R>(config, NODES, 22);
        let nodes = live_in_random_order(&mut sim);
        for &v in &nodes[..NODES / 8] {
            sim.crash(v);
        }
        let pairs = random_pairs(&mut sim, 4);
        let stats = lookups_in(&mut sim, &pairs, mode);
        by_mode.push(stats);
    }
    // Lookups not answered within two request timeouts (given up, or slow): one that met
    // two failed hops is among them either way; one that met a single failed hop is among
    // them recursively only if it had to wait for the origin's fallback.
    let slow = |s: &LookupStats| {
        let timeouts = SimConfig::default().node.request_timeout * 2;
        let slow_us = timeouts.as_micros() as u64;
        s.failed + s.latencies_us.iter().filter(|&&l| l >= slow_us).count() as u64
    };
    let right = |s: &LookupStats| s.succeeded() - s.wrong;
    let (iterative, recursive) = (&by_mode[0], &by_mode[1]);
    assert!(
        right(recursive) >= right(iterative),
        "{}: {} lookups found the true root recursively, {} iteratively",
        R::NAME,
        right(recursive),
        right(iterative)
    );
    assert!(
        slow(recursive) <= slow(iterative),
        "{}: {} lookups unanswered within two request timeouts recursively, {} iteratively",
        R::NAME,
        slow(recursive),
        slow(iterative)
    );
}
