//! `p2p bench net`: real nodes of each overlay on loopback, lookups and put→get measured
//! end to end, with libp2p's own Kademlia measured the same way beside them.

use std::time::{Duration, Instant};

use anyhow::Result;
use libp2p::futures::StreamExt;
use libp2p::futures::stream;
use overlay::net::{NetConfig, PeerAddr};
use overlay::sim::SimRouting;
use overlay::{Key, LookupMode, Routing};
use rand::RngExt;
use serde::Serialize;

use crate::bench::kad::{self, KadNode};
use crate::bench::progress::bar;
use crate::bench::rows::print_beside_baseline;
use crate::bench::stats::{mean, percentile};
use crate::bench::table::{self, opt};
use crate::cli::{NetArgs, NextHopsArg, OverlayArg, RoutingArgs};
use crate::daemon::{dht_config, node_config};
use crate::loopback::LoopbackNet;
use crate::overlays::{
    WithNetRouting, can_config, chord_config, pastry_config, tapestry_config, with_net_routing,
};

/// One line of `bench net`.
#[derive(Clone, Debug, Serialize)]
pub struct NetRow {
    /// Always `net`.
    pub bench: &'static str,
    /// The overlay (`chord`, `can d=2`, `libp2p-kad`).
    pub overlay: String,
    /// How its lookups travelled (`iterative`, `recursive`; `null` for Kademlia).
    pub mode: Option<&'static str>,
    /// Nodes.
    pub nodes: usize,
    /// Lookups made.
    pub lookups: usize,
    /// Lookups that found the key's root (Kademlia: found closest peers).
    pub lookups_ok: usize,
    /// Mean hops (`null` for Kademlia, whose parallel queries have no single path).
    pub hops_mean: Option<f64>,
    /// Median hops.
    pub hops_p50: Option<f64>,
    /// 99th percentile of hops.
    pub hops_p99: Option<f64>,
    /// The paper's expected mean hops at this size.
    pub theory_hops: Option<f64>,
    /// Mean lookup latency, milliseconds, as the caller sees it.
    pub latency_ms_mean: f64,
    /// Median latency.
    pub latency_ms_p50: f64,
    /// 99th percentile of latency.
    pub latency_ms_p99: f64,
    /// Messages (requests and responses) per lookup.
    pub messages_per_lookup: f64,
    /// Lookups completed per second with `concurrency` in flight.
    pub lookups_per_s: f64,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Values written, each then read through another random node.
    pub puts: usize,
    /// Fraction of those reads that returned the value written; on the row of the mode
    /// the DHT's own lookups used (the last one measured), `null` on the others.
    pub put_get_success: Option<f64>,
    /// This overlay's median latency over libp2p-kad's (≤ 1 is as fast or faster).
    pub p50_vs_kad: Option<f64>,
    /// Wall-clock seconds of the network that measured the row (shared by its modes).
    pub wall_s: f64,
}

/// What one network measured in one lookup mode, before it becomes a row.
struct Measured {
    mode: Option<LookupMode>,
    lookups: usize,
    ok: usize,
    hops: Vec<f64>,
    latency_ms: Vec<f64>,
    messages: f64,
    lookups_per_s: f64,
    put_get: Option<f64>,
}

fn row(args: &NetArgs, overlay: &str, theory: Option<f64>, m: Measured, wall: f64) -> NetRow {
    let mut hops = m.hops;
    hops.sort_by(f64::total_cmp);
    let mut lat = m.latency_ms;
    lat.sort_by(f64::total_cmp);
    let has_hops = !hops.is_empty();
    NetRow {
        bench: "net",
        overlay: overlay.to_string(),
        mode: m.mode.map(LookupMode::name),
        nodes: args.nodes,
        lookups: m.lookups,
        lookups_ok: m.ok,
        hops_mean: has_hops.then(|| mean(&hops)),
        hops_p50: has_hops.then(|| percentile(&hops, 0.5)),
        hops_p99: has_hops.then(|| percentile(&hops, 0.99)),
        theory_hops: theory,
        latency_ms_mean: mean(&lat),
        latency_ms_p50: percentile(&lat, 0.5),
        latency_ms_p99: percentile(&lat, 0.99),
        messages_per_lookup: m.messages,
        lookups_per_s: m.lookups_per_s,
        concurrency: args.concurrency,
        puts: args.keys,
        put_get_success: m.put_get,
        p50_vs_kad: None,
        wall_s: wall,
    }
}

/// Makes `count` lookups for random keys through `lookup` (given the lookup's index and
/// key), `args.concurrency` in flight, under a progress bar named `label`; returns their
/// results as they finished.
async fn run_lookups<T, F, Fut>(args: &NetArgs, count: usize, label: &str, lookup: F) -> Vec<T>
where
    F: Fn(usize, Key) -> Fut,
    Fut: Future<Output = T>,
{
    let pb = bar(count as u64, label, args.quiet);
    let results = stream::iter(random_keys(count).into_iter().enumerate())
        .map(|(i, key)| {
            let pb = pb.clone();
            let done = lookup(i, key);
            async move {
                let result = done.await;
                pb.inc(1);
                result
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    pb.finish_and_clear();
    results
}

fn random_keys(n: usize) -> Vec<Key> {
    (0..n).map(|_| Key::random(&mut rand::rng())).collect()
}

struct NetJob<'a> {
    args: &'a NetArgs,
    runtime: &'a tokio::runtime::Runtime,
}

impl WithNetRouting for NetJob<'_> {
    type Out = Result<Vec<Measured>>;

    fn run<R: Routing<Addr = PeerAddr>>(self, config: R::Config) -> Result<Vec<Measured>> {
        self.runtime
            .block_on(measure_overlay::<R>(self.args, config))
    }
}

/// One lookup that found a root: hops, latency in ms, messages.
type Found = (f64, f64, f64);
/// The lookups of one mode that found a root.
type Done = Vec<Found>;

async fn measure_overlay<R: Routing<Addr = PeerAddr>>(
    args: &NetArgs,
    config: R::Config,
) -> Result<Vec<Measured>> {
    let round = Duration::from_secs_f64(args.maintenance);
    let n = args.nodes;
    let modes: Vec<LookupMode> = args.lookup_mode.iter().map(|m| m.mode()).collect();
    let dht_mode = *modes.last().expect("clap requires a mode");
    let net = LoopbackNet::<R> {
        routing: config,
        node: node_config(dht_mode),
        dht: dht_config(args.replication, round),
        idle_timeout: NetConfig::<R::Config>::default().idle_timeout,
    };
    let nodes = net.start_nodes(n, args.quiet).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    // One closure for the warm-up and the measured lookups, so that they are made alike;
    // the modes take turns, so each meets the same network under the same load.
    let lookup = |i: usize, key: Key| {
        let node = nodes[rand::rng().random_range(0..n)].clone();
        let m = i % modes.len();
        let mode = modes[m];
        async move {
            let t = Instant::now();
            let r = node.lookup_with(key, Some(mode)).await.ok();
            let done = r.map(|r| {
                (
                    r.hops as f64,
                    t.elapsed().as_secs_f64() * 1e3,
                    r.messages as f64,
                )
            });
            (m, done)
        }
    };
    let warm_up = format!("{} warm-up", R::NAME);
    run_lookups(args, args.warmup, &warm_up, &lookup).await;
    let started = Instant::now();
    let label = format!("{} lookups", R::NAME);
    let results: Vec<(usize, Option<Found>)> =
        run_lookups(args, args.lookups, &label, &lookup).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut by_mode: Vec<(usize, Done)> = vec![(0, Vec::new()); modes.len()];
    for (m, done) in results {
        by_mode[m].0 += 1;
        by_mode[m].1.extend(done);
    }

    let mut read = 0;
    for key in random_keys(args.keys) {
        let value = key.as_bytes().to_vec();
        let writer = &nodes[rand::rng().random_range(0..n)];
        let reader = &nodes[rand::rng().random_range(0..n)];
        if writer.put(key, value.clone()).await.is_ok()
            && reader.get(key).await.ok().flatten() == Some(value)
        {
            read += 1;
        }
    }
    for node in nodes {
        let _ = tokio::time::timeout(Duration::from_secs(10), node.leave()).await;
    }
    let put_get = read as f64 / args.keys.max(1) as f64;
    let last = modes.len() - 1;
    Ok(by_mode
        .into_iter()
        .enumerate()
        .map(|(m, (lookups, done))| Measured {
            mode: Some(modes[m]),
            lookups,
            ok: done.len(),
            hops: done.iter().map(|d| d.0).collect(),
            latency_ms: done.iter().map(|d| d.1).collect(),
            messages: mean(&done.iter().map(|d| d.2).collect::<Vec<_>>()),
            // The modes shared the time: each one's rate is its share of the lookups.
            lookups_per_s: done.len() as f64 / elapsed,
            put_get: (m == last).then_some(put_get),
        })
        .collect())
}

async fn measure_kad(args: &NetArgs) -> Result<Measured> {
    let pb = bar(args.nodes as u64, "kad join", args.quiet);
    let nodes: Vec<KadNode> =
        kad::start_network(args.nodes, Duration::from_secs_f64(args.settle)).await?;
    pb.finish_and_clear();
    let n = nodes.len();
    let lookup = |_: usize, key: Key| {
        let node = nodes[rand::rng().random_range(0..n)].clone();
        async move {
            let t = Instant::now();
            let r = node.closest(key.as_bytes().to_vec()).await;
            r.filter(|r| r.ok).map(|r| {
                (
                    t.elapsed().as_secs_f64() * 1e3,
                    (r.requests + r.answered) as f64,
                )
            })
        }
    };
    run_lookups(args, args.warmup, "kad warm-up", &lookup).await;
    let started = Instant::now();
    let results: Vec<Option<(f64, f64)>> =
        run_lookups(args, args.lookups, "kad lookups", &lookup).await;
    let elapsed = started.elapsed().as_secs_f64();
    let done: Vec<(f64, f64)> = results.into_iter().flatten().collect();
    let mut read = 0;
    for key in random_keys(args.keys) {
        let value = key.as_bytes().to_vec();
        let writer = &nodes[rand::rng().random_range(0..n)];
        let reader = &nodes[rand::rng().random_range(0..n)];
        if writer.put(value.clone(), value.clone()).await
            && reader.get(value.clone()).await == Some(value)
        {
            read += 1;
        }
    }
    Ok(Measured {
        mode: None,
        lookups: args.lookups,
        ok: done.len(),
        hops: Vec::new(),
        latency_ms: done.iter().map(|d| d.0).collect(),
        messages: mean(&done.iter().map(|d| d.1).collect::<Vec<_>>()),
        lookups_per_s: done.len() as f64 / elapsed,
        put_get: Some(read as f64 / args.keys.max(1) as f64),
    })
}

/// The overlays `overlay` selects, each with the routing arguments it runs with (CAN once
/// per dimension).
pub fn selected(
    overlay: OverlayArg,
    routing: &RoutingArgs,
) -> Vec<(OverlayArg, RoutingArgs, String)> {
    let one = |o: OverlayArg, name: &str| (o, routing.clone(), name.to_string());
    let cans = routing.dimensions.iter().map(|&d| {
        let mut r = routing.clone();
        r.dimensions = vec![d];
        (OverlayArg::Can, r, format!("can d={d}"))
    });
    match overlay {
        OverlayArg::Chord => vec![one(OverlayArg::Chord, "chord")],
        OverlayArg::Pastry => vec![one(OverlayArg::Pastry, "pastry")],
        OverlayArg::Tapestry => vec![one(OverlayArg::Tapestry, "tapestry")],
        OverlayArg::Can => cans.collect(),
        OverlayArg::All => [
            one(OverlayArg::Chord, "chord"),
            one(OverlayArg::Pastry, "pastry"),
            one(OverlayArg::Tapestry, "tapestry"),
        ]
        .into_iter()
        .chain(cans)
        .collect(),
    }
}

/// The paper's mean hop count for `overlay` at `n` nodes.
fn theory(overlay: OverlayArg, routing: &RoutingArgs, round: Duration, n: usize) -> Option<f64> {
    use dht_can::Can;
    use dht_chord::Chord;
    use dht_pastry::Pastry;
    use dht_tapestry::Tapestry;
    Some(match overlay {
        OverlayArg::Chord => {
            Chord::<u32>::theory_hops(n, &chord_config(routing, round, NextHopsArg::Extended))
        }
        OverlayArg::Pastry => Pastry::<u32>::theory_hops(n, &pastry_config(routing, round)),
        OverlayArg::Tapestry => Tapestry::<u32>::theory_hops(n, &tapestry_config(routing, round)),
        OverlayArg::Can => Can::<u32>::theory_hops(
            n,
            &can_config(routing, round, routing.dimensions[0], NextHopsArg::Extended),
        ),
        OverlayArg::All => return None,
    })
}

/// Runs `bench net` and prints its rows.
pub fn run(args: &NetArgs) -> Result<()> {
    if args.churn.enabled {
        return crate::bench::net_churn::run(args);
    }
    let runtime = crate::loopback::runtime()?;
    let round = Duration::from_secs_f64(args.maintenance);
    let kad = match args.no_kad {
        true => None,
        false => {
            let started = Instant::now();
            let m = runtime.block_on(measure_kad(args))?;
            let wall = started.elapsed().as_secs_f64();
            Some(row(args, "libp2p-kad", None, m, wall))
        }
    };
    let measured = selected(args.overlay, &args.routing)
        .into_iter()
        .map(|(overlay, routing, label)| {
            let started = Instant::now();
            let job = NetJob {
                args,
                runtime: &runtime,
            };
            let by_mode = with_net_routing(overlay, &routing, round, job)??;
            let theory = theory(overlay, &routing, round, args.nodes);
            let wall = started.elapsed().as_secs_f64();
            Ok(by_mode
                .into_iter()
                .map(|m| row(args, &label, theory, m, wall))
                .collect::<Vec<_>>())
        })
        .flat_map(|rows: Result<Vec<NetRow>>| match rows {
            Ok(rows) => rows.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        });
    print_beside_baseline(
        args.json,
        kad,
        measured,
        |r, k| r.p50_vs_kad = Some(r.latency_ms_p50 / k.latency_ms_p50),
        print_table,
    )
}

fn print_table(rows: &[NetRow]) {
    let headers = [
        "overlay",
        "mode",
        "nodes",
        "lookups ok",
        "hops",
        "p50",
        "p99",
        "theory",
        "ms mean",
        "ms p50",
        "ms p99",
        "msgs/lookup",
        "lookups/s",
        "put→get %",
        "p50 vs kad",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.overlay.clone(),
                r.mode.unwrap_or("-").to_string(),
                r.nodes.to_string(),
                format!("{}/{}", r.lookups_ok, r.lookups),
                opt(r.hops_mean),
                opt(r.hops_p50),
                opt(r.hops_p99),
                opt(r.theory_hops),
                format!("{:.2}", r.latency_ms_mean),
                format!("{:.2}", r.latency_ms_p50),
                format!("{:.2}", r.latency_ms_p99),
                format!("{:.1}", r.messages_per_lookup),
                format!("{:.0}", r.lookups_per_s),
                r.put_get_success
                    .map_or("-".into(), |f| format!("{:.1}", 100.0 * f)),
                opt(r.p50_vs_kad),
            ]
        })
        .collect();
    table::print(&headers, &cells);
}
