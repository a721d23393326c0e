//! A router-level underlay for the simulator: a seeded transit-stub topology in the style
//! of GT-ITM (Zegura, Calvert and Bhattacharjee, 1996), as the Scribe and Pastry papers
//! used. Overlay nodes attach to stub routers; a message's delay is the shortest path
//! between their routers plus the two access links, and the physical links a message
//! crosses can be listed, for link stress.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The shape of a transit-stub topology. The default is the Scribe paper's: 10 transit
/// domains of 5 routers, 10 stub domains of 10 routers per transit router (5,050 routers).
#[derive(Clone, Debug, PartialEq)]
pub struct TransitStubConfig {
    /// Transit domains.
    pub transit_domains: usize,
    /// Routers per transit domain.
    pub transit_routers: usize,
    /// Stub domains hanging off each transit router.
    pub stubs_per_transit_router: usize,
    /// Routers per stub domain.
    pub stub_routers: usize,
    /// Probability of an extra link between two routers of one domain, beyond the
    /// spanning tree that keeps it connected.
    pub extra_link: f64,
    /// Delay ranges in microseconds: between transit domains, inside one, from a stub
    /// domain to its transit router, inside a stub domain, and a node's access link.
    pub inter_transit_us: (u32, u32),
    /// See `inter_transit_us`.
    pub intra_transit_us: (u32, u32),
    /// See `inter_transit_us`.
    pub stub_transit_us: (u32, u32),
    /// See `inter_transit_us`.
    pub intra_stub_us: (u32, u32),
    /// See `inter_transit_us`.
    pub access_us: u32,
}

impl Default for TransitStubConfig {
    fn default() -> Self {
        TransitStubConfig {
            transit_domains: 10,
            transit_routers: 5,
            stubs_per_transit_router: 10,
            stub_routers: 10,
            extra_link: 0.3,
            inter_transit_us: (20_000, 60_000),
            intra_transit_us: (5_000, 20_000),
            stub_transit_us: (2_000, 10_000),
            intra_stub_us: (500, 3_000),
            access_us: 1_000,
        }
    }
}

/// A generated topology with every router's shortest paths to every other.
#[derive(Debug)]
pub struct Underlay {
    routers: usize,
    /// Stub routers (nodes attach to these).
    stubs: Vec<u32>,
    /// Links as (a, b, delay µs), a < b.
    links: Vec<(u32, u32, u32)>,
    /// `dist[s * routers + t]`: shortest delay in µs.
    dist: Vec<u32>,
    /// `via[s * routers + t]`: the link index by which the shortest path from `s` enters
    /// `t` (`u32::MAX` for `t == s`).
    via: Vec<u32>,
    access_us: u32,
    seed: u64,
}

impl Underlay {
    /// Generates a transit-stub topology from `seed`.
    pub fn transit_stub(cfg: &TransitStubConfig, seed: u64) -> Underlay {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x7a5e_57ab);
        let mut links: Vec<(u32, u32, u32)> = Vec::new();
        let draw = |rng: &mut Xoshiro256PlusPlus, (lo, hi): (u32, u32)| {
            if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            }
        };
        let mut next = 0u32;
        let domain = |rng: &mut Xoshiro256PlusPlus,
                      links: &mut Vec<(u32, u32, u32)>,
                      size: usize,
                      delay: (u32, u32),
                      next: &mut u32|
         -> Vec<u32> {
            let routers: Vec<u32> = (0..size as u32).map(|i| *next + i).collect();
            *next += size as u32;
            // A random spanning tree, then extra links.
            for i in 1..routers.len() {
                let j = rng.random_range(0..i);
                links.push((routers[j], routers[i], draw(rng, delay)));
            }
            for i in 0..routers.len() {
                for j in i + 2..routers.len() {
                    if rng.random::<f64>() < cfg.extra_link / routers.len() as f64 * 2.0 {
                        links.push((routers[i], routers[j], draw(rng, delay)));
                    }
                }
            }
            routers
        };
        let mut transit: Vec<Vec<u32>> = Vec::new();
        for _ in 0..cfg.transit_domains {
            let d = domain(
                &mut rng,
                &mut links,
                cfg.transit_routers,
                cfg.intra_transit_us,
                &mut next,
            );
            transit.push(d);
        }
        // Transit domains in a ring, plus random chords: every domain reaches every other.
        let t = transit.len();
        for i in 0..t {
            let peers = if t > 2 {
                [(i + 1) % t, rng.random_range(0..t)]
            } else {
                [(i + 1) % t, i]
            };
            for j in peers {
                if j != i {
                    let a = transit[i][rng.random_range(0..transit[i].len())];
                    let b = transit[j][rng.random_range(0..transit[j].len())];
                    links.push((a.min(b), a.max(b), draw(&mut rng, cfg.inter_transit_us)));
                }
            }
        }
        let mut stubs = Vec::new();
        for d in &transit {
            for &tr in d {
                for _ in 0..cfg.stubs_per_transit_router {
                    let s = domain(
                        &mut rng,
                        &mut links,
                        cfg.stub_routers,
                        cfg.intra_stub_us,
                        &mut next,
                    );
                    let gw = s[rng.random_range(0..s.len())];
                    links.push((tr, gw, draw(&mut rng, cfg.stub_transit_us)));
                    stubs.extend(s);
                }
            }
        }
        for l in &mut links {
            if l.0 > l.1 {
                std::mem::swap(&mut l.0, &mut l.1);
            }
        }
        let routers = next as usize;
        let (dist, via) = all_shortest_paths(routers, &links);
        Underlay {
            routers,
            stubs,
            links,
            dist,
            via,
            access_us: cfg.access_us,
            seed,
        }
    }

    /// Routers in all.
    pub fn routers(&self) -> usize {
        self.routers
    }

    /// Physical links in all.
    pub fn links(&self) -> usize {
        self.links.len()
    }

    /// The stub router overlay node `addr` attaches to (a seeded hash of its address).
    pub fn router_of(&self, addr: u32) -> u32 {
        let h = crate::sim::latency::splitmix64(self.seed ^ u64::from(addr).rotate_left(32));
        self.stubs[(h % self.stubs.len() as u64) as usize]
    }

    /// Delay between two overlay nodes: their routers' shortest path plus both access
    /// links (one access link each way when they share a router, none to itself).
    pub fn delay(&self, from: u32, to: u32) -> Duration {
        if from == to {
            return Duration::ZERO;
        }
        let (a, b) = (self.router_of(from), self.router_of(to));
        let d = self.dist[a as usize * self.routers + b as usize] + 2 * self.access_us;
        Duration::from_micros(u64::from(d))
    }

    /// The physical links (as indices) on the shortest path between two nodes' routers.
    pub fn path_links(&self, from: u32, to: u32, out: &mut Vec<u32>) {
        let (s, mut t) = (self.router_of(from), self.router_of(to));
        while t != s {
            let l = self.via[s as usize * self.routers + t as usize];
            out.push(l);
            let (a, b, _) = self.links[l as usize];
            t = if a == t { b } else { a };
        }
    }

    /// The links of the shortest-path tree from `from`'s router to the routers of `to`
    /// (IP multicast's tree: every link once).
    pub fn tree_links(&self, from: u32, to: &[u32]) -> Vec<u32> {
        let mut seen = vec![false; self.links.len()];
        let mut path = Vec::new();
        for &m in to {
            path.clear();
            self.path_links(from, m, &mut path);
            for &l in &path {
                seen[l as usize] = true;
            }
        }
        (0..self.links.len() as u32)
            .filter(|l| seen[*l as usize])
            .collect()
    }
}

/// Dijkstra from every router over the undirected links.
fn all_shortest_paths(n: usize, links: &[(u32, u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut adj: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (i, &(a, b, _)) in links.iter().enumerate() {
        adj[a as usize].push((b, i as u32));
        adj[b as usize].push((a, i as u32));
    }
    let mut dist = vec![u32::MAX; n * n];
    let mut via = vec![u32::MAX; n * n];
    let mut heap = BinaryHeap::new();
    for s in 0..n {
        let row = s * n;
        dist[row + s] = 0;
        heap.push(Reverse((0u32, s as u32)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[row + u as usize] {
                continue;
            }
            for &(v, l) in &adj[u as usize] {
                let nd = d + links[l as usize].2;
                if nd < dist[row + v as usize] {
                    dist[row + v as usize] = nd;
                    via[row + v as usize] = l;
                    heap.push(Reverse((nd, v)));
                }
            }
        }
    }
    (dist, via)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> TransitStubConfig {
        TransitStubConfig {
            transit_domains: 3,
            transit_routers: 3,
            stubs_per_transit_router: 2,
            stub_routers: 4,
            ..TransitStubConfig::default()
        }
    }

    #[test]
    fn connected_symmetric_and_paths_add_up() {
        let u = Underlay::transit_stub(&small(), 3);
        assert_eq!(u.routers(), 9 + 9 * 2 * 4);
        for a in 0..40u32 {
            for b in 0..40u32 {
                let d = u.delay(a, b);
                assert_eq!(d, u.delay(b, a), "symmetric");
                assert!(d < Duration::from_secs(1), "connected");
                let mut links = Vec::new();
                u.path_links(a, b, &mut links);
                let sum: u32 = links.iter().map(|l| u.links[*l as usize].2).sum();
                let want = if a == b { 0 } else { sum + 2 * u.access_us };
                assert_eq!(d.as_micros() as u32, want, "the path is the shortest delay");
            }
        }
    }

    #[test]
    fn same_seed_same_topology() {
        let (a, b) = (
            Underlay::transit_stub(&small(), 9),
            Underlay::transit_stub(&small(), 9),
        );
        assert_eq!(a.links, b.links);
        let c = Underlay::transit_stub(&small(), 10);
        assert_ne!(a.links, c.links);
    }

    #[test]
    fn the_default_is_the_scribe_papers_size() {
        let u = Underlay::transit_stub(&TransitStubConfig::default(), 1);
        assert_eq!(u.routers(), 5050);
        assert!(u.delay(1, 2) > Duration::ZERO);
    }
}
