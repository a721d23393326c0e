//! Conformance of the KBR up-calls and the application layer, in the simulator: routed
//! messages reach the key's root with `forward` at every node on the way, `Stop` and a
//! changed next hop are obeyed, `update` follows the neighbour set, and the [`Probe`]
//! scenario's pings, timers and routes all come out as they must.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::RngExt;

use crate::conformance::probe::{Probe, ProbeCommand, ProbeEvent};
use crate::conformance::{grown_with, live_in_random_order};
use crate::id::{Key, NodeId};
use crate::io::Command;
use crate::sim::{SimEvent, SimRouting, Simulator};

/// The applications of a probing node.
pub type ProbeApps<A> = crate::apps![Probe<A>];

type ProbeSim<R> = Simulator<R, ProbeApps<u32>>;

/// The probe events of a simulation, by node.
fn probe_events<E>(events: &[SimEvent<E>]) -> impl Iterator<Item = (u32, &ProbeEvent)>
where
    E: crate::apps::Pick<ProbeEvent, crate::apps::Here>,
{
    events
        .iter()
        .filter_map(|e| e.event.app::<ProbeEvent, _>().map(|p| (e.node, p)))
}

/// One hop of a routed message: where `forward` was called, from where, and towards where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The node.
    pub at: NodeId,
    /// Previous hop.
    pub prev: Option<NodeId>,
    /// Next hop.
    pub next: NodeId,
}

/// Every routed message's hops in order, by tag.
pub type Paths = BTreeMap<u64, Vec<Hop>>;
/// Where each routed message was delivered (node, hops), by tag.
pub type Deliveries = BTreeMap<u64, Vec<(NodeId, u32)>>;

/// Every routed message's hops in order, and where it was delivered.
pub fn routes_seen<'a>(events: impl Iterator<Item = &'a ProbeEvent>) -> (Paths, Deliveries) {
    let mut paths: BTreeMap<u64, Vec<Hop>> = BTreeMap::new();
    let mut delivered: BTreeMap<u64, Vec<(NodeId, u32)>> = BTreeMap::new();
    for e in events {
        match e {
            ProbeEvent::Forwarded {
                tag,
                at,
                prev,
                next,
            } => paths.entry(*tag).or_default().push(Hop {
                at: *at,
                prev: *prev,
                next: *next,
            }),
            ProbeEvent::Delivered { tag, at, hops, .. } => {
                delivered.entry(*tag).or_default().push((*at, *hops))
            }
            _ => {}
        }
    }
    (paths, delivered)
}

/// Checks that `path` is a route from `origin` to `root` of `hops` hops in which every
/// node handed the message to the next one and `forward` ran at each.
pub fn check_path(name: &str, path: &[Hop], origin: NodeId, root: NodeId, hops: u32) {
    assert_eq!(
        path.len(),
        hops as usize + 1,
        "{name}: forward calls {path:?} for {hops} hops"
    );
    assert_eq!(
        path[0].at, origin,
        "{name}: first forward not at the source"
    );
    assert_eq!(
        path[0].prev, None,
        "{name}: the source names a previous hop"
    );
    for w in path.windows(2) {
        assert_eq!(
            w[0].next, w[1].at,
            "{name}: the message left the route {path:?}"
        );
        assert_eq!(
            w[1].prev,
            Some(w[0].at),
            "{name}: wrong previous hop in {path:?}"
        );
    }
    let last = path.last().expect("non-empty");
    assert_eq!(
        (last.at, last.next),
        (root, root),
        "{name}: not delivered at the root"
    );
}

fn route(
    sim: &mut ProbeSim<impl SimRouting>,
    from: u32,
    tag: u64,
    key: Key,
    stop_at: Option<NodeId>,
    redirect: Option<u32>,
) {
    let redirect = redirect.map(|r| sim.contact(r).clone());
    let cmd = ProbeCommand::Route {
        tag,
        key,
        stop_at,
        redirect,
    };
    sim.command(from, Command::app(cmd));
}

/// Messages routed to random keys reach each key's true root once, with `forward` at
/// every node on the way (source and root included); a `Stop` at the second node ends
/// a message there; a next hop changed at the source is followed.
pub fn routed_messages_reach_the_root<R: SimRouting>(config: &R::Config) {
    let mut sim: ProbeSim<R> = grown_with(config, super::NODES, 21);
    // Static tables: the second route of a key must take the first one's path.
    sim.stop_maintenance();
    sim.events.clear();
    let nodes = sim.live().to_vec();
    let mut sent = Vec::new();
    for tag in 0..200u64 {
        let from = nodes[sim.rng().random_range(0..nodes.len())];
        let key = Key::random(sim.rng());
        route(&mut sim, from, tag, key, None, None);
        sent.push((tag, from, key));
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let (paths, delivered) = routes_seen(probe_events(&sim.events).map(|(_, e)| e));
    let mut stops = Vec::new();
    for &(tag, from, key) in &sent {
        let root = sim.truth_root(&key).expect("a root");
        let root_id = sim.contact(root).id;
        let at = delivered.get(&tag).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(at.len(), 1, "{}: message {tag} delivered {at:?}", R::NAME);
        assert_eq!(
            at[0].0,
            root_id,
            "{}: message {tag} delivered off its root",
            R::NAME
        );
        let path = &paths[&tag];
        check_path(R::NAME, path, sim.contact(from).id, root_id, at[0].1);
        if path.len() >= 3 {
            stops.push((tag, from, key, path[1].at));
        }
    }
    assert!(
        !stops.is_empty(),
        "{}: no route of two hops to stop",
        R::NAME
    );

    sim.events.clear();
    for &(tag, from, key, stop) in &stops {
        route(&mut sim, from, 1000 + tag, key, Some(stop), None);
    }
    let mut redirected = Vec::new();
    for tag in 2000..2050u64 {
        let from = nodes[sim.rng().random_range(0..nodes.len())];
        let to = nodes[sim.rng().random_range(0..nodes.len())];
        if to == from {
            continue;
        }
        let key = Key::random(sim.rng());
        route(&mut sim, from, tag, key, None, Some(to));
        redirected.push((tag, from, to, key));
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let (paths, delivered) = routes_seen(probe_events(&sim.events).map(|(_, e)| e));
    for &(tag, _, _, stop) in &stops {
        let tag = 1000 + tag;
        assert!(
            !delivered.contains_key(&tag),
            "{}: stopped message {tag} delivered",
            R::NAME
        );
        let path = &paths[&tag];
        assert_eq!(
            path.len(),
            2,
            "{}: stopped message {tag} went on: {path:?}",
            R::NAME
        );
        assert_eq!(path[1].at, stop, "{}: stopped at the wrong node", R::NAME);
    }
    for &(tag, from, to, key) in &redirected {
        let root = sim.truth_root(&key).expect("a root");
        let root_id = sim.contact(root).id;
        let path = &paths[&tag];
        let at = &delivered[&tag];
        assert_eq!(
            at.len(),
            1,
            "{}: redirected message {tag} delivered {at:?}",
            R::NAME
        );
        assert_eq!(
            at[0].0,
            root_id,
            "{}: redirected message {tag} off its root",
            R::NAME
        );
        let (from_id, to_id) = (sim.contact(from).id, sim.contact(to).id);
        if to_id != path[0].next {
            assert_eq!(
                path[1].at,
                to_id,
                "{}: the changed next hop was not followed",
                R::NAME
            );
            assert_eq!(
                path[1].prev,
                Some(from_id),
                "{}: wrong previous hop",
                R::NAME
            );
        }
    }
}

/// An eighth of the nodes crash without a word and messages are routed at once, while
/// tables still name the crashed nodes: each message whose key's root lives is delivered
/// there exactly once, a hop that fails it being routed around (and never tried again).
pub fn routed_messages_route_around_crashed_hops<R: SimRouting>(config: &R::Config) {
    let mut sim: ProbeSim<R> = grown_with(config, super::NODES, 23);
    let nodes = live_in_random_order(&mut sim);
    let (crashed, live) = nodes.split_at(nodes.len() / 8);
    let mut sent = Vec::new();
    for tag in 0..400u64 {
        let key = Key::random(sim.rng());
        let root = sim.truth_root(&key).expect("a root");
        if !crashed.contains(&root) {
            sent.push((tag, key, sim.contact(root).id));
        }
    }
    for &v in crashed {
        sim.crash(v);
    }
    sim.events.clear();
    for &(tag, key, _) in &sent {
        let from = live[sim.rng().random_range(0..live.len())];
        route(&mut sim, from, tag, key, None, None);
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let (_, delivered) = routes_seen(probe_events(&sim.events).map(|(_, e)| e));
    let lost: Vec<u64> = sent
        .iter()
        .filter(|&&(tag, _, root)| {
            let at = delivered.get(&tag).map(Vec::as_slice).unwrap_or_default();
            !(at.len() == 1 && at[0].0 == root)
        })
        .map(|&(tag, _, _)| tag)
        .collect();
    assert!(
        lost.is_empty(),
        "{}: {} of {} messages not delivered once at their live root: {lost:?}",
        R::NAME,
        lost.len(),
        sent.len()
    );
}

/// Replaying a node's `update` up-calls (entered, left) gives exactly its neighbour set,
/// after growth and after a quarter of the nodes leave or crash.
pub fn update_calls_match_the_neighbour_set<R: SimRouting>(config: &R::Config) {
    let mut sim: ProbeSim<R> = grown_with(config, super::NODES, 22);
    let check = |sim: &ProbeSim<R>, when: &str| {
        let mut counts: BTreeMap<u32, BTreeMap<NodeId, i64>> = BTreeMap::new();
        for (node, e) in probe_events(&sim.events) {
            if let ProbeEvent::Update { node: n, joined } = e {
                *counts.entry(node).or_default().entry(*n).or_default() +=
                    if *joined { 1 } else { -1 };
            }
        }
        for &addr in sim.live() {
            let Some(node) = sim.node(addr) else { continue };
            let mut want: Vec<NodeId> = crate::Routing::neighbor_set(node.routing(), 1 << 16)
                .into_iter()
                .map(|c| c.id)
                .collect();
            want.sort();
            want.dedup();
            let got: Vec<NodeId> = counts
                .get(&addr)
                .map(|m| {
                    m.iter()
                        .filter(|(_, c)| **c > 0)
                        .map(|(id, _)| *id)
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(
                got,
                want,
                "{}: node {addr}'s update calls {when} do not match its neighbour set",
                R::NAME
            );
        }
    };
    check(&sim, "after growth");
    let nodes = sim.live().to_vec();
    for (i, &addr) in nodes.iter().enumerate().take(super::NODES / 4) {
        if i % 2 == 0 {
            sim.leave(addr);
        } else {
            sim.crash(addr);
        }
    }
    sim.settle(Duration::from_secs(3600), Duration::from_secs(30));
    check(&sim, "after leaves and crashes");
}

/// The inputs of the probe scenario: each node pings a few random peers, sets timers
/// and cancels every other one, and routes messages to random keys.
#[derive(Clone, Copy, Debug)]
pub struct ProbeScenario {
    /// Pings per node.
    pub pings: u64,
    /// Timers per node (the odd-numbered ones are cancelled).
    pub timers: u64,
    /// Routed messages per node.
    pub routes: u64,
}

/// What came out of the probe scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// Pings answered by the peer pinged.
    pub pongs: u64,
    /// Pings that failed.
    pub ping_failures: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Cancelled timers that fired anyway.
    pub cancelled_fired: u64,
    /// Routed messages delivered at their key's root (as a lookup finds it), once each.
    pub delivered_at_root: u64,
    /// Routed messages delivered elsewhere, or more than once, or never.
    pub misdelivered: u64,
}

impl ProbeScenario {
    /// What every correct run on `n` nodes gives.
    pub fn expected(&self, n: u64) -> ProbeOutcome {
        ProbeOutcome {
            pongs: n * self.pings,
            timers_fired: n * self.timers.div_ceil(2),
            delivered_at_root: n * self.routes,
            ..ProbeOutcome::default()
        }
    }

    /// The commands of node number `i` (of `n`), given the node ids (sorted by address)
    /// and a generator; the route of tag `t` goes to the key in `keys[t]`.
    pub fn commands<A: Clone>(
        &self,
        i: usize,
        contacts: &[crate::Contact<A>],
        rng: &mut impl rand::Rng,
        keys: &mut BTreeMap<u64, Key>,
    ) -> Vec<ProbeCommand<A>> {
        let mut cmds = Vec::new();
        let base = i as u64 * 1000;
        for p in 0..self.pings {
            let to = contacts[rng.random_range(0..contacts.len())].clone();
            cmds.push(ProbeCommand::Ping { tag: base + p, to });
        }
        for t in 0..self.timers {
            let tag = base + 100 + t;
            let after = Duration::from_millis(200 + 100 * t);
            cmds.push(ProbeCommand::SetTimer { tag, after });
            if t % 2 == 1 {
                cmds.push(ProbeCommand::CancelTimer { tag });
            }
        }
        for r in 0..self.routes {
            let tag = base + 200 + r;
            let key = Key::random(rng);
            keys.insert(tag, key);
            cmds.push(ProbeCommand::Route {
                tag,
                key,
                stop_at: None,
                redirect: None,
            });
        }
        cmds
    }

    /// Scores the events of a run; `root_of` names each routed key's root.
    pub fn score<'a>(
        &self,
        events: impl Iterator<Item = &'a ProbeEvent>,
        keys: &BTreeMap<u64, Key>,
        root_of: impl Fn(&Key) -> Option<NodeId>,
        pinged: &BTreeMap<u64, NodeId>,
    ) -> ProbeOutcome {
        let mut out = ProbeOutcome::default();
        let mut delivered: BTreeMap<u64, Vec<NodeId>> = BTreeMap::new();
        for e in events {
            match e {
                ProbeEvent::Pong { tag, from } if pinged.get(tag) == Some(from) => out.pongs += 1,
                ProbeEvent::PingFailed { .. } | ProbeEvent::Pong { .. } => out.ping_failures += 1,
                ProbeEvent::TimerFired { tag } if (tag % 1000 - 100) % 2 == 1 => {
                    out.cancelled_fired += 1
                }
                ProbeEvent::TimerFired { .. } => out.timers_fired += 1,
                ProbeEvent::Delivered { tag, at, .. } => {
                    delivered.entry(*tag).or_default().push(*at)
                }
                _ => {}
            }
        }
        for (tag, key) in keys {
            match delivered.get(tag).map(Vec::as_slice) {
                Some([at]) if root_of(key) == Some(*at) => out.delivered_at_root += 1,
                _ => out.misdelivered += 1,
            }
        }
        out
    }
}

/// Runs `scenario` on `n` simulated nodes built by the oracle and returns its outcome.
pub fn probe_scenario_in_sim<R: SimRouting>(
    config: &R::Config,
    n: usize,
    scenario: ProbeScenario,
    seed: u64,
) -> ProbeOutcome {
    let mut sim = ProbeSim::<R>::new(config.clone(), crate::sim::SimConfig::default(), seed);
    sim.build_oracle(n);
    let nodes = sim.live().to_vec();
    let contacts: Vec<_> = nodes.iter().map(|a| sim.contact(*a).clone()).collect();
    let mut keys = BTreeMap::new();
    let mut pinged = BTreeMap::new();
    let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(seed);
    for (i, &addr) in nodes.iter().enumerate() {
        for cmd in scenario.commands(i, &contacts, &mut rng, &mut keys) {
            if let ProbeCommand::Ping { tag, to } = &cmd {
                pinged.insert(*tag, to.id);
            }
            sim.command(addr, Command::app(cmd));
        }
    }
    let until = sim.now() + Duration::from_secs(120);
    sim.run_until(until);
    let mut truth: BTreeMap<Key, NodeId> = BTreeMap::new();
    for k in keys.values() {
        let root = sim.truth_root(k).expect("a root");
        truth.insert(*k, sim.contact(root).id);
    }
    scenario.score(
        probe_events(&sim.events).map(|(_, e)| e),
        &keys,
        |k| truth.get(k).copied(),
        &pinged,
    )
}

/// The probe scenario on 1,000 simulated nodes gives exactly the outcome its inputs call
/// for: every ping answered, every uncancelled timer fired and no cancelled one, every
/// routed message delivered once at its root.
pub fn probe_scenario_runs_as_expected<R: SimRouting>(config: &R::Config) {
    let scenario = ProbeScenario {
        pings: 3,
        timers: 4,
        routes: 3,
    };
    let got = probe_scenario_in_sim::<R>(config, 1000, scenario, 23);
    assert_eq!(got, scenario.expected(1000), "{}: probe scenario", R::NAME);
}
