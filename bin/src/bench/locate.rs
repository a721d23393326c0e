//! `p2p bench locate`: Tapestry's object location before and after a mass crash.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dht_tapestry::Tapestry;
use overlay::Key;
use overlay::sim::Simulator;
use rand::RngExt;
use serde::Serialize;

use crate::bench::build::{build, simulator};
use crate::bench::progress::bar;
use crate::cli::LocateArgs;
use crate::overlays::tapestry_config;
use crate::rss;

/// Simulated time given to a batch of walks to finish (timeouts included).
const WALK_TIME: Duration = Duration::from_secs(60);
/// Walks started between two stretches of simulated time.
const BATCH: usize = 1000;

/// One line of the benchmark: one network size.
#[derive(Clone, Debug, Serialize)]
pub struct LocateRow {
    /// Always `locate`.
    pub bench: &'static str,
    /// Always `tapestry`.
    pub overlay: &'static str,
    /// Network size before the crash.
    pub nodes: usize,
    /// Simulation seed.
    pub seed: u64,
    /// `protocol` or `oracle`.
    pub build: &'static str,
    /// Fraction of nodes with converged tables after building.
    pub converged: f64,
    /// Objects published.
    pub objects: usize,
    /// Roots per object.
    pub salts: u8,
    /// Backups per neighbour-map entry.
    pub backups: usize,
    /// Objects located (the pointer named their server) before the crash, over all.
    pub located: f64,
    /// Mean nodes asked per successful locate before the crash.
    pub mean_hops: f64,
    /// Fraction of nodes crashed at once.
    pub crash: f64,
    /// Objects whose server survived the crash (the ones still locatable).
    pub live_objects: usize,
    /// Of those, located right after the crash, before any maintenance.
    pub located_at_crash: f64,
    /// Simulated seconds of maintenance after the crash.
    pub settle_s: f64,
    /// Of those, located after the maintenance.
    pub located_after_repair: f64,
    /// Mean nodes asked per successful locate after the maintenance.
    pub mean_hops_after_repair: f64,
    /// Messages sent in the whole run.
    pub messages: u64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Peak resident memory, in MiB.
    pub peak_rss_mb: Option<f64>,
}

fn object_of(i: usize) -> Key {
    Key::hash(format!("bench-object-{i}"))
}

/// Publishes object `i` from `servers[i]`, in batches, letting the walks finish.
fn publish_all(sim: &mut Simulator<Tapestry<u32>>, servers: &[u32], quiet: bool) {
    let pb = bar(servers.len() as u64, "publishing", quiet);
    for (i, &server) in servers.iter().enumerate() {
        sim.with_node(server, |node, ctx| {
            node.call_routing(ctx, |r, out| r.publish(out, object_of(i)))
        });
        if (i + 1) % BATCH == 0 || i + 1 == servers.len() {
            let until = sim.now() + WALK_TIME;
            sim.run_until(until);
            sim.events.clear();
            pb.set_position(i as u64 + 1);
        }
    }
    pb.finish_and_clear();
}

/// Locates each of `objects` from a random live node; returns the fraction whose answer
/// names the object's server, and the mean hops of those.
fn locate_all(
    sim: &mut Simulator<Tapestry<u32>>,
    objects: &[usize],
    servers: &[u32],
    what: &str,
    quiet: bool,
) -> (f64, f64) {
    let pb = bar(objects.len() as u64, what, quiet);
    let mut clients = BTreeSet::new();
    let (mut found, mut hops) = (0usize, 0u64);
    let mut collect = |sim: &mut Simulator<Tapestry<u32>>, clients: &mut BTreeSet<u32>| {
        for c in std::mem::take(clients) {
            if sim.node(c).is_none() {
                continue;
            }
            let done = sim.with_node(c, |node, ctx| {
                node.call_routing(ctx, |r, _| r.take_located())
            });
            for l in done {
                let server = sim.contact(servers[l.tag as usize]).id;
                if l.servers.iter().any(|s| s.id == server) {
                    found += 1;
                    hops += u64::from(l.hops);
                }
            }
        }
    };
    for (n, &i) in objects.iter().enumerate() {
        let Some(client) = sim.random_joined() else {
            break;
        };
        sim.with_node(client, |node, ctx| {
            node.call_routing(ctx, |r, out| r.locate(out, object_of(i), i as u64))
        });
        clients.insert(client);
        if (n + 1) % BATCH == 0 || n + 1 == objects.len() {
            let until = sim.now() + WALK_TIME;
            sim.run_until(until);
            sim.events.clear();
            collect(sim, &mut clients);
            pb.set_position(n as u64 + 1);
        }
    }
    pb.finish_and_clear();
    let rate = found as f64 / objects.len().max(1) as f64;
    (rate, hops as f64 / found.max(1) as f64)
}

/// Runs the benchmark on `n` nodes.
pub fn run(args: &LocateArgs, n: usize) -> LocateRow {
    let started = Instant::now();
    rss::reset_peak();
    let common = &args.common;
    let mut config = tapestry_config(&common.routing, Duration::from_secs_f64(common.maintenance));
    config.salts = args.salts;
    let mut sim = simulator::<Tapestry<u32>>(&config, common, 1);
    let converged = build(&mut sim, n, common);

    let servers: Vec<u32> = (0..args.objects)
        .map(|_| sim.random_joined().expect("the network has nodes"))
        .collect();
    publish_all(&mut sim, &servers, common.quiet);
    let all: Vec<usize> = (0..args.objects).collect();
    let (located, mean_hops) = locate_all(&mut sim, &all, &servers, "locating", common.quiet);

    let mut victims = sim.live().to_vec();
    let count = ((victims.len() as f64 * args.crash).round() as usize).min(victims.len() - 1);
    for i in 0..count {
        let j = sim.rng().random_range(i..victims.len());
        victims.swap(i, j);
    }
    for v in &victims[..count] {
        sim.crash(*v);
    }
    let live: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| sim.node(servers[i]).is_some())
        .collect();
    let (at_crash, _) = locate_all(&mut sim, &live, &servers, "locating at crash", common.quiet);
    let until = sim.now() + Duration::from_secs_f64(args.settle);
    sim.run_until(until);
    sim.events.clear();
    let (after, hops_after) = locate_all(
        &mut sim,
        &live,
        &servers,
        "locating after repair",
        common.quiet,
    );

    LocateRow {
        bench: "locate",
        overlay: <Tapestry<u32> as overlay::Routing>::NAME,
        nodes: n,
        seed: common.seed,
        build: common.build.name(),
        converged,
        objects: args.objects,
        salts: args.salts,
        backups: config.backups,
        located,
        mean_hops,
        crash: args.crash,
        live_objects: live.len(),
        located_at_crash: at_crash,
        settle_s: args.settle,
        located_after_repair: after,
        mean_hops_after_repair: hops_after,
        messages: sim.messages(),
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_mb: rss::peak_mb(),
    }
}

/// Prints rows as a table.
pub fn print_table(rows: &[LocateRow]) {
    let headers = [
        "overlay",
        "nodes",
        "objects",
        "salts",
        "located %",
        "hops",
        "crash",
        "live objects",
        "at crash %",
        "after repair %",
        "hops after",
        "wall s",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.overlay.to_string(),
                r.nodes.to_string(),
                r.objects.to_string(),
                r.salts.to_string(),
                format!("{:.2}", 100.0 * r.located),
                format!("{:.2}", r.mean_hops),
                format!("{}", r.crash),
                r.live_objects.to_string(),
                format!("{:.2}", 100.0 * r.located_at_crash),
                format!("{:.2}", 100.0 * r.located_after_repair),
                format!("{:.2}", r.mean_hops_after_repair),
                format!("{:.1}", r.wall_s),
            ]
        })
        .collect();
    crate::bench::table::print(&headers, &cells);
}
