//! Every mutual-exclusion algorithm in the seeded cluster: never two members inside, every
//! request of a live member granted, and the textbook message counts when nothing fails.

use std::time::Duration;

use coordination::mutex::{
    Central, Lamport, Maekawa, MutexAlgorithm, RicartAgrawala, TokenRing, mean_other_voters,
};
use coordination::{ClusterConfig, ClusterReport, Member, View, run_cluster};

fn run<A: MutexAlgorithm<Member>>(
    cfg: &ClusterConfig,
    make: fn(Member, View<Member>) -> A,
) -> ClusterReport {
    let r = run_cluster(cfg, make);
    assert_eq!(r.safety_violations, 0, "{cfg:?}: {r:?}");
    assert_eq!(r.starved, 0, "{cfg:?}: {r:?}");
    r
}

/// Seeds per churn check: `P2P_COORDINATION_SEEDS`, 200 by default.
fn seeds() -> u64 {
    std::env::var("P2P_COORDINATION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

fn failure_free(members: u32, seed: u64) -> ClusterConfig {
    ClusterConfig {
        members,
        requests: 10,
        seed,
        ..ClusterConfig::default()
    }
}

/// Crashes and joins during the run, with views reaching members late and out of step;
/// every other seed crashes half the members and delivers views up to half a second late.
fn churn(seed: u64) -> ClusterConfig {
    let harsh = seed % 2 == 1;
    ClusterConfig {
        members: 10,
        requests: 15,
        crashes: if harsh { 5 } else { 3 },
        joins: 3,
        view_delay: Duration::from_millis(if harsh { 500 } else { 100 }),
        seed,
        ..ClusterConfig::default()
    }
}

#[test]
fn central_server_costs_three_messages_per_remote_entry() {
    for n in [4, 8, 16] {
        let r = run(&failure_free(n, 7), Central::new);
        assert_eq!(r.entries, u64::from(n * 10));
        // The coordinator's own entries cost nothing; everyone else's cost 3.
        assert_eq!(r.messages, 3 * u64::from(n - 1) * 10, "{r:?}");
    }
}

#[test]
fn ricart_agrawala_costs_two_n_minus_one() {
    for n in [4, 8, 16] {
        let r = run(&failure_free(n, 7), RicartAgrawala::new);
        assert_eq!(r.messages_per_entry, f64::from(2 * (n - 1)), "{r:?}");
    }
}

#[test]
fn lamport_costs_three_n_minus_one() {
    for n in [4, 8, 16] {
        let r = run(&failure_free(n, 7), Lamport::new);
        assert_eq!(r.messages_per_entry, f64::from(3 * (n - 1)), "{r:?}");
    }
}

#[test]
fn the_token_ring_serves_everyone() {
    for n in [4, 8, 16] {
        let r = run(&failure_free(n, 7), TokenRing::new);
        assert_eq!(r.entries, u64::from(n * 10));
        assert!(r.messages_per_entry >= 1.0, "{r:?}");
    }
}

#[test]
fn central_server_survives_crashes_and_joins() {
    for seed in 0..seeds() {
        run(&churn(seed), Central::new);
    }
}

#[test]
fn ricart_agrawala_survives_crashes_and_joins() {
    for seed in 0..seeds() {
        run(&churn(seed), RicartAgrawala::new);
    }
}

#[test]
fn lamport_survives_crashes_and_joins() {
    for seed in 0..seeds() {
        run(&churn(seed), Lamport::new);
    }
}

#[test]
fn the_token_ring_survives_crashes_and_joins() {
    for seed in 0..seeds() {
        run(&churn(seed), TokenRing::new);
    }
}

#[test]
fn maekawa_costs_three_per_member_of_its_set() {
    // 3(K−1) messages per entry when no requests compete (one member asking at a time),
    // K − 1 = 4.5625 other voters on average at N = 16 (the plane of order 4 with 5 of its
    // 21 points lent), against 6 for a grid.
    let cfg = ClusterConfig {
        members: 16,
        requests: 5,
        think: (Duration::from_secs(1000), Duration::from_secs(5000)),
        ..ClusterConfig::default()
    };
    let r = run(&cfg, Maekawa::new);
    assert_eq!(mean_other_voters(16), 4.5625);
    assert_eq!(r.messages_per_entry, 3.0 * 4.5625, "{r:?}");
    for n in [4, 8, 16] {
        let r = run(&failure_free(n, 7), Maekawa::new);
        assert_eq!(r.entries, u64::from(n * 10));
    }
}

#[test]
fn maekawa_survives_crashes_and_joins() {
    for seed in 0..seeds() {
        run(&churn(seed), Maekawa::new);
    }
}
