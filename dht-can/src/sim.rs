//! What the simulator needs from CAN: zone-based ground truth, the oracle partition, the
//! convergence check, the theory.

use smallvec::smallvec;
use std::time::Duration;

use overlay::sim::{GroundTruth, SimRouting, build_in_parallel};
use overlay::{Contact, Key, Routing};

use crate::can::Can;
use crate::config::CanConfig;
use crate::messages::{CanTimer, Peer};
use crate::zone::{Zone, key_path};
use crate::zone_map::ZoneMap;

/// The owner of a key is the node whose zone holds its point; zones follow the join
/// history, so the truth is read from the nodes themselves.
#[derive(Default, Debug)]
pub struct CanTruth {
    map: ZoneMap,
}

impl GroundTruth<Can<u32>> for CanTruth {
    fn insert(&mut self, _node: &Contact<u32>) {}

    fn remove(&mut self, _node: &Contact<u32>) {}

    fn root(&self, key: &Key) -> Option<u32> {
        self.map.owner(key).map(|a| a as u32)
    }

    fn refresh(&mut self, nodes: &mut dyn Iterator<Item = &Can<u32>>) -> bool {
        let mut map = ZoneMap::default();
        for n in nodes {
            for z in n.zones() {
                map.insert(*z, n.me().addr as usize);
            }
        }
        self.map = map;
        true
    }
}

/// Whether two zone lists hold the same zones, in any order.
fn same_zones(a: &[Zone], b: &[Zone]) -> bool {
    a.len() == b.len() && a.iter().all(|z| b.contains(z))
}

/// The order in which the oracle lets `members` join: by their ids' low bits, which are
/// independent of the high bits that place them.
fn join_order(members: &[Contact<u32>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| {
        let b = members[i].id.as_bytes();
        u64::from_le_bytes(b[12..20].try_into().expect("8 bytes"))
    });
    order
}

/// Neighbour lists after `old`'s zone split, `new` taking one half: each of `old`'s former
/// neighbours abuts one half or both, and the halves abut each other.
fn split_neighbours(
    nbrs: &mut [Vec<u32>],
    zone_of: &[Option<Zone>],
    old: usize,
    new: usize,
    d: usize,
) {
    let bounds = |o: usize| zone_of[o].expect("neighbours own zones").bounds(d);
    let (new_b, old_b) = (bounds(new), bounds(old));
    let former = std::mem::take(&mut nbrs[old]);
    let mut kept = Vec::with_capacity(former.len() + 1);
    let mut theirs = Vec::with_capacity(former.len() + 1);
    for &o in &former {
        let b = bounds(o as usize);
        let (with_old, with_new) = (b.abuts(&old_b, d), b.abuts(&new_b, d));
        if with_old {
            kept.push(o);
        }
        if with_new {
            theirs.push(o);
        }
        let list = &mut nbrs[o as usize];
        if !with_old {
            list.retain(|&x| x as usize != old);
        }
        if with_new {
            list.push(new as u32);
        }
    }
    kept.push(new as u32);
    theirs.push(old as u32);
    nbrs[old] = kept;
    nbrs[new] = theirs;
}

impl SimRouting for Can<u32> {
    type Truth = CanTruth;

    fn oracle<T: Send>(
        members: &[Contact<u32>],
        config: &CanConfig,
        wrap: &(dyn Fn(Self) -> T + Sync),
    ) -> Vec<T> {
        let d = config.dims;
        let mut map = ZoneMap::default();
        let mut zone_of: Vec<Option<Zone>> = vec![None; members.len()];
        // Kept up to date split by split, as the protocol's updates do: a half's
        // neighbours are among its parent's and its sibling, so no global search is needed.
        let mut nbrs: Vec<Vec<u32>> = vec![Vec::new(); members.len()];
        for i in join_order(members) {
            let key = &members[i].id;
            let Some((mut zone, mut old)) = map.find_path(key_path(key)) else {
                map.insert(Zone::WHOLE, i);
                zone_of[i] = Some(Zone::WHOLE);
                continue;
            };
            if config.uniform_partitioning {
                // As the protocol: a neighbour with a larger zone splits instead.
                let larger = nbrs[old]
                    .iter()
                    .map(|&o| (zone_of[o as usize].expect("neighbours own zones"), o))
                    .filter(|(z, _)| z.depth() < zone.depth())
                    .min_by(|a, b| {
                        let id = |o: u32| members[o as usize].id;
                        a.0.depth()
                            .cmp(&b.0.depth())
                            .then_with(|| id(a.1).cmp(&id(b.1)))
                    });
                if let Some((z, o)) = larger {
                    zone = z;
                    old = o as usize;
                }
            }
            if let Some((a, b)) = map.split(zone, old, key, i) {
                zone_of[i] = Some(a);
                zone_of[old] = Some(b);
                split_neighbours(&mut nbrs, &zone_of, old, i, d);
            }
        }
        build_in_parallel(
            members.len(),
            || (),
            |_, i| {
                let zone = zone_of[i].expect("every member owns a zone");
                let peers = nbrs[i]
                    .iter()
                    .map(|&o| Peer {
                        contact: members[o as usize].clone(),
                        zones: smallvec![zone_of[o as usize].expect("every member owns a zone")],
                    })
                    .collect();
                wrap(Can::from_tables(
                    members[i].clone(),
                    config.clone(),
                    vec![zone],
                    peers,
                ))
            },
        )
    }

    fn maintenance_timers(&self, config: &CanConfig) -> Vec<(Duration, CanTimer<u32>)> {
        vec![(config.update_interval, CanTimer::Update)]
    }

    fn agrees_with(&self, ideal: &Self) -> bool {
        let ids = |c: &Self| {
            let mut v: Vec<Key> = c.neighbours().iter().map(|n| n.peer.contact.id).collect();
            v.sort();
            v
        };
        self.zones() == ideal.zones() && ids(self) == ids(ideal)
    }

    fn converged(nodes: &[&Self], config: &CanConfig) -> usize {
        let d = config.dims;
        let mut map = ZoneMap::default();
        let mut count = 0;
        let mut total = 0.0;
        for (i, n) in nodes.iter().enumerate() {
            for z in n.zones() {
                map.insert(*z, i);
                count += 1;
                total += z.volume();
            }
        }
        if map.len() != count || (total - 1.0).abs() > 1e-9 {
            // Zones overlap or leave a hole: a takeover is still under way.
            return 0;
        }
        let mut ns = Vec::new();
        nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| {
                ns.clear();
                for z in n.zones() {
                    map.neighbours(z, d, &mut ns);
                }
                let mut truth: Vec<Key> = ns
                    .iter()
                    .filter(|o| *o != i)
                    .map(|&o| nodes[o].me().id)
                    .collect();
                truth.sort();
                truth.dedup();
                let mut mine: Vec<Key> = n.neighbours().iter().map(|x| x.peer.contact.id).collect();
                mine.sort();
                // What it holds about each neighbour's zones must be current too: greedy
                // routing names a neighbour as the owner from it.
                let current = n.neighbours().iter().all(|x| {
                    let at = nodes.binary_search_by(|m| m.me().id.cmp(&x.peer.contact.id));
                    at.is_ok_and(|j| same_zones(&x.peer.zones, nodes[j].zones()))
                });
                mine == truth && current
            })
            .count()
    }

    fn theory_hops(n: usize, config: &CanConfig) -> f64 {
        let d = config.dims as f64;
        d / 4.0 * (n.max(1) as f64).powf(1.0 / d)
    }

    fn params(config: &CanConfig) -> Vec<(&'static str, String)> {
        vec![
            ("d", config.dims.to_string()),
            (
                "update_interval_s",
                config.update_interval.as_secs_f64().to_string(),
            ),
            (
                "takeover_delay_s",
                config.takeover_delay.as_secs_f64().to_string(),
            ),
        ]
    }
}
