//! Scribe in the simulator over every overlay: trees are built from the overlay's routes,
//! every member gets every message once and in its publisher's order, trees repair after
//! crashes, anycast finds a member, and unsubscribing prunes the forwarders.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use multicast::{GroupId, Scribe, ScribeCommand, ScribeEvent};
use overlay::sim::{SimConfig, SimRouting, Simulator};
use overlay::{Command, Key, NodeId};

type Apps = overlay::apps![Scribe<u32>];

const NODES: usize = 150;
const MEMBERS: usize = 40;

fn scribe<R: SimRouting>(sim: &Simulator<R, Apps>, addr: u32) -> Option<&Scribe<u32>> {
    sim.node(addr).map(|n| &n.apps().0)
}

fn events<R: SimRouting>(sim: &Simulator<R, Apps>) -> Vec<(u32, ScribeEvent<u32>)> {
    sim.events
        .iter()
        .filter_map(|e| {
            e.event
                .app::<ScribeEvent<u32>, _>()
                .map(|ev| (e.node, ev.clone()))
        })
        .collect()
}

/// Checks the tree of `group`: every live member reaches the root by parent pointers,
/// every parent knows its child, the root is the overlay's root of the group id, and every
/// member knows the root's contact (members publish straight to it).
fn check_tree<R: SimRouting>(sim: &mut Simulator<R, Apps>, group: &GroupId, members: &[u32]) {
    let ids: BTreeMap<NodeId, u32> = sim
        .live()
        .iter()
        .map(|a| (sim.contact(*a).id, *a))
        .collect();
    let root = sim.truth_root(group).expect("a root");
    let tree_root = scribe(sim, root).and_then(|s| s.group(group));
    assert!(
        tree_root.is_some_and(|g| g.is_root()),
        "the group id's root roots the tree"
    );
    let root_contact = sim.contact(root).clone();
    for &m in members.iter().filter(|m| sim.node(**m).is_some()) {
        let known = scribe(sim, m)
            .and_then(|s| s.group(group))
            .and_then(|g| g.root_contact().cloned());
        assert_eq!(
            known.as_ref(),
            Some(&root_contact),
            "member {m} knows the root"
        );
        let mut at = m;
        for _ in 0..=NODES {
            let g = scribe(sim, at)
                .and_then(|s| s.group(group))
                .expect("on the tree");
            if g.is_root() {
                assert_eq!(at, root, "one root");
                break;
            }
            let parent = g
                .parent()
                .unwrap_or_else(|| panic!("{at} (member {m}) attached: {g:?}"));
            let p = ids[&parent.id];
            let pg = scribe(sim, p)
                .and_then(|s| s.group(group))
                .expect("parent in tree");
            assert!(
                pg.has_child(&sim.contact(at).id),
                "parent {p} knows child {at}"
            );
            at = p;
        }
        assert_eq!(at, root, "member {m} reaches the root");
    }
}

/// Publishes `count` messages from `publishers` in turn and checks that every live member
/// got each exactly once, in each publisher's order.
fn publish_and_check<R: SimRouting>(
    sim: &mut Simulator<R, Apps>,
    group: GroupId,
    members: &[u32],
    publishers: &[u32],
    count: usize,
) {
    sim.events.clear();
    for i in 0..count {
        let from = publishers[i % publishers.len()];
        let payload = format!("message {i}").into_bytes();
        sim.command(
            from,
            Command::app(ScribeCommand::Publish { group, payload }),
        );
        sim.run_until(sim.now() + Duration::from_millis(50));
    }
    sim.run_until(sim.now() + Duration::from_secs(5));
    let mut got: BTreeMap<u32, BTreeMap<NodeId, Vec<u64>>> = BTreeMap::new();
    for (node, ev) in events(sim) {
        if let ScribeEvent::Delivered(p) = ev {
            got.entry(node)
                .or_default()
                .entry(p.publisher)
                .or_default()
                .push(p.seq);
        }
    }
    let sent: BTreeMap<NodeId, usize> = publishers.iter().fold(BTreeMap::new(), |mut m, p| {
        *m.entry(sim.contact(*p).id).or_default() += 0;
        m
    });
    let mut per_publisher: BTreeMap<NodeId, usize> = sent;
    for i in 0..count {
        *per_publisher
            .get_mut(&sim.contact(publishers[i % publishers.len()]).id)
            .expect("a publisher") += 1;
    }
    for &m in members.iter().filter(|m| sim.node(**m).is_some()) {
        let mine = got.get(&m).cloned().unwrap_or_default();
        for (publisher, n) in &per_publisher {
            let seqs = mine.get(publisher).cloned().unwrap_or_default();
            assert_eq!(
                seqs.len(),
                *n,
                "member {m} got every message of a publisher once"
            );
            assert!(
                seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "in order: {seqs:?}"
            );
        }
    }
    let non_members: BTreeSet<u32> = got
        .keys()
        .copied()
        .filter(|n| !members.contains(n))
        .collect();
    assert!(
        non_members.is_empty(),
        "only members deliver: {non_members:?}"
    );
}

/// Whether routing from `from` reaches `key`'s true root: each hop to the first live node
/// the current one names, with no node twice.
fn routes_to_root<R: SimRouting>(sim: &mut Simulator<R, Apps>, from: u32, key: &Key) -> bool {
    use overlay::Step;
    let root = sim.truth_root(key);
    let mut at = from;
    let mut seen = BTreeSet::new();
    while seen.insert(at) {
        if Some(at) == root {
            return true;
        }
        let Some(node) = sim.node(at) else {
            return false;
        };
        let (Step::Root(next) | Step::Next(next)) = node.routing().step(key, 8);
        let next = next.into_iter().find(|c| sim.node(c.addr).is_some());
        match next {
            Some(c) => at = c.addr,
            None => return false,
        }
    }
    false
}

fn scenario<R: SimRouting>(cfg: R::Config) {
    let mut sim = Simulator::<R, Apps>::new(cfg, SimConfig::default(), 11);
    sim.build_oracle(NODES);
    let group = Key::hash("news");
    let mut members: Vec<u32> = sim.live().to_vec();
    members.sort_unstable();
    let members: Vec<u32> = members.iter().copied().step_by(NODES / MEMBERS).collect();
    for &m in &members {
        sim.command(m, Command::app(ScribeCommand::Subscribe(group)));
    }
    sim.run_until(sim.now() + Duration::from_secs(2));
    let subscribed: BTreeSet<u32> = events(&sim)
        .into_iter()
        .filter(|(_, e)| matches!(e, ScribeEvent::Subscribed { .. }))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(subscribed.len(), members.len(), "every member attached");
    check_tree(&mut sim, &group, &members);

    // Every member gets every message, in order per publisher.
    let publishers = [members[0], members[7], sim.live()[3]];
    publish_and_check(&mut sim, group, &members, &publishers, 30);

    // Anycast from a non-member reaches a member.
    let outsider = *sim
        .live()
        .iter()
        .find(|a| !members.contains(a))
        .expect("outsider");
    sim.events.clear();
    let payload = b"anyone?".to_vec();
    sim.command(
        outsider,
        Command::app(ScribeCommand::Anycast { group, payload }),
    );
    sim.run_until(sim.now() + Duration::from_secs(3));
    let done = events(&sim).into_iter().find_map(|(n, e)| match e {
        ScribeEvent::AnycastDone { by, .. } if n == outsider => Some(by),
        _ => None,
    });
    let by = done.expect("the anycast ended").expect("a member took it");
    assert!(members.contains(&by.addr), "anycast delivered at a member");

    // 20% of the nodes crash (publishers spared); the trees repair within a few
    // heartbeats, and every surviving member gets what is published after.
    let mut victims: Vec<u32> = sim.live().to_vec();
    victims.sort_unstable();
    let victims: Vec<u32> = victims
        .into_iter()
        .filter(|a| !publishers.contains(a))
        .step_by(5)
        .collect();
    for v in &victims {
        sim.crash(*v);
    }
    sim.run_until(sim.now() + Duration::from_secs(30));
    // Scribe cannot reach past the overlay: members from which the overlay's own routing
    // no longer reaches the root (CAN can leave a small island after many crashes close
    // together) are left out, and there may be few of them.
    let live: Vec<u32> = members
        .iter()
        .copied()
        .filter(|m| sim.node(*m).is_some())
        .collect();
    let (members, cut_off): (Vec<u32>, Vec<u32>) = live
        .into_iter()
        .partition(|m| routes_to_root(&mut sim, *m, &group));
    assert!(
        cut_off.len() <= 2,
        "members the overlay cannot route from: {cut_off:?}"
    );
    check_tree(&mut sim, &group, &members);
    publish_and_check(&mut sim, group, &members, &publishers, 20);

    // Unsubscribing leaves only the paths of the remaining members in the tree.
    let (stay, go): (Vec<u32>, Vec<u32>) = members
        .iter()
        .copied()
        .filter(|m| sim.node(*m).is_some())
        .partition(|m| m % 4 == 0);
    for &m in &go {
        sim.command(m, Command::app(ScribeCommand::Unsubscribe(group)));
    }
    sim.run_until(sim.now() + Duration::from_secs(10));
    check_tree(&mut sim, &group, &stay);
    let mut needed: BTreeSet<u32> = BTreeSet::new();
    let ids: BTreeMap<NodeId, u32> = sim
        .live()
        .iter()
        .map(|a| (sim.contact(*a).id, *a))
        .collect();
    for &m in &stay {
        let path = scribe(&sim, m)
            .and_then(|s| s.group(&group))
            .expect("in tree")
            .path();
        needed.extend(path.iter().map(|id| ids[id]));
    }
    let holding: Vec<u32> = sim
        .live()
        .iter()
        .copied()
        .filter(|a| scribe(&sim, *a).is_some_and(|s| s.group(&group).is_some()))
        .collect();
    let holding: BTreeSet<u32> = holding
        .into_iter()
        .filter(|a| routes_to_root(&mut sim, *a, &group))
        .collect();
    assert_eq!(holding, needed, "forwarders off every member's path pruned");

    // The root crashes, then its successor leaves gracefully, then new nodes join (one
    // may become the group id's root): each time the tree re-roots at the overlay's root
    // without losing a member.
    let members = stay;
    let publishers = [members[0], members[members.len() - 1]];
    let root = sim.truth_root(&group).expect("root");
    assert!(
        !publishers.contains(&root),
        "publishers are members, spared"
    );
    sim.crash(root);
    sim.run_until(sim.now() + Duration::from_secs(20));
    check_tree(&mut sim, &group, &members);
    publish_and_check(&mut sim, group, &members, &publishers, 10);
    let root = sim.truth_root(&group).expect("root");
    if !publishers.contains(&root) {
        sim.leave(root);
        sim.run_until(sim.now() + Duration::from_secs(10));
        check_tree(&mut sim, &group, &members);
        publish_and_check(&mut sim, group, &members, &publishers, 10);
    }
    for _ in 0..15 {
        let via = sim.random_joined();
        sim.spawn(via);
        sim.run_until(sim.now() + Duration::from_secs(2));
    }
    sim.run_until(sim.now() + Duration::from_secs(30));
    check_tree(&mut sim, &group, &members);
    publish_and_check(&mut sim, group, &members, &publishers, 10);
}

/// With a child limit of 3, the bottleneck remover keeps every node at 3 children or
/// fewer while 100 of 150 Pastry nodes subscribe, and the tree still reaches everyone.
#[test]
fn bottleneck_remover_bounds_children() {
    let cfg = std::sync::Arc::new(multicast::ScribeConfig {
        max_children: 3,
        ..Default::default()
    });
    let make = std::sync::Arc::new(move |_: &overlay::Contact<u32>| {
        (Scribe::new(std::sync::Arc::clone(&cfg)), ())
    });
    let mut sim = Simulator::<dht_pastry::Pastry<u32>, Apps>::with_apps(
        Default::default(),
        SimConfig::default(),
        5,
        make,
    );
    sim.build_oracle(NODES);
    let group = Key::hash("crowded");
    let members: Vec<u32> = sim.live().iter().copied().take(100).collect();
    for &m in &members {
        sim.command(m, Command::app(ScribeCommand::Subscribe(group)));
    }
    sim.run_until(sim.now() + Duration::from_secs(10));
    let most = sim
        .live()
        .iter()
        .filter_map(|a| scribe(&sim, *a).and_then(|s| s.group(&group)))
        .map(|g| g.child_count())
        .max();
    assert!(most.is_some_and(|m| m <= 3), "at most 3 children: {most:?}");
    check_tree(&mut sim, &group, &members);
    publish_and_check(&mut sim, group, &members, &members[..2], 10);
}

#[test]
fn chord() {
    scenario::<dht_chord::Chord<u32>>(Default::default());
}

#[test]
fn pastry() {
    scenario::<dht_pastry::Pastry<u32>>(Default::default());
}

#[test]
fn tapestry() {
    scenario::<dht_tapestry::Tapestry<u32>>(Default::default());
}

#[test]
fn can() {
    scenario::<dht_can::Can<u32>>(Default::default());
}
