//! A seeded cluster for the election algorithms: the leader crashes, round after round; the
//! new view reaches each member after its own delay; every member that notices starts an
//! election (or only one chosen member, to measure the best and the worst start). After each
//! round a checker asks every live member for its leader: all must name the highest live
//! member.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::cluster::Member;
use crate::election::{ElectionAction, ElectionAlgorithm};
use crate::schedule::Schedule;
use crate::view::View;

/// Who starts each election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Starters {
    /// Every member, as its view loses the leader.
    All,
    /// Only the highest live member (the bully's best case).
    Highest,
    /// Only the lowest live member (the worst case of both).
    Lowest,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct ElectionConfig {
    /// Members at the start.
    pub members: u32,
    /// Leader crashes, one election each.
    pub rounds: u32,
    /// Who starts the elections.
    pub starters: Starters,
    /// One-way message delay, drawn uniformly for every message.
    pub delay: (Duration, Duration),
    /// Time from a crash to the new view reaching a member (each its own, uniformly).
    pub view_delay: Duration,
    /// With each crash, a member with an id above every other joins (and must win).
    pub joins: bool,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for ElectionConfig {
    fn default() -> Self {
        ElectionConfig {
            members: 8,
            rounds: 3,
            starters: Starters::All,
            delay: (Duration::from_millis(1), Duration::from_millis(20)),
            view_delay: Duration::from_millis(50),
            joins: false,
            seed: 1,
        }
    }
}

/// What the rounds found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ElectionReport {
    /// Elections run (leader crashes).
    pub elections: u32,
    /// Messages of each election.
    pub messages: Vec<u64>,
    /// Time from each crash until the last message of its election, in ms.
    pub duration_ms: Vec<f64>,
    /// Elections after which some live member named another leader than the highest live
    /// member (or none).
    pub disagreements: u32,
}

impl ElectionReport {
    /// Mean messages per election.
    pub fn mean_messages(&self) -> f64 {
        self.messages.iter().sum::<u64>() as f64 / self.messages.len().max(1) as f64
    }
}

enum Event<M> {
    Deliver { to: Member, from: Member, msg: M },
    View { to: Member, view: View<Member> },
    Elect(Member),
    Start(Member),
}

/// Runs `make`'s election at every member under `cfg`. `make` builds a member that starts
/// elections on its own; with one chosen starter, the others are made
/// [`manual`](crate::election::Bully::manual) by `manual`.
pub fn run_elections<A, F, G>(cfg: &ElectionConfig, make: F, manual: G) -> ElectionReport
where
    A: ElectionAlgorithm<Member>,
    F: Fn(Member, View<Member>) -> A,
    G: Fn(A) -> A,
{
    let mut schedule: Schedule<Event<A::Msg>> = Schedule::new(cfg.seed);
    let first = View::new(1, 0..cfg.members);
    let mut seats: BTreeMap<Member, A> = (0..cfg.members)
        .map(|p| {
            let a = make(p, first.clone());
            let a = if cfg.starters == Starters::All {
                a
            } else {
                manual(a)
            };
            (p, a)
        })
        .collect();
    let mut report = ElectionReport::default();
    let mut epoch = 1;
    for round in 0..cfg.rounds {
        let Some(&leader) = seats.keys().next_back() else {
            break;
        };
        if seats.len() < 2 {
            break;
        }
        seats.remove(&leader);
        epoch += 1;
        let joiner = cfg.joins.then_some(cfg.members + round);
        let view = View::new(epoch, seats.keys().copied().chain(joiner));
        let start = schedule.now();
        if let Some(j) = joiner {
            let a = make(j, view.clone());
            seats.insert(
                j,
                if cfg.starters == Starters::All {
                    a
                } else {
                    manual(a)
                },
            );
            schedule.at(Duration::ZERO, Event::Start(j));
        }
        for p in view.members().to_vec() {
            let d = schedule.pick((Duration::ZERO, cfg.view_delay));
            schedule.at(
                d,
                Event::View {
                    to: p,
                    view: view.clone(),
                },
            );
        }
        let starter = match cfg.starters {
            Starters::All => None,
            Starters::Highest => view.highest(),
            Starters::Lowest => view.lowest(),
        };
        if let Some(s) = starter {
            // Once every member has the view, so messages go round the live ring.
            schedule.at(cfg.view_delay, Event::Elect(s));
        }
        let mut messages = 0;
        let mut last = start;
        while let Some(event) = schedule.pop(Duration::MAX) {
            let mut out = Vec::new();
            let at = match event {
                Event::Deliver { to, from, msg } => {
                    let Some(a) = seats.get_mut(&to) else {
                        continue;
                    };
                    a.on_message(from, msg, &mut out);
                    to
                }
                Event::View { to, view } => {
                    let Some(a) = seats.get_mut(&to) else {
                        continue;
                    };
                    a.on_view(view, &mut out);
                    to
                }
                Event::Elect(p) => {
                    let Some(a) = seats.get_mut(&p) else { continue };
                    a.elect(&mut out);
                    p
                }
                Event::Start(p) => {
                    let Some(a) = seats.get_mut(&p) else { continue };
                    a.start(&mut out);
                    p
                }
            };
            for action in out {
                if let ElectionAction::Send { to, msg } = action {
                    messages += 1;
                    last = schedule.now();
                    let d = schedule.pick(cfg.delay);
                    schedule.at(d, Event::Deliver { to, from: at, msg });
                }
            }
        }
        let highest = view.highest();
        if seats.values().any(|a| a.leader() != highest) {
            report.disagreements += 1;
        }
        report.elections += 1;
        report.messages.push(messages);
        report
            .duration_ms
            .push((last - start).as_secs_f64() * 1000.0);
    }
    report
}
