//! `p2p bench churn --grow RATE`: the overlay grows from one node by a fixed fraction of its
//! size per maintenance round while keys are written and read back, then maintenance runs
//! until every node's tables are the converged ones.

use std::time::Duration;

use overlay::sim::{SimRouting, Simulator};
use overlay::{Command, DhtCommand, DhtEvent};
use rand::RngExt;

use crate::bench::churn::{FIRST_GET_OP, Gets, key_of, value_of};
use crate::bench::progress::bar;
use crate::cli::ChurnArgs;

/// Maintenance rounds after the last join within which the tables must converge; a run
/// that has not converged by then reports the fraction that had.
const MAX_ROUNDS: u32 = 100;

/// What a growth run measured beyond the gets.
pub struct Growth {
    /// Indices of the keys whose put was acknowledged.
    pub acknowledged: Vec<usize>,
    /// Puts that answered with an error.
    pub put_failures: usize,
    /// Maintenance rounds from the last join until every node's tables had converged, if
    /// they did within [`MAX_ROUNDS`].
    pub converge_rounds: Option<u32>,
    /// Fraction of nodes whose tables had converged when the run stopped waiting.
    pub converged_fraction: f64,
}

/// Grows `sim` (which must be empty) to `args.nodes` nodes, each joining through a random
/// joined node, at `rate` times the current size per maintenance round. `args.keys` puts
/// and `args.lookups` gets are spread evenly over the joins, both through random joined
/// nodes; each get reads a random key whose put was already acknowledged, and is scored in
/// `gets`.
pub fn grow_while_reading<R: SimRouting>(
    sim: &mut Simulator<R>,
    args: &ChurnArgs,
    rate: f64,
    gets: &mut Gets,
) -> Growth {
    let n = args.nodes;
    let round = Duration::from_secs_f64(args.common.maintenance);
    let mut growth = Growth {
        acknowledged: Vec::new(),
        put_failures: 0,
        converge_rounds: None,
        converged_fraction: 0.0,
    };
    let mut puts = 0usize;
    let mut get_op = FIRST_GET_OP;
    let pb = bar(
        n as u64,
        "joins while writing and reading",
        args.common.quiet,
    );
    sim.grow(n, round, rate, |sim, size| {
        score(sim, gets, &mut growth);
        while puts < args.keys * size / n {
            if let Some(from) = sim.random_joined() {
                let put = DhtCommand::Put {
                    op: puts as u64,
                    key: key_of(puts),
                    value: value_of(puts),
                };
                sim.command(from, Command::app(put));
            }
            puts += 1;
        }
        while gets.issued < args.lookups * size / n && !growth.acknowledged.is_empty() {
            let i = growth.acknowledged[sim.rng().random_range(0..growth.acknowledged.len())];
            get_op += 1;
            gets.issue(sim, get_op, i, true);
        }
        if size % 256 == 0 || size == n {
            pb.set_position(size as u64);
        }
    });
    pb.finish_and_clear();

    let pb = bar(100, "converging", args.common.quiet);
    pb.set_message("% of nodes with converged tables");
    for rounds in 0..=MAX_ROUNDS {
        growth.converged_fraction = sim.converged_fraction();
        pb.set_position((growth.converged_fraction * 100.0) as u64);
        if growth.converged_fraction >= 1.0 {
            growth.converge_rounds = Some(rounds);
            break;
        }
        if rounds == MAX_ROUNDS {
            break;
        }
        let next = sim.now() + round;
        sim.run_until(next);
        score(sim, gets, &mut growth);
    }
    pb.finish_and_clear();
    growth
}

/// Scores the finished puts and gets among `sim.events`.
fn score<R: SimRouting>(sim: &mut Simulator<R>, gets: &mut Gets, growth: &mut Growth) {
    for e in sim.events.drain(..) {
        match e.event.app() {
            Some(DhtEvent::PutDone { op, result, .. }) if *op < FIRST_GET_OP => match result {
                Ok(_) => growth.acknowledged.push(*op as usize),
                Err(_) => growth.put_failures += 1,
            },
            Some(event) => gets.score(event),
            None => {}
        }
    }
}
