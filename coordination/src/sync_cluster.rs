//! A seeded cluster for the clock synchronisation algorithms: every member has a hardware
//! clock with its own offset and drift rate ρ, disciplined by a [`SoftClock`] (never set
//! back); messages take random delays; the algorithm runs once per period. It measures each
//! estimate's true error against the bound the algorithm claims for it, and the clocks'
//! error over the second half of the run (from true time when there is a time server, from
//! each other for the Berkeley algorithm) against the bound the period and ρ allow.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::clock::soft::{HardwareClock, SoftClock};
use crate::cluster::Member;
use crate::schedule::Schedule;
use crate::sync::{ClockSync, SyncAction};
use crate::view::View;

/// What to run.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Members (member 0 is the time server where there is one, with a perfect clock).
    pub members: u32,
    /// Largest drift rate ρ of a hardware clock (each draws its own in ±ρ).
    pub drift: f64,
    /// Largest initial offset of a hardware clock from true time, in seconds.
    pub offset: f64,
    /// One-way message delay, drawn uniformly for every message.
    pub delay: (Duration, Duration),
    /// Time between two synchronisations.
    pub period: Duration,
    /// Length of the run.
    pub duration: Duration,
    /// Largest slew rate of a backward correction (500 ppm, as `adjtime`).
    pub slew_rate: f64,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            members: 8,
            drift: 1e-5,
            offset: 0.05,
            delay: (Duration::from_millis(1), Duration::from_millis(20)),
            period: Duration::from_secs(30),
            duration: Duration::from_secs(1200),
            slew_rate: 5e-4,
            seed: 1,
        }
    }
}

/// Which error a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Reference {
    /// Each clock against true time (a time server keeps it).
    External,
    /// The clocks against each other.
    Internal,
}

/// What a run found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncReport {
    /// Synchronisation rounds (periods).
    pub rounds: u32,
    /// Messages per round.
    pub messages_per_round: f64,
    /// Corrections applied.
    pub adjustments: u64,
    /// Largest true error of an estimate, in ms (external runs).
    pub estimate_error_max_ms: f64,
    /// Estimates whose true error exceeded the bound they claimed (external runs).
    pub estimate_bound_violations: u64,
    /// Largest error over the second half of the run, in ms.
    pub error_max_ms: f64,
    /// Mean error over the second half of the run, in ms.
    pub error_mean_ms: f64,
    /// The bound that error should keep within: the estimates' worst case plus what the
    /// clocks drift apart in a period (and while a correction is slewed), in ms.
    pub bound_ms: f64,
    /// Times a clock read less than it read before (must be 0).
    pub backward_steps: u64,
}

/// What each member asked for while handling one event.
type Outputs<M> = Vec<(Member, Vec<SyncAction<Member, M>>)>;

enum Event<M> {
    Deliver { to: Member, from: Member, msg: M },
    Sync,
    Sample,
}

/// Runs `make`'s algorithm at every member under `cfg`; `reference` says what the clocks
/// are measured against. `make` gets the member, the view and the least one-way delay.
pub fn run_sync<A, F>(cfg: &SyncConfig, reference: Reference, make: F) -> SyncReport
where
    A: ClockSync<Member>,
    F: Fn(Member, View<Member>, f64) -> A,
{
    let mut schedule: Schedule<Event<A::Msg>> = Schedule::new(cfg.seed);
    let view = View::new(1, 0..cfg.members);
    let d_min = cfg.delay.0.as_secs_f64();
    let d_max = cfg.delay.1.as_secs_f64();
    let mut clocks: BTreeMap<Member, SoftClock> = BTreeMap::new();
    let mut algos: BTreeMap<Member, A> = BTreeMap::new();
    for p in 0..cfg.members {
        let hardware = if reference == Reference::External && p == 0 {
            HardwareClock {
                offset: 0.0,
                drift: 0.0,
            }
        } else {
            HardwareClock {
                offset: uniform(&mut schedule, cfg.offset),
                drift: uniform(&mut schedule, cfg.drift),
            }
        };
        clocks.insert(p, SoftClock::new(hardware, cfg.slew_rate));
        algos.insert(p, make(p, view.clone(), d_min));
    }
    let mut last_read: BTreeMap<Member, f64> = BTreeMap::new();
    let mut report = SyncReport::default();
    let mut messages = 0u64;
    let (mut error_sum, mut error_count) = (0.0, 0u64);
    let end = cfg.duration;
    schedule.at(Duration::ZERO, Event::Sync);
    schedule.at(Duration::ZERO, Event::Sample);
    let mut read =
        |clocks: &mut BTreeMap<Member, SoftClock>, p: Member, t: f64, report: &mut SyncReport| {
            let c = clocks
                .get_mut(&p)
                .expect("every member has a clock")
                .read(t);
            if last_read.get(&p).is_some_and(|l| c < *l) {
                report.backward_steps += 1;
            }
            last_read.insert(p, c);
            c
        };
    while let Some(event) = schedule.pop(end) {
        let t = schedule.now().as_secs_f64();
        let mut outs: Outputs<A::Msg> = Vec::new();
        match event {
            Event::Sync => {
                report.rounds += 1;
                for p in 0..cfg.members {
                    let local = read(&mut clocks, p, t, &mut report);
                    let mut out = Vec::new();
                    algos.get_mut(&p).expect("algo").sync(local, &mut out);
                    outs.push((p, out));
                }
                // Only rounds that finish within the run, so each is counted whole.
                if schedule.now() + cfg.period + cfg.period / 2 <= end {
                    schedule.at(cfg.period, Event::Sync);
                }
            }
            Event::Deliver { to, from, msg } => {
                let local = read(&mut clocks, to, t, &mut report);
                let mut out = Vec::new();
                algos
                    .get_mut(&to)
                    .expect("algo")
                    .on_message(from, msg, local, &mut out);
                outs.push((to, out));
            }
            Event::Sample => {
                if t >= end.as_secs_f64() / 2.0 {
                    let readings: Vec<f64> = (0..cfg.members)
                        .map(|p| read(&mut clocks, p, t, &mut report))
                        .collect();
                    let error = match reference {
                        Reference::External => {
                            readings.iter().map(|c| (c - t).abs()).fold(0.0, f64::max)
                        }
                        Reference::Internal => {
                            let hi = readings.iter().copied().fold(f64::MIN, f64::max);
                            let lo = readings.iter().copied().fold(f64::MAX, f64::min);
                            hi - lo
                        }
                    };
                    report.error_max_ms = report.error_max_ms.max(error * 1000.0);
                    error_sum += error * 1000.0;
                    error_count += 1;
                }
                schedule.at(cfg.period / 20, Event::Sample);
            }
        }
        for (p, out) in outs {
            for action in out {
                match action {
                    SyncAction::Send { to, msg } => {
                        messages += 1;
                        let d = schedule.pick(cfg.delay);
                        schedule.at(d, Event::Deliver { to, from: p, msg });
                    }
                    SyncAction::Adjust { by, bound } => {
                        report.adjustments += 1;
                        if reference == Reference::External {
                            let local = read(&mut clocks, p, t, &mut report);
                            let error = (local + by - t).abs();
                            report.estimate_error_max_ms =
                                report.estimate_error_max_ms.max(error * 1000.0);
                            // The clocks drift during the round trip the bound was taken on.
                            if error > bound + 4.0 * cfg.drift * d_max + 1e-9 {
                                report.estimate_bound_violations += 1;
                            }
                        }
                        clocks.get_mut(&p).expect("clock").adjust(t, by);
                    }
                }
            }
        }
    }
    report.messages_per_round = messages as f64 / f64::from(report.rounds.max(1));
    report.error_mean_ms = error_sum / error_count.max(1) as f64;
    // One estimate is off by up to d_max − d_min; a period of drift and the slew of a
    // correction of that size come on top; internal error counts two clocks.
    let estimate = d_max - d_min;
    let period = cfg.period.as_secs_f64();
    let slew = (estimate + 2.0 * cfg.drift * period) / cfg.slew_rate;
    let one = estimate + cfg.drift * (period + slew);
    let bound = match reference {
        Reference::External => one,
        Reference::Internal => 2.0 * one,
    };
    report.bound_ms = bound * 1000.0;
    report
}

/// A number drawn uniformly from `[-max, max]`.
fn uniform<E>(schedule: &mut Schedule<E>, max: f64) -> f64 {
    const STEPS: u32 = 1 << 30;
    (f64::from(schedule.below(STEPS)) / f64::from(STEPS) * 2.0 - 1.0) * max
}
