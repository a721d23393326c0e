//! The conformance suite every routing algorithm must pass, run in the simulator.
//!
//! Each check builds its own overlay from a seed, so a failure is reproducible. An
//! algorithm's crate calls them from its tests:
//!
//! ```ignore
//! #[test]
//! fn lookups_reach_the_root() {
//!     overlay::conformance::lookups_reach_the_root::<Chord<u32>>(&ChordConfig::default());
//! }
//! ```

pub mod fuzz;
pub mod kbr;
pub mod probe;
pub mod reads;
pub mod recursive;
pub mod scratch;
pub mod sets;
pub mod versions;

use std::time::Duration;

use rand::RngExt;

use crate::apps::AppSet;

use crate::Key;
use crate::apps::Layer;
use crate::dht::{DhtCommand, DhtEvent, DhtMsg};
use crate::io::{Command, Event};
use crate::sim::{LookupStats, SimConfig, SimRouting, Simulator};
use crate::time::Time;
use crate::wire::{Request, Wire};

/// Network size the checks use.
pub const NODES: usize = 64;
/// One node in this many crashes at once in the mass-crash check.
const CRASHED_PART: usize = 4;
const OP_TIMEOUT: Duration = Duration::from_secs(120);

/// The live nodes of `sim` in an order drawn from its seeded RNG (a Fisher–Yates shuffle),
/// so that a prefix of them is a random set to crash.
pub fn live_in_random_order<R: SimRouting, S: AppSet<u32>>(sim: &mut Simulator<R, S>) -> Vec<u32> {
    let mut nodes = sim.live().to_vec();
    for i in (1..nodes.len()).rev() {
        let j = sim.rng().random_range(0..=i);
        nodes.swap(i, j);
    }
    nodes
}

/// An overlay of `n` nodes with the DHT grown by real joins, then maintained until
/// converged.
pub fn grown<R: SimRouting>(config: &R::Config, n: usize, seed: u64) -> Simulator<R> {
    grown_with(config, n, seed)
}

/// An overlay of `n` nodes hosting applications `S`, grown by real joins, then maintained
/// until converged.
pub fn grown_with<R: SimRouting, S: AppSet<u32> + Default>(
    config: &R::Config,
    n: usize,
    seed: u64,
) -> Simulator<R, S> {
    grown_in(config, SimConfig::default(), n, seed)
}

/// [`grown_with`] in a simulator configured by `sim_cfg`.
pub fn grown_in<R: SimRouting, S: AppSet<u32> + Default>(
    config: &R::Config,
    sim_cfg: SimConfig,
    n: usize,
    seed: u64,
) -> Simulator<R, S> {
    let mut sim = Simulator::<R, S>::new(config.clone(), sim_cfg, seed);
    sim.grow(n, Duration::from_secs(30), 0.1, |_, _| {});
    let fraction = sim.settle(Duration::from_secs(3600), Duration::from_secs(30));
    assert_eq!(
        fraction,
        1.0,
        "{}: only {:.1}% of {n} nodes converged",
        R::NAME,
        fraction * 100.0
    );
    sim
}

/// Runs the DHT command `cmd` (tagged `op`) at node `from` until its answer arrives.
pub fn dht<R: SimRouting>(
    sim: &mut Simulator<R>,
    from: u32,
    op: u64,
    cmd: DhtCommand,
) -> Option<DhtEvent> {
    let done = |e: &Event<u32, _>| {
        matches!(
            e.app(),
            Some(
                DhtEvent::PutDone { op: o, .. }
                    | DhtEvent::GetDone { op: o, .. }
                    | DhtEvent::AnnounceDone { op: o, .. }
                    | DhtEvent::MembersDone { op: o, .. }
            ) if *o == op
        )
    };
    sim.execute(from, Command::app(cmd), done, OP_TIMEOUT)
        .and_then(|e| e.app().cloned())
}

pub(crate) fn put<R: SimRouting>(
    sim: &mut Simulator<R>,
    from: u32,
    op: u64,
    key: Key,
    value: Vec<u8>,
) {
    let done = dht(sim, from, op, DhtCommand::Put { op, key, value });
    assert!(
        matches!(done, Some(DhtEvent::PutDone { result: Ok(()), .. })),
        "{}: put {key:?} from node {from} gave {done:?}",
        R::NAME
    );
}

pub(crate) fn get<R: SimRouting>(
    sim: &mut Simulator<R>,
    from: u32,
    op: u64,
    key: Key,
) -> Option<Vec<u8>> {
    match dht(sim, from, op, DhtCommand::Get { op, key }) {
        Some(DhtEvent::GetDone { result: Ok(v), .. }) => v,
        other => panic!("{}: get {key:?} from node {from} gave {other:?}", R::NAME),
    }
}

/// `count` lookups for random keys from random joined nodes (ops `0..count`), then
/// `run_for` of simulated time for them to finish.
fn random_lookups<R: SimRouting>(sim: &mut Simulator<R>, count: u64, run_for: Duration) {
    for op in 0..count {
        let from = sim.random_joined().expect("nodes");
        let key = Key::random(sim.rng());
        sim.command(from, Command::lookup(op, key));
    }
    let until = sim.now() + run_for;
    sim.run_until(until);
}

/// Lookups from every node for random keys all reach the key's true root.
pub fn lookups_reach_the_root<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 11);
    let nodes = sim.live().to_vec();
    let mut op = 0;
    for &from in &nodes {
        for _ in 0..8 {
            op += 1;
            let key = Key::random(sim.rng());
            sim.command(from, Command::lookup(op, key));
        }
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let s = &sim.lookup_stats;
    assert_eq!(
        s.succeeded(),
        (nodes.len() * 8) as u64,
        "{}: lookups did not all finish: {s:?}",
        R::NAME
    );
    assert_eq!(s.wrong, 0, "{}: wrong roots", R::NAME);
    assert_eq!(s.failed, 0, "{}: failed lookups", R::NAME);
}

/// The oracle's tables are the converged state the protocol's own check expects, and
/// lookups over them reach the true root.
pub fn oracle_build_is_converged<R: SimRouting>(config: &R::Config) {
    let mut sim = Simulator::<R>::new(config.clone(), SimConfig::default(), 5);
    sim.build_oracle(2000);
    assert_eq!(
        sim.converged_fraction(),
        1.0,
        "{}: the oracle's tables are not the converged ones",
        R::NAME
    );
    random_lookups(&mut sim, 2000, Duration::from_secs(60));
    let s = &sim.lookup_stats;
    assert_eq!(
        s.succeeded(),
        2000,
        "{}: lookups did not all finish: {s:?}",
        R::NAME
    );
    assert_eq!(s.wrong, 0, "{}: wrong roots over oracle tables", R::NAME);
}

/// A value put from any node is read back from every node.
pub fn put_get_from_any_node<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 12);
    let nodes = sim.live().to_vec();
    let mut op = 0;
    for (i, &from) in nodes.iter().enumerate().take(16) {
        op += 1;
        put(
            &mut sim,
            from,
            op,
            Key::hash(format!("key-{i}")),
            format!("value-{i}").into_bytes(),
        );
    }
    for &from in &nodes {
        for i in 0..16 {
            op += 1;
            let got = get(&mut sim, from, op, Key::hash(format!("key-{i}")));
            assert_eq!(
                got,
                Some(format!("value-{i}").into_bytes()),
                "{}: get from {from}",
                R::NAME
            );
        }
    }
    op += 1;
    let first = nodes[0];
    let removed = dht(
        &mut sim,
        first,
        op,
        DhtCommand::Remove {
            op,
            key: Key::hash("key-0"),
        },
    );
    assert!(
        matches!(removed, Some(DhtEvent::PutDone { result: Ok(()), .. })),
        "{}: remove gave {removed:?}",
        R::NAME
    );
    op += 1;
    assert_eq!(
        get(&mut sim, nodes[nodes.len() - 1], op, Key::hash("key-0")),
        None,
        "{}: removed key still readable",
        R::NAME
    );
}

/// Half the nodes leave gracefully, one after another; no key is lost.
pub fn graceful_leave_loses_no_key<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 13);
    let nodes = sim.live().to_vec();
    let keys: Vec<Key> = (0..200).map(|i| Key::hash(format!("leave-{i}"))).collect();
    let mut op = 0;
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        put(&mut sim, nodes[i % nodes.len()], op, *k, vec![i as u8]);
    }
    for &addr in nodes.iter().take(NODES / 2) {
        sim.leave(addr);
        let until = sim.now() + Duration::from_secs(10);
        sim.run_until(until);
        assert!(
            sim.node(addr).is_none(),
            "{}: node {addr} did not finish leaving",
            R::NAME
        );
    }
    let until = sim.now() + Duration::from_secs(120);
    sim.run_until(until);
    let survivor = sim.live()[0];
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        assert_eq!(
            get(&mut sim, survivor, op, *k),
            Some(vec![i as u8]),
            "{}: key {i} lost after leaves",
            R::NAME
        );
    }
}

/// A quarter of the nodes crash at once; after maintenance, every key that still has a
/// live replica is found, and lookups are correct again.
pub fn crash_then_repair_keeps_surviving_keys<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 14);
    let nodes = sim.live().to_vec();
    let keys: Vec<Key> = (0..300).map(|i| Key::hash(format!("crash-{i}"))).collect();
    let mut op = 0;
    for (i, k) in keys.iter().enumerate() {
        op += 1;
        put(
            &mut sim,
            nodes[i % nodes.len()],
            op,
            *k,
            vec![(i % 251) as u8],
        );
    }
    let mut victims = live_in_random_order(&mut sim);
    victims.truncate(NODES / 4);
    let held_by = |sim: &Simulator<R>, k: &Key| {
        sim.live().iter().any(|a| {
            sim.node(*a)
                .is_some_and(|n| n.apps().0.store().get(k).is_some())
        })
    };
    for v in &victims {
        sim.crash(*v);
    }
    let surviving: Vec<usize> = (0..keys.len())
        .filter(|i| held_by(&sim, &keys[*i]))
        .collect();
    let until = sim.now() + Duration::from_secs(600);
    sim.run_until(until);
    let from = sim.live()[0];
    for &i in &surviving {
        op += 1;
        assert_eq!(
            get(&mut sim, from, op, keys[i]),
            Some(vec![(i % 251) as u8]),
            "{}: surviving key {i} not found",
            R::NAME
        );
    }
    sim.lookup_stats = Default::default();
    for _ in 0..200 {
        op += 1;
        let from = sim.random_joined().expect("live nodes remain");
        let key = Key::random(sim.rng());
        sim.command(from, Command::lookup(op, key));
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    assert_eq!(
        sim.lookup_stats.wrong,
        0,
        "{}: wrong roots after repair",
        R::NAME
    );
    assert_eq!(
        sim.lookup_stats.failed,
        0,
        "{}: failed lookups after repair",
        R::NAME
    );
}

/// Lookups started the moment a quarter of the nodes crash, before any repair, all end
/// at a node (their answers may name a root that is gone: tables still list it): where
/// the candidates a node names for a key are all dead, the lookup asks that node again
/// naming them, or its own tables, which have dropped each node that failed to answer.
/// Overlays where a key can have no live node to answer until repair (CAN's zones) are
/// not held to it.
pub fn lookups_right_after_a_mass_crash_route_around_it<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, NODES, 15);
    let mut victims = live_in_random_order(&mut sim);
    victims.truncate(NODES / CRASHED_PART);
    for v in &victims {
        sim.crash(*v);
    }
    sim.lookup_stats = Default::default();
    random_lookups(&mut sim, 200, Duration::from_secs(60));
    let s = &sim.lookup_stats;
    assert_eq!(s.failed, 0, "{}: failed lookups: {s:?}", R::NAME);
    assert_eq!(s.succeeded(), 200, "{}: lookups unfinished: {s:?}", R::NAME);
}

/// Garbage, truncated and oversized messages and unsolicited responses are rejected with
/// an error and leave the node's state exactly as it was.
pub fn bad_input_changes_nothing<R: SimRouting>(config: &R::Config) {
    let mut sim = grown::<R>(config, 8, 15);
    let addr = sim.live()[0];
    let peer = sim.contact(sim.live()[1]).clone();
    let before = format!("{:?}", sim.node(addr).expect("live"));
    let good = Wire::<u32, R::Msg, Layer<DhtMsg, crate::Nothing>>::Request {
        id: 7,
        body: Request::FindNext {
            key: Key::hash("x"),
            avoid: Vec::new(),
        },
    }
    .encode();
    let oversized = vec![
        0u8;
        sim.node(addr)
            .expect("live")
            .config()
            .limits
            .max_message_bytes
            + 1
    ];
    let forged = Wire::<u32, R::Msg, Layer<DhtMsg, crate::Nothing>>::Response {
        id: 999_999,
        body: crate::wire::Response::Ack,
    }
    .encode();
    let too_long = Wire::<u32, R::Msg, Layer<DhtMsg, crate::Nothing>>::Request {
        id: 8,
        body: Request::App(Layer::Head(DhtMsg::Offer {
            entries: vec![(Key::ZERO, crate::Version::new(Time::ZERO, Key::ZERO)); 5000],
        })),
    }
    .encode();
    let avoid_too_long = Wire::<u32, R::Msg, Layer<DhtMsg, crate::Nothing>>::Request {
        id: 9,
        body: Request::Route {
            key: Key::hash("x"),
            origin: peer.clone(),
            hops: 1,
            root: false,
            msg: Layer::Head(DhtMsg::Offer {
                entries: Vec::new(),
            }),
            avoid: vec![Key::ZERO; 5000],
        },
    }
    .encode();
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\xff\x00garbage\x13".to_vec()),
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("oversized", oversized),
        ("unsolicited response", forged),
        ("list over the limit", too_long),
        ("routed with failed hops over the limit", avoid_too_long),
    ];
    for (what, bytes) in inputs {
        let result = sim.with_node(addr, |node, ctx| {
            node.handle_bytes(ctx, peer.clone(), &bytes)
        });
        assert!(result.is_err(), "{}: {what} was accepted", R::NAME);
        let after = format!("{:?}", sim.node(addr).expect("live"));
        assert_eq!(
            before,
            after,
            "{}: {what} changed the node's state",
            R::NAME
        );
    }
    // The node still serves well-formed requests.
    let ok = sim.with_node(addr, |node, ctx| {
        node.handle_bytes(ctx, peer.clone(), &good)
    });
    assert!(
        ok.is_ok(),
        "{}: a good message was rejected: {ok:?}",
        R::NAME
    );
}

/// Two runs with the same seed give identical results, bit for bit: the same events in
/// the same order with the same contents, through growth, DHT writes, lookups, and churn
/// with graceful leaves and crashes.
pub fn same_seed_same_run<R: SimRouting>(config: &R::Config) {
    let run = || {
        let mut sim = Simulator::<R>::new(config.clone(), SimConfig::default(), 16);
        sim.trace_events();
        sim.grow(32, Duration::from_secs(30), 0.1, |_, _| {});
        sim.settle(Duration::from_secs(1800), Duration::from_secs(30));
        for i in 0..20u64 {
            let from = sim.random_joined().expect("nodes");
            let cmd = DhtCommand::Put {
                op: i,
                key: Key::hash(format!("same-{i}")),
                value: vec![i as u8],
            };
            sim.command(from, Command::app(cmd));
        }
        sim.start_churn(crate::sim::ChurnConfig::balanced(
            32,
            Duration::from_secs(600),
            0.5,
        ));
        random_lookups(&mut sim, 100, Duration::from_secs(900));
        sim.stop_churn();
        let s = &sim.lookup_stats;
        (
            sim.trace_digest(),
            sim.messages(),
            sim.processed(),
            s.hops.clone(),
            s.latencies_us.clone(),
            sim.events.clone(),
            sim.now(),
        )
    };
    assert_eq!(run(), run(), "{}: same seed gave different runs", R::NAME);
}

/// The checks that depend on how an algorithm picks its next hops, for a variant of its
/// routing rule (a configuration with extra next-hop candidates): lookups, reads and
/// writes, repair after crashes, and recursive lookups around crashed hops.
pub fn next_hop_checks<R: SimRouting>(config: &R::Config) {
    lookups_reach_the_root::<R>(config);
    put_get_from_any_node::<R>(config);
    crash_then_repair_keeps_surviving_keys::<R>(config);
    recursive::recursive_lookups_route_around_crashed_hops::<R>(config);
}

/// `count` lookups for random keys from random nodes of `sim`, run until they finish;
/// fails unless every one finished at the true root. Returns their measurements.
pub fn lookup_stats<R: SimRouting>(sim: &mut Simulator<R>, count: u64) -> LookupStats {
    sim.lookup_stats = LookupStats::default();
    random_lookups(sim, count, Duration::from_secs(60));
    let stats = sim.lookup_stats.clone();
    assert_eq!(
        stats.succeeded(),
        count,
        "{}: lookups did not all finish: {stats:?}",
        R::NAME
    );
    assert_eq!(stats.wrong, 0, "{}: wrong roots: {stats:?}", R::NAME);
    stats
}

/// Every check of the suite that every overlay passes, in order.
pub fn run_all<R: SimRouting>(config: &R::Config) {
    lookups_reach_the_root::<R>(config);
    put_get_from_any_node::<R>(config);
    graceful_leave_loses_no_key::<R>(config);
    crash_then_repair_keeps_surviving_keys::<R>(config);
    bad_input_changes_nothing::<R>(config);
    same_seed_same_run::<R>(config);
    oracle_build_is_converged::<R>(config);
    kbr::routed_messages_reach_the_root::<R>(config);
    kbr::update_calls_match_the_neighbour_set::<R>(config);
    kbr::probe_scenario_runs_as_expected::<R>(config);
    versions::acknowledged_writes_win_whatever_the_clocks::<R>(config);
    versions::far_future_versions_are_refused::<R>(config);
    versions::a_lagging_holder_does_not_shadow_the_latest_write::<R>(config);
    reads::reads_during_leaves_find_a_replica::<R>(config);
    reads::reads_right_after_crashes_find_a_replica::<R>(config);
    reads::reads_while_joins_converge_find_every_write::<R>(config);
    reads::reads_while_growing_fast_find_every_write::<R>(config);
    sets::announced_members_are_read_anywhere_survive_crashes_and_expire::<R>(config);
    sets::sets_outlive_every_holder_leaving_at_once::<R>(config);
    fuzz::decoders_survive_fuzzing::<R>(config);
}
