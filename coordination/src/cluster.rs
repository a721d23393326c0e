//! A deterministic cluster that runs one mutual-exclusion algorithm at every member and
//! watches it: seeded random delays (so messages overtake each other), crashes and joins
//! whose new views reach each member late and at a different moment, and a checker that sees
//! every entry and exit. It measures what the textbooks count: messages per entry, the
//! synchronisation delay (from one exit to the next entry while someone waits), and whether
//! every request of a live member was granted.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::mutex::{Action, MutexAlgorithm};
use crate::schedule::Schedule;
use crate::view::View;

/// Member ids in the cluster.
pub type Member = u32;

/// What to run.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Members at the start.
    pub members: u32,
    /// Critical-section entries each member asks for, one after the other.
    pub requests: u32,
    /// One-way message delay, drawn uniformly from this range for every message.
    pub delay: (Duration, Duration),
    /// Time a member spends between leaving and asking again.
    pub think: (Duration, Duration),
    /// Time spent in the critical section.
    pub hold: (Duration, Duration),
    /// Members that crash, each at a random moment of the first part of the run.
    pub crashes: u32,
    /// Members that join during the run.
    pub joins: u32,
    /// Time from a crash or join to the new view reaching a member (each member its own,
    /// uniformly up to this).
    pub view_delay: Duration,
    /// The seed of every random choice.
    pub seed: u64,
    /// Simulated time after which the run stops with whatever is unfinished.
    pub limit: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            members: 8,
            requests: 20,
            delay: (Duration::from_millis(1), Duration::from_millis(20)),
            think: (Duration::from_millis(0), Duration::from_millis(200)),
            hold: (Duration::from_millis(1), Duration::from_millis(10)),
            crashes: 0,
            joins: 0,
            view_delay: Duration::from_millis(100),
            seed: 1,
            limit: Duration::from_secs(24 * 3600),
        }
    }
}

/// What a run found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClusterReport {
    /// Critical-section entries.
    pub entries: u64,
    /// Messages sent.
    pub messages: u64,
    /// Messages per entry.
    pub messages_per_entry: f64,
    /// Mean time from an exit to the next entry when a request was waiting, in ms.
    pub sync_delay_ms: f64,
    /// Mean time from a request to its entry, in ms.
    pub wait_ms: f64,
    /// Entries while another member was inside.
    pub safety_violations: u64,
    /// Requests of members alive at the end that were never granted.
    pub starved: u64,
    /// Simulated time the run took, in ms.
    pub duration_ms: f64,
}

#[derive(Debug)]
enum Event<M> {
    Deliver { to: Member, from: Member, msg: M },
    Request(Member),
    Release(Member),
    Crash(Member),
    Join(Member),
    View { to: Member, view: View<Member> },
}

/// One member's driver-side state.
#[derive(Debug)]
struct Seat<A> {
    algo: A,
    alive: bool,
    done: u32,
    asked_at: Option<Duration>,
}

struct Run<A: MutexAlgorithm<Member>> {
    cfg: ClusterConfig,
    schedule: Schedule<Event<A::Msg>>,
    seats: BTreeMap<Member, Seat<A>>,
    epoch: u64,
    inside: Option<Member>,
    last_exit: Option<Duration>,
    report: ClusterReport,
    sync_total: Duration,
    sync_count: u64,
    wait_total: Duration,
}

/// Runs `make`'s algorithm at every member under `cfg` and reports what happened.
pub fn run_cluster<A, F>(cfg: &ClusterConfig, make: F) -> ClusterReport
where
    A: MutexAlgorithm<Member>,
    F: Fn(Member, View<Member>) -> A,
{
    let mut run: Run<A> = Run {
        cfg: cfg.clone(),
        schedule: Schedule::new(cfg.seed),
        seats: BTreeMap::new(),
        epoch: 1,
        inside: None,
        last_exit: None,
        report: ClusterReport::default(),
        sync_total: Duration::ZERO,
        sync_count: 0,
        wait_total: Duration::ZERO,
    };
    run.start(&make);
    while !run.finished() {
        let Some(event) = run.schedule.pop(cfg.limit) else {
            break;
        };
        run.handle(event, &make);
    }
    run.finish()
}

impl<A: MutexAlgorithm<Member>> Run<A> {
    fn pick(&mut self, range: (Duration, Duration)) -> Duration {
        self.schedule.pick(range)
    }

    fn at(&mut self, after: Duration, event: Event<A::Msg>) {
        self.schedule.at(after, event);
    }

    fn view(&self) -> View<Member> {
        View::new(
            self.epoch,
            self.seats.iter().filter(|(_, s)| s.alive).map(|(p, _)| *p),
        )
    }

    fn start(&mut self, make: &impl Fn(Member, View<Member>) -> A) {
        let first = View::new(1, 0..self.cfg.members);
        for p in 0..self.cfg.members {
            let seat = Seat {
                algo: make(p, first.clone()),
                alive: true,
                done: 0,
                asked_at: None,
            };
            self.seats.insert(p, seat);
        }
        for p in 0..self.cfg.members {
            let mut out = Vec::new();
            self.seats.get_mut(&p).expect("seat").algo.start(&mut out);
            self.act(p, out);
            let think = self.pick(self.cfg.think);
            self.at(think, Event::Request(p));
        }
        // Crashes and joins fall in the first half of the time the requests should take.
        let span = self.expected_span() / 2;
        for _ in 0..self.cfg.crashes {
            let p = self.schedule.below(self.cfg.members);
            let when = self.pick((Duration::ZERO, span));
            self.at(when, Event::Crash(p));
        }
        for j in 0..self.cfg.joins {
            let when = self.pick((Duration::ZERO, span));
            self.at(when, Event::Join(self.cfg.members + j));
        }
    }

    /// A rough length of the run: every entry one after the other.
    fn expected_span(&self) -> Duration {
        let per = self.cfg.hold.1 + self.cfg.delay.1 * 2;
        per * self.cfg.members * self.cfg.requests
    }

    fn finished(&self) -> bool {
        self.seats
            .values()
            .all(|s| !s.alive || s.done >= self.cfg.requests)
    }

    fn act(&mut self, from: Member, out: Vec<Action<Member, A::Msg>>) {
        for a in out {
            match a {
                Action::Send { to, msg } => {
                    self.report.messages += 1;
                    let delay = self.pick(self.cfg.delay);
                    self.at(delay, Event::Deliver { to, from, msg });
                }
                Action::Enter => self.entered(from),
            }
        }
    }

    fn entered(&mut self, p: Member) {
        if self.inside.is_some_and(|q| q != p) {
            self.report.safety_violations += 1;
        }
        self.inside = Some(p);
        self.report.entries += 1;
        let seat = self.seats.get_mut(&p).expect("seat");
        if let Some(asked) = seat.asked_at.take() {
            let waited = self.schedule.now() - asked;
            self.wait_total += waited;
            // A synchronisation delay is only meaningful for a request that waited past
            // the previous exit.
            if let Some(exit) = self.last_exit.filter(|e| *e >= asked) {
                self.sync_total += self.schedule.now() - exit;
                self.sync_count += 1;
            }
        }
        let hold = self.pick(self.cfg.hold);
        self.at(hold, Event::Release(p));
    }

    fn with_algo(&mut self, p: Member, f: impl FnOnce(&mut A, &mut Vec<Action<Member, A::Msg>>)) {
        let Some(seat) = self.seats.get_mut(&p).filter(|s| s.alive) else {
            return;
        };
        let mut out = Vec::new();
        f(&mut seat.algo, &mut out);
        self.act(p, out);
    }

    fn membership_changed(&mut self) {
        self.epoch += 1;
        let view = self.view();
        for p in view.members().to_vec() {
            let delay = self.pick((Duration::ZERO, self.cfg.view_delay));
            self.at(
                delay,
                Event::View {
                    to: p,
                    view: view.clone(),
                },
            );
        }
    }

    fn handle(&mut self, event: Event<A::Msg>, make: &impl Fn(Member, View<Member>) -> A) {
        match event {
            Event::Deliver { to, from, msg } => {
                self.with_algo(to, |a, out| a.on_message(from, msg, out))
            }
            Event::Request(p) => {
                if let Some(seat) = self.seats.get_mut(&p).filter(|s| s.alive) {
                    seat.asked_at = Some(self.schedule.now());
                }
                self.with_algo(p, |a, out| a.request(out));
            }
            Event::Release(p) => {
                let Some(seat) = self.seats.get_mut(&p).filter(|s| s.alive) else {
                    return;
                };
                seat.done += 1;
                let more = seat.done < self.cfg.requests;
                if self.inside == Some(p) {
                    self.inside = None;
                }
                self.last_exit = Some(self.schedule.now());
                self.with_algo(p, |a, out| a.release(out));
                if more {
                    let think = self.pick(self.cfg.think);
                    self.at(think, Event::Request(p));
                }
            }
            Event::Crash(p) => {
                let Some(seat) = self.seats.get_mut(&p).filter(|s| s.alive) else {
                    return;
                };
                seat.alive = false;
                if self.inside == Some(p) {
                    self.inside = None;
                    self.last_exit = Some(self.schedule.now());
                }
                self.membership_changed();
            }
            Event::Join(p) => {
                let view = View::new(
                    self.epoch + 1,
                    self.view().members().iter().copied().chain([p]),
                );
                let seat = Seat {
                    algo: make(p, view),
                    alive: true,
                    done: 0,
                    asked_at: None,
                };
                self.seats.insert(p, seat);
                self.with_algo(p, |a, out| a.start(out));
                self.membership_changed();
                let think = self.pick(self.cfg.think);
                self.at(think, Event::Request(p));
            }
            Event::View { to, view } => self.with_algo(to, |a, out| a.on_view(view, out)),
        }
    }

    fn finish(mut self) -> ClusterReport {
        let r = &mut self.report;
        r.messages_per_entry = r.messages as f64 / r.entries.max(1) as f64;
        r.sync_delay_ms = ms(self.sync_total) / self.sync_count.max(1) as f64;
        r.wait_ms = ms(self.wait_total) / r.entries.max(1) as f64;
        r.starved = self
            .seats
            .values()
            .filter(|s| s.alive)
            .map(|s| u64::from(self.cfg.requests - s.done.min(self.cfg.requests)))
            .sum();
        r.duration_ms = ms(self.schedule.now());
        self.report
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
