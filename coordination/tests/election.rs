//! Both elections in the seeded cluster: after every leader crash all live members name the
//! highest live member, and one starter costs what the textbooks say.

use std::time::Duration;

use coordination::election::{Bully, ElectionAlgorithm, RingElection};
use coordination::{ElectionConfig, ElectionReport, Member, Starters, View, run_elections};

fn run<A: ElectionAlgorithm<Member>>(
    cfg: &ElectionConfig,
    make: fn(Member, View<Member>) -> A,
    manual: fn(A) -> A,
) -> ElectionReport {
    let r = run_elections(cfg, make, manual);
    assert_eq!(r.disagreements, 0, "{cfg:?}: {r:?}");
    assert_eq!(r.elections, cfg.rounds, "{r:?}");
    r
}

fn one_starter(members: u32, starters: Starters) -> ElectionConfig {
    ElectionConfig {
        members,
        rounds: 3,
        starters,
        ..ElectionConfig::default()
    }
}

/// Live members in round `i` of a run that started with `n`: one leader fewer each round.
fn live(n: u32, i: usize) -> u64 {
    u64::from(n) - 1 - i as u64
}

#[test]
fn bully_best_case_is_n_minus_two() {
    for n in [4, 8, 16, 32] {
        let r = run(
            &one_starter(n, Starters::Highest),
            Bully::new,
            Bully::manual,
        );
        for (i, m) in r.messages.iter().enumerate() {
            // N counts the crashed leader: N − 2 = live − 1 coordinator messages.
            assert_eq!(*m, live(n, i) - 1, "{r:?}");
        }
    }
}

#[test]
fn bully_worst_case_is_quadratic() {
    for n in [8, 16, 32] {
        // Equal delays: every asked member answers and asks all above it before the top
        // one announces itself, as in the textbook's worst case.
        let cfg = ElectionConfig {
            delay: (Duration::from_millis(5), Duration::from_millis(5)),
            ..one_starter(n, Starters::Lowest)
        };
        let r = run(&cfg, Bully::new, Bully::manual);
        for (i, m) in r.messages.iter().enumerate() {
            let l = live(n, i);
            // l(l−1)/2 elections and as many answers, l−1 coordinator messages, and up to
            // late elections that the new leader answers with an answer and itself again.
            assert!(*m >= l * l - 1 && *m <= l * l + l, "{l} live: {r:?}");
        }
    }
}

#[test]
fn ring_election_costs_at_most_three_n_minus_one() {
    for n in [4, 8, 16, 32] {
        let worst = run(
            &one_starter(n, Starters::Lowest),
            RingElection::new,
            RingElection::manual,
        );
        let best = run(
            &one_starter(n, Starters::Highest),
            RingElection::new,
            RingElection::manual,
        );
        // A member left alone elects itself without a message.
        for i in 0..3 {
            let l = live(n, i);
            let (w, b) = if l < 2 { (0, 0) } else { (3 * l - 1, 2 * l) };
            assert_eq!(worst.messages[i], w, "{worst:?}");
            assert_eq!(best.messages[i], b, "{best:?}");
        }
    }
}

#[test]
fn concurrent_elections_agree_on_one_leader() {
    for seed in 0..200 {
        let cfg = ElectionConfig {
            members: 12,
            rounds: 6,
            seed,
            ..ElectionConfig::default()
        };
        run(&cfg, Bully::new, Bully::manual);
        run(&cfg, RingElection::new, RingElection::manual);
    }
}

#[test]
fn a_higher_member_joining_as_the_leader_crashes_takes_over() {
    for seed in 0..200 {
        let cfg = ElectionConfig {
            members: 12,
            rounds: 6,
            joins: true,
            seed,
            ..ElectionConfig::default()
        };
        run(&cfg, Bully::new, Bully::manual);
        run(&cfg, RingElection::new, RingElection::manual);
    }
}
