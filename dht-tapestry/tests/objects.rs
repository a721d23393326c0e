//! Tapestry's object location in the simulator: every published object is located, and
//! still is after a fifth of the nodes crash and maintenance runs.

use std::time::Duration;

use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::Key;
use overlay::conformance::grown;
use overlay::sim::Simulator;
use rand::RngExt;

type Sim = Simulator<Tapestry<u32>>;

const OBJECTS: usize = 300;

fn object(i: usize) -> Key {
    Key::hash(format!("object-{i}"))
}

/// Locates each of `objects` from a random node; returns how many named their server.
fn located(sim: &mut Sim, objects: &[usize], servers: &[u32]) -> usize {
    let mut clients = Vec::new();
    for &i in objects {
        let client = sim.random_joined().expect("nodes are live");
        sim.with_node(client, |n, ctx| {
            n.call_routing(ctx, |r, out| r.locate(out, object(i), i as u64))
        });
        clients.push(client);
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    clients.sort_unstable();
    clients.dedup();
    let mut found = 0;
    for c in clients {
        for l in sim.with_node(c, |n, ctx| n.call_routing(ctx, |r, _| r.take_located())) {
            let server = sim.contact(servers[l.tag as usize]).id;
            found += usize::from(l.servers.iter().any(|s| s.id == server));
        }
    }
    found
}

#[test]
fn published_objects_are_located_before_and_after_a_crash() {
    let mut sim = grown::<Tapestry<u32>>(&TapestryConfig::default(), 64, 5);
    let servers: Vec<u32> = (0..OBJECTS)
        .map(|_| sim.random_joined().expect("nodes are live"))
        .collect();
    for (i, &s) in servers.iter().enumerate() {
        sim.with_node(s, |n, ctx| {
            n.call_routing(ctx, |r, out| r.publish(out, object(i)))
        });
    }
    let until = sim.now() + Duration::from_secs(60);
    sim.run_until(until);
    let all: Vec<usize> = (0..OBJECTS).collect();
    assert_eq!(located(&mut sim, &all, &servers), OBJECTS);

    let mut live = sim.live().to_vec();
    for _ in 0..live.len() / 5 {
        let v = live.swap_remove(sim.rng().random_range(0..live.len()));
        sim.crash(v);
    }
    let until = sim.now() + Duration::from_secs(300);
    sim.run_until(until);
    let alive: Vec<usize> = all
        .into_iter()
        .filter(|&i| sim.node(servers[i]).is_some())
        .collect();
    assert!(alive.len() > OBJECTS / 2);
    assert_eq!(located(&mut sim, &alive, &servers), alive.len());
}

#[test]
fn pointers_expire_unless_published_again() {
    let config = TapestryConfig {
        republish_interval: Duration::from_secs(10_000),
        ..TapestryConfig::default()
    };
    let mut sim = grown::<Tapestry<u32>>(&config, 32, 6);
    let server = sim.random_joined().expect("nodes are live");
    sim.with_node(server, |n, ctx| {
        n.call_routing(ctx, |r, out| {
            r.publish(out, object(1));
            r.unpublish(&object(1));
        })
    });
    let until = sim.now() + Duration::from_secs(30);
    sim.run_until(until);
    let holders = |sim: &Sim| {
        sim.live()
            .iter()
            .filter(|&&a| sim.node(a).is_some_and(|n| n.routing().pointer_count() > 0))
            .count()
    };
    assert!(holders(&sim) >= 2, "the path and the roots hold pointers");
    let until = sim.now() + config.pointer_ttl + config.table_interval * 2;
    sim.run_until(until);
    assert_eq!(holders(&sim), 0, "every pointer expired");
}
