//! `p2p bench multicast`: Scribe trees over each overlay on a router-level transit-stub
//! topology, measured as the Scribe paper measures them (delay penalty, node and link
//! stress, against IP multicast and unicast on the same routers), and their repair after a
//! mass crash.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use multicast::{GroupId, Scribe, ScribeCommand, ScribeConfig, ScribeEvent};
use overlay::sim::{LatencyModel, SimConfig, SimRouting, Simulator, TransitStubConfig, Underlay};
use overlay::{Command, Contact, Key, Step, Time};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::bench::build::build;
use crate::bench::progress::bar;
use crate::cli::{GroupSize, MulticastArgs};
use crate::overlays::WithOverlay;

type Apps = overlay::apps![Scribe<u32>];
type Sim<R> = Simulator<R, Apps>;

/// Simulated time a batch of joins or publishes gets to finish.
const SETTLE: Duration = Duration::from_secs(30);
/// Longest repair waited for after the crash.
const MAX_REPAIR: Duration = Duration::from_secs(300);

/// One line of the benchmark: one overlay.
#[derive(Clone, Debug, Serialize)]
pub struct MulticastRow {
    /// Always `multicast`.
    pub bench: &'static str,
    /// The overlay.
    pub overlay: String,
    /// Nodes.
    pub nodes: usize,
    /// Groups.
    pub groups: usize,
    /// Subscriptions over all groups.
    pub members: usize,
    /// Simulation seed.
    pub seed: u64,
    /// Routers of the topology.
    pub routers: usize,
    /// Of the messages published (one per group), deliveries made over those expected.
    pub delivery_ratio: f64,
    /// Members' depth in their tree (hops from the root).
    pub tree_depth_mean: f64,
    /// See `tree_depth_mean`.
    pub tree_depth_max: usize,
    /// Children per forwarder per group.
    pub node_stress_mean: f64,
    /// See `node_stress_mean`.
    pub node_stress_max: usize,
    /// Copies per physical link used, one message per group (route to the root and tree).
    pub link_stress_mean: f64,
    /// See `link_stress_mean`.
    pub link_stress_max: u64,
    /// The same for IP multicast (a shortest-path tree of routers from each publisher).
    pub ip_link_stress_mean: f64,
    /// See `ip_link_stress_mean`.
    pub ip_link_stress_max: u64,
    /// The same for unicast from each publisher to each member.
    pub unicast_link_stress_mean: f64,
    /// See `unicast_link_stress_mean`.
    pub unicast_link_stress_max: u64,
    /// Relative delay penalty of the tree, per member: the delay from the root down the
    /// tree ÷ the unicast delay from the root (the Scribe paper's measure; its publishers
    /// send to the root's cached address).
    pub rdp_mean: f64,
    /// See `rdp_mean`.
    pub rdp_median: f64,
    /// See `rdp_mean`.
    pub rdp_p90: f64,
    /// See `rdp_mean`.
    pub rdp_max: f64,
    /// End-to-end delay penalty, per member: the delay from the publisher (a random member)
    /// through the root and down the tree ÷ the unicast delay from the publisher. The leg
    /// to a root placed at random by its id makes this higher than `rdp_mean`.
    pub e2e_rdp_mean: f64,
    /// See `e2e_rdp_mean`.
    pub e2e_rdp_median: f64,
    /// See `e2e_rdp_mean`.
    pub e2e_rdp_p90: f64,
    /// Messages (requests and answers) per publish, from the publish to the last delivery.
    pub messages_per_publish: f64,
    /// Messages (requests and answers) per subscription, from the first join until the
    /// trees were quiet.
    pub join_messages: f64,
    /// Fraction of nodes crashed, with `--fail`.
    pub fail: Option<f64>,
    /// After the crash and the repair, deliveries over those expected to surviving members.
    pub delivery_after_repair: Option<f64>,
    /// Simulated seconds from the crash until every tree was whole again.
    pub repair_s: Option<f64>,
}

/// The benchmark run for one overlay.
pub struct Job<'a> {
    /// Command line.
    pub args: &'a MulticastArgs,
    /// The shared topology.
    pub underlay: Arc<Underlay>,
}

/// Builds the topology the command line asks for.
pub fn underlay(args: &MulticastArgs) -> Arc<Underlay> {
    Arc::new(Underlay::transit_stub(
        &TransitStubConfig::default(),
        args.common.seed,
    ))
}

/// Group sizes: fixed, or the Scribe paper's Zipf-like law (rank r gets N·r^-1.25 + 0.5).
fn group_sizes(args: &MulticastArgs) -> Vec<usize> {
    (1..=args.groups)
        .map(|r| match args.group_size {
            GroupSize::Fixed(s) => s.min(args.nodes),
            GroupSize::Zipf => {
                let s = (args.nodes as f64 * (r as f64).powf(-1.25) + 0.5).floor() as usize;
                s.clamp(1, args.nodes)
            }
        })
        .collect()
}

struct Groups {
    ids: Vec<GroupId>,
    members: Vec<Vec<u32>>,
}

fn new_sim<R: SimRouting>(config: &R::Config, job: &Job<'_>) -> Sim<R> {
    let cfg = SimConfig {
        latency: LatencyModel::Underlay(Arc::clone(&job.underlay)),
        loss: job.args.common.loss,
        bootstrap: job.args.bootstrap.setting(),
        ..SimConfig::default()
    };
    let scribe = Arc::new(ScribeConfig {
        max_children: match job.args.max_children {
            0 => usize::MAX,
            n => n,
        },
        ..ScribeConfig::default()
    });
    let make = Arc::new(move |_: &Contact<u32>| (Scribe::new(Arc::clone(&scribe)), ()));
    let mut sim = Sim::<R>::with_apps(config.clone(), cfg, job.args.common.seed, make);
    build(&mut sim, job.args.nodes, &job.args.common);
    // Proximity neighbour selection keeps improving tables after every slot is filled; the
    // papers measure settled overlays, not freshly built ones.
    let round = Duration::from_secs_f64(job.args.common.maintenance);
    sim.run_until(sim.now() + round * job.args.settle_rounds);
    sim
}

/// Picks each group's members at random and subscribes them; returns once every member
/// is attached (or the time is up).
fn subscribe<R: SimRouting>(sim: &mut Sim<R>, args: &MulticastArgs) -> Groups {
    let sizes = group_sizes(args);
    let mut live = sim.live().to_vec();
    live.sort_unstable();
    let mut groups = Groups {
        ids: Vec::new(),
        members: Vec::new(),
    };
    let pb = bar(sizes.len() as u64, "subscribing", args.common.quiet);
    for (g, size) in sizes.iter().enumerate() {
        let id = Key::hash(format!("group-{g}"));
        live.shuffle(sim.rng());
        let mut members = live[..*size].to_vec();
        members.sort_unstable();
        for &m in &members {
            sim.command(m, Command::app(ScribeCommand::Subscribe(id)));
        }
        groups.ids.push(id);
        groups.members.push(members);
        pb.inc(1);
    }
    let want: usize = sizes.iter().sum();
    let deadline = sim.now() + SETTLE;
    let mut subscribed = counter(|e| matches!(e, ScribeEvent::Subscribed { .. }));
    sim.run_until_done(deadline, |s| subscribed(s) >= want);
    pb.finish_and_clear();
    groups
}

/// Counts the Scribe events `pick` accepts, reading only those reported since its last
/// call (the simulator checks a run's end before every event, so a full scan each time
/// would cost the square of the events).
fn counter<R: SimRouting>(
    pick: impl Fn(&ScribeEvent<u32>) -> bool,
) -> impl FnMut(&Sim<R>) -> usize {
    let (mut read, mut count) = (0, 0);
    move |sim| {
        count += sim.events[read..]
            .iter()
            .filter(|e| e.event.app().is_some_and(&pick))
            .count();
        read = sim.events.len();
        count
    }
}

fn scribe<R: SimRouting>(sim: &Sim<R>, addr: u32) -> Option<&Scribe<u32>> {
    sim.node(addr).map(|n| &n.apps().0)
}

/// The overlay nodes a message routed from `from` to `key` passes, `from` first. A node
/// whose chosen next hop has crashed routes around it once the request times out, as a
/// node does, so a crashed hop delays the message but is not on its path.
fn route<R: SimRouting>(sim: &Sim<R>, from: u32, key: &Key) -> Vec<u32> {
    let mut path = vec![from];
    let mut at = from;
    let mut avoid = Vec::new();
    for _ in 0..256 {
        let Some(node) = sim.node(at) else { break };
        let routing = node.routing();
        let (Step::Root(next) | Step::Next(next)) = if avoid.is_empty() {
            overlay::Routing::step(routing, key, 1)
        } else {
            overlay::Routing::step_avoiding(routing, key, avoid.len() + 1, &avoid)
        };
        match next.iter().find(|c| !avoid.contains(&c.id)) {
            Some(c) if sim.node(c.addr).is_none() && avoid.len() < 64 => avoid.push(c.id),
            Some(c) if c.addr != at && !path.contains(&c.addr) => {
                at = c.addr;
                path.push(at);
                avoid.clear();
            }
            _ => break,
        }
    }
    path
}

/// The overlay nodes a publish from `from` passes on its way to `group`'s root, `from`
/// first, as Scribe sends it: straight to the root's contact where the publisher's tree
/// gave it one (and on from there, should that node be the root no longer), routed hop by
/// hop otherwise.
fn publish_path<R: SimRouting>(sim: &Sim<R>, from: u32, group: &Key) -> Vec<u32> {
    let root = scribe(sim, from)
        .and_then(|s| s.group(group))
        .filter(|g| g.is_rooted())
        .and_then(|g| g.root_contact())
        .map(|c| c.addr)
        .filter(|a| *a != from && sim.node(*a).is_some());
    match root {
        Some(root) => std::iter::once(from)
            .chain(route(sim, root, group))
            .collect(),
        None => route(sim, from, group),
    }
}

fn mean<T: Copy + Into<f64>>(xs: &[T]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.iter().map(|x| (*x).into()).sum::<f64>() / xs.len() as f64
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Mean and max copies over the links used at all.
fn stress(counts: &[u64]) -> (f64, u64) {
    let used: Vec<u64> = counts.iter().copied().filter(|c| *c > 0).collect();
    let max = used.iter().copied().max().unwrap_or(0);
    (
        mean(&used.iter().map(|c| *c as f64).collect::<Vec<_>>()),
        max,
    )
}

/// Publishes one message per group from a random live member and runs until the
/// deliveries are in; returns (deliveries, expected, (publisher, publish time) per group).
fn publish_round<R: SimRouting>(
    sim: &mut Sim<R>,
    groups: &Groups,
) -> (usize, usize, Vec<(u32, Time)>) {
    sim.events.clear();
    let mut sent = Vec::new();
    let mut expected = 0;
    for (g, id) in groups.ids.iter().enumerate() {
        let live: Vec<u32> = groups.members[g]
            .iter()
            .copied()
            .filter(|m| sim.node(*m).is_some())
            .collect();
        if live.is_empty() {
            sent.push((u32::MAX, sim.now()));
            continue;
        }
        let from = live[sim.rng().random_range(0..live.len())];
        expected += live.len();
        sent.push((from, sim.now()));
        let payload = format!("round message {g}").into_bytes();
        sim.command(
            from,
            Command::app(ScribeCommand::Publish {
                group: *id,
                payload,
            }),
        );
    }
    let deadline = sim.now() + SETTLE;
    let mut delivered = counter(|e| matches!(e, ScribeEvent::Delivered(_)));
    sim.run_until_done(deadline, |s| delivered(s) >= expected);
    (delivered(sim), expected, sent)
}

/// Whether every tree is whole: every live member of every group reaches the group id's
/// root by parent pointers through live nodes, each parent listing the node as its child
/// (data goes down by the children lists), and a message routed from it to the group
/// id ends at that root (else its publishes would be lost while the overlay repairs).
fn trees_whole<R: SimRouting>(sim: &mut Sim<R>, groups: &Groups) -> bool {
    match first_break(sim, groups) {
        None => true,
        Some(why) => {
            tracing::debug!(at = ?sim.now(), "tree not whole: {why}");
            false
        }
    }
}

/// The first place a tree is not whole, described, if any (see [`trees_whole`]).
fn first_break<R: SimRouting>(sim: &mut Sim<R>, groups: &Groups) -> Option<String> {
    sim.refresh_truth();
    let ids: BTreeMap<Key, u32> = sim
        .live()
        .iter()
        .map(|a| (sim.contact(*a).id, *a))
        .collect();
    for (g, id) in groups.ids.iter().enumerate() {
        let Some(root) = sim.truth_root(id) else {
            return Some(format!("group {g} has no root"));
        };
        for &m in groups.members[g].iter().filter(|m| sim.node(**m).is_some()) {
            let path = route(sim, m, id);
            if path.last() != Some(&root) {
                return Some(format!(
                    "group {g}: member {m} routes {path:?}, not to the root {root}"
                ));
            }
            let mut at = m;
            let mut steps = 0;
            loop {
                let Some(st) = scribe(sim, at).and_then(|s| s.group(id)) else {
                    return Some(format!(
                        "group {g}: node {at} (from member {m}) is not in it"
                    ));
                };
                if st.is_root() {
                    if at != root {
                        return Some(format!(
                            "group {g}: node {at} (from member {m}) is a root, not {root}"
                        ));
                    }
                    break;
                }
                let Some(next) = st.parent().and_then(|p| ids.get(&p.id)) else {
                    return Some(format!(
                        "group {g}: node {at} (from member {m}) has no live parent"
                    ));
                };
                let me = sim.contact(at).id;
                let adopted = scribe(sim, *next)
                    .and_then(|s| s.group(id))
                    .is_some_and(|p| p.has_child(&me));
                if !adopted {
                    return Some(format!(
                        "group {g}: parent {next} does not list node {at} (from member {m})"
                    ));
                }
                at = *next;
                steps += 1;
                if steps > 1024 {
                    return Some(format!("group {g}: member {m}'s parents loop"));
                }
            }
        }
    }
    None
}

impl Job<'_> {
    /// Each delivery's delay penalty, sorted: of the tree (from the root) and end to end
    /// (from the publisher).
    fn delay_penalties<R: SimRouting>(
        &self,
        sim: &mut Sim<R>,
        groups: &Groups,
        sent: &[(u32, Time)],
    ) -> (Vec<f64>, Vec<f64>) {
        // A publisher that knows the group's root sends straight to it, so the publication
        // reached the root one unicast delay after it left; for the others (none in a
        // settled network) the tree's share of the delay is unknown and not counted.
        let roots: Vec<Option<u32>> = groups
            .ids
            .iter()
            .zip(sent)
            .map(|(id, (from, _))| {
                let root = sim.truth_root(id)?;
                let known = scribe(sim, *from)
                    .and_then(|s| s.group(id))
                    .filter(|g| g.is_rooted())
                    .and_then(|g| g.root_contact())
                    .is_some_and(|c| c.addr == root);
                (known || *from == root).then_some(root)
            })
            .collect();
        let index: BTreeMap<GroupId, usize> = groups
            .ids
            .iter()
            .enumerate()
            .map(|(i, g)| (*g, i))
            .collect();
        let (mut tree, mut e2e) = (Vec::new(), Vec::new());
        for e in &sim.events {
            let Some(ScribeEvent::<u32>::Delivered(p)) = e.event.app() else {
                continue;
            };
            let g = index[&p.group];
            let (from, at) = sent[g];
            let delay = e.time.since(at);
            let unicast = self.underlay.delay(from, e.node);
            if e.node != from && !unicast.is_zero() {
                e2e.push(delay.as_secs_f64() / unicast.as_secs_f64());
            }
            if let Some(root) = roots[g] {
                let down = delay.saturating_sub(self.underlay.delay(from, root));
                let unicast = self.underlay.delay(root, e.node);
                if e.node != root && !unicast.is_zero() {
                    tree.push(down.as_secs_f64() / unicast.as_secs_f64());
                }
            }
        }
        tree.sort_by(f64::total_cmp);
        e2e.sort_by(f64::total_cmp);
        (tree, e2e)
    }
}

impl WithOverlay for Job<'_> {
    type Out = MulticastRow;

    fn run<R: SimRouting>(&mut self, config: R::Config, label: String) -> MulticastRow {
        let args = self.args;
        // The static measurement: trees built and used without maintenance, so every
        // message counted belongs to the joins or the publishes.
        let mut sim = new_sim::<R>(&config, self);
        sim.stop_maintenance();
        let before = sim.messages();
        let groups = subscribe(&mut sim, args);
        // Paths still travel down the trees after the last member is connected: they are
        // part of the joins' cost, not of the first publish's.
        sim.run_until(sim.now() + SETTLE);
        let members: usize = groups.members.iter().map(Vec::len).sum();
        let join_messages = (sim.messages() - before) as f64 / members.max(1) as f64;
        let before = sim.messages();
        let (got, expected, sent) = publish_round(&mut sim, &groups);
        let messages_per_publish = (sim.messages() - before) as f64 / groups.ids.len() as f64;

        let (rdp, e2e) = self.delay_penalties(&mut sim, &groups, &sent);

        // Depth, node stress and link stress from the trees as built.
        let links = self.underlay.links();
        let (mut overlay_links, mut ip_links, mut unicast_links) =
            (vec![0u64; links], vec![0u64; links], vec![0u64; links]);
        let (mut depths, mut fanout) = (Vec::new(), Vec::new());
        let mut path = Vec::new();
        for (g, id) in groups.ids.iter().enumerate() {
            let (from, _) = sent[g];
            if from == u32::MAX {
                continue;
            }
            for w in publish_path(&sim, from, id).windows(2) {
                path.clear();
                self.underlay.path_links(w[0], w[1], &mut path);
                path.iter().for_each(|l| overlay_links[*l as usize] += 1);
            }
            for &a in sim.live() {
                let Some(st) = scribe(&sim, a).and_then(|s| s.group(id)) else {
                    continue;
                };
                if st.child_count() > 0 {
                    fanout.push(st.child_count());
                }
                if st.is_member() {
                    depths.push(st.path().len().saturating_sub(1));
                }
                for c in st.children() {
                    path.clear();
                    self.underlay.path_links(a, c.addr, &mut path);
                    path.iter().for_each(|l| overlay_links[*l as usize] += 1);
                }
            }
            for l in self.underlay.tree_links(from, &groups.members[g]) {
                ip_links[l as usize] += 1;
            }
            for &m in &groups.members[g] {
                path.clear();
                self.underlay.path_links(from, m, &mut path);
                path.iter().for_each(|l| unicast_links[*l as usize] += 1);
            }
        }
        let (link_stress_mean, link_stress_max) = stress(&overlay_links);
        let (ip_link_stress_mean, ip_link_stress_max) = stress(&ip_links);
        let (unicast_link_stress_mean, unicast_link_stress_max) = stress(&unicast_links);
        let depths_f: Vec<f64> = depths.iter().map(|d| *d as f64).collect();
        let fanout_f: Vec<f64> = fanout.iter().map(|d| *d as f64).collect();
        let mut row = MulticastRow {
            bench: "multicast",
            overlay: label,
            nodes: args.nodes,
            groups: args.groups,
            members,
            seed: args.common.seed,
            routers: self.underlay.routers(),
            delivery_ratio: got as f64 / expected.max(1) as f64,
            tree_depth_mean: mean(&depths_f),
            tree_depth_max: depths.iter().copied().max().unwrap_or(0),
            node_stress_mean: mean(&fanout_f),
            node_stress_max: fanout.iter().copied().max().unwrap_or(0),
            link_stress_mean,
            link_stress_max,
            ip_link_stress_mean,
            ip_link_stress_max,
            unicast_link_stress_mean,
            unicast_link_stress_max,
            rdp_mean: mean(&rdp),
            rdp_median: quantile(&rdp, 0.5),
            rdp_p90: quantile(&rdp, 0.9),
            rdp_max: rdp.last().copied().unwrap_or(0.0),
            e2e_rdp_mean: mean(&e2e),
            e2e_rdp_median: quantile(&e2e, 0.5),
            e2e_rdp_p90: quantile(&e2e, 0.9),
            messages_per_publish,
            join_messages,
            fail: args.fail,
            delivery_after_repair: None,
            repair_s: None,
        };
        if let Some(fail) = args.fail {
            let (after, repair) = crash_and_repair::<R>(&config, self, fail);
            row.delivery_after_repair = Some(after);
            row.repair_s = repair;
        }
        row
    }
}

/// The same network with maintenance running: trees built, a fraction `fail` of the nodes
/// crashed at once; returns deliveries after the repair over those expected, and the
/// simulated seconds until every tree was whole (`None`: not within the limit).
fn crash_and_repair<R: SimRouting>(
    config: &R::Config,
    job: &Job<'_>,
    fail: f64,
) -> (f64, Option<f64>) {
    let mut sim = new_sim::<R>(config, job);
    let groups = subscribe(&mut sim, job.args);
    sim.run_until(sim.now() + SETTLE);
    let mut live = sim.live().to_vec();
    live.sort_unstable();
    live.shuffle(sim.rng());
    let crashed = (live.len() as f64 * fail).round() as usize;
    for &a in &live[..crashed] {
        sim.crash(a);
    }
    let start = sim.now();
    let check = Duration::from_millis(250);
    let mut repair = None;
    while sim.now().since(start) < MAX_REPAIR {
        sim.run_until(sim.now() + check);
        if trees_whole(&mut sim, &groups) {
            repair = Some(sim.now().since(start).as_secs_f64());
            break;
        }
    }
    let (got, expected, _) = publish_round(&mut sim, &groups);
    (got as f64 / expected.max(1) as f64, repair)
}

/// Prints the rows as a table.
pub fn print_table(rows: &[MulticastRow]) {
    let headers = [
        "overlay",
        "nodes",
        "groups",
        "members",
        "delivery",
        "depth",
        "stress",
        "link",
        "ip link",
        "unicast",
        "RDP mean",
        "RDP p90",
        "e2e RDP",
        "msgs/pub",
        "msgs/join",
        "after fail",
        "repair s",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.overlay.clone(),
                r.nodes.to_string(),
                r.groups.to_string(),
                r.members.to_string(),
                format!("{:.2}%", r.delivery_ratio * 100.0),
                format!("{:.2} / {}", r.tree_depth_mean, r.tree_depth_max),
                format!("{:.2} / {}", r.node_stress_mean, r.node_stress_max),
                format!("{:.2} / {}", r.link_stress_mean, r.link_stress_max),
                format!("{:.2} / {}", r.ip_link_stress_mean, r.ip_link_stress_max),
                format!(
                    "{:.2} / {}",
                    r.unicast_link_stress_mean, r.unicast_link_stress_max
                ),
                format!("{:.2}", r.rdp_mean),
                format!("{:.2}", r.rdp_p90),
                format!("{:.2}", r.e2e_rdp_mean),
                format!("{:.1}", r.messages_per_publish),
                format!("{:.1}", r.join_messages),
                r.delivery_after_repair
                    .map_or("-".into(), |d| format!("{:.2}%", d * 100.0)),
                r.repair_s.map_or("-".into(), |s| format!("{s:.1}")),
            ]
        })
        .collect();
    crate::bench::table::print(&headers, &body);
}
