//! The simulation loop: arrivals, departures, choking, and the bytes of each step.

use rand::seq::SliceRandom;
use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::fluid::{FluidParams, integrate, steady_state_download_s};
use super::neighbours::{LOW_WATER, Peers, announce, disconnect};
use super::peer::{PeerIdx, SimPeer};
use super::rates::{Uploader, share};
use super::{Picker, Sample, SwarmConfig, SwarmReport};
use crate::session::Bitfield;

/// Regular unchokes per peer.
const UNCHOKES: usize = 4;
/// Seconds between re-choices of the regular unchokes.
const RECHOKE_S: f64 = 10.0;
/// The optimistic unchoke rotates every this many re-choices (30 s).
const OPTIMISTIC_EVERY: u64 = 3;
/// Pieces a downloader picks at random before it turns to the rarest.
const RANDOM_FIRST: u32 = 4;

/// Runs the swarm `cfg` describes to its end (every downloader finished) or its
/// `max_time`. Panics if [`SwarmConfig::check`] fails.
pub fn simulate(cfg: &SwarmConfig) -> SwarmReport {
    if let Err(e) = cfg.check() {
        panic!("bad swarm configuration: {e}");
    }
    Swarm::new(cfg).run()
}

struct Swarm<'a> {
    cfg: &'a SwarmConfig,
    rng: Xoshiro256PlusPlus,
    peers: Peers,
    /// Present peers, in index order.
    present: Vec<PeerIdx>,
    /// Arrival times of the downloaders, sorted; downloader `k` is peer `seeds + k`.
    arrivals: Vec<f64>,
    free_riders: Vec<bool>,
    /// Each downloader's time from arrival to its last piece, once it has it.
    download_times: Vec<Option<f64>>,
    /// How long each finished downloader was drawn to stay as a seed.
    seed_stays: Vec<f64>,
    next_arrival: usize,
    /// Copies of each piece among the present peers.
    copies: Vec<u32>,
    now: f64,
    /// Uploaded bytes, and what could have been, since the last sample and over the run.
    sent: f64,
    capacity: f64,
    sent_total: f64,
    capacity_total: f64,
    samples: Vec<Sample>,
}

impl<'a> Swarm<'a> {
    fn new(cfg: &'a SwarmConfig) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
        let arrivals = arrival_times(cfg, &mut rng);
        let riders = (cfg.free_riders * cfg.peers as f64).round() as usize;
        let mut free_riders: Vec<bool> = (0..cfg.peers).map(|k| k < riders).collect();
        free_riders.shuffle(&mut rng);
        let pieces = cfg.pieces();
        let mut swarm = Swarm {
            cfg,
            rng,
            peers: Vec::with_capacity(cfg.seeds + cfg.peers),
            present: Vec::new(),
            arrivals,
            free_riders,
            download_times: vec![None; cfg.peers],
            seed_stays: Vec::new(),
            next_arrival: 0,
            copies: vec![0; pieces as usize],
            now: 0.0,
            sent: 0.0,
            capacity: 0.0,
            sent_total: 0.0,
            capacity_total: 0.0,
            samples: Vec::new(),
        };
        for _ in 0..cfg.seeds {
            let mut seed = SimPeer::new(0.0, cfg.upload, cfg.download, Bitfield::full(pieces));
            seed.leaves = cfg.seeds_leave_at;
            swarm.peers.push(Some(seed));
            swarm.present.push(swarm.peers.len() - 1);
        }
        swarm
    }

    fn run(mut self) -> SwarmReport {
        let dt = self.cfg.step;
        let sample_every = (1.0 / dt).round().max(1.0) as u64;
        let mut step = 0u64;
        loop {
            self.admit_arrivals();
            self.depart();
            self.rechoke();
            self.fill_free_slots();
            self.transfer(dt);
            step += 1;
            self.now = step as f64 * dt;
            let downloading = self.downloaders() > 0;
            if step % sample_every == 0 {
                self.sample();
            }
            let all_arrived = self.next_arrival == self.arrivals.len();
            if (all_arrived && !downloading) || self.lost_a_piece() || self.now >= self.cfg.max_time
            {
                break;
            }
        }
        self.sample();
        self.report()
    }

    /// Whether some piece is gone for good: the initial seeds left, and nobody else has
    /// it, so no downloader can finish any more.
    fn lost_a_piece(&self) -> bool {
        self.present.first().is_none_or(|&i| i >= self.cfg.seeds) && self.copies.contains(&0)
    }

    fn peer(&self, i: PeerIdx) -> &SimPeer {
        self.peers[i].as_ref().expect("present")
    }

    fn peer_mut(&mut self, i: PeerIdx) -> &mut SimPeer {
        self.peers[i].as_mut().expect("present")
    }

    fn downloaders(&self) -> usize {
        self.present
            .iter()
            .filter(|&&i| !self.peer(i).is_seed())
            .count()
    }

    fn admit_arrivals(&mut self) {
        while self.next_arrival < self.arrivals.len()
            && self.arrivals[self.next_arrival] <= self.now
        {
            let k = self.next_arrival;
            self.next_arrival += 1;
            let upload = if self.free_riders[k] {
                0.0
            } else {
                self.cfg.upload
            };
            let peer = SimPeer::new(
                self.now,
                upload,
                self.cfg.download,
                Bitfield::empty(self.cfg.pieces()),
            );
            self.peers.push(Some(peer));
            let idx = self.peers.len() - 1;
            announce(&mut self.peers, &self.present, idx, &mut self.rng);
            self.present.push(idx);
        }
    }

    fn depart(&mut self) {
        let now = self.now;
        let leaving: Vec<PeerIdx> = self
            .present
            .iter()
            .copied()
            .filter(|&i| self.peer(i).leaves.is_some_and(|t| t <= now))
            .collect();
        for i in leaving {
            let neighbours: Vec<PeerIdx> = self.peer(i).neighbours.keys().copied().collect();
            for n in neighbours {
                disconnect(&mut self.peers, i, n);
            }
            let gone = self.peers[i].take().expect("present");
            if i >= self.cfg.seeds {
                for p in gone.have.ones() {
                    self.copies[p as usize] -= 1;
                }
            }
            self.present.retain(|&x| x != i);
        }
    }

    /// Every uploader whose period is up re-chooses its four regular unchokes by what they
    /// gave it (a seed: by what it gave them) and, every third time, its optimistic one.
    fn rechoke(&mut self) {
        let now = self.now;
        let due: Vec<PeerIdx> = self
            .present
            .iter()
            .copied()
            .filter(|&i| self.peer(i).next_rechoke <= now)
            .collect();
        for u in due {
            if self.peer(u).neighbours.len() < LOW_WATER {
                announce(&mut self.peers, &self.present, u, &mut self.rng);
            }
            let mut candidates = self.interested_in(u);
            candidates.shuffle(&mut self.rng);
            let p = self.peer(u);
            let seed = p.is_seed();
            let rate = |d: &PeerIdx| {
                let f = p.neighbours[d];
                if seed { f.to } else { f.from }
            };
            candidates.sort_by(|a, b| rate(b).total_cmp(&rate(a)));
            let regular: Vec<PeerIdx> = candidates.iter().copied().take(UNCHOKES).collect();
            let rotate = p.rechokes % OPTIMISTIC_EVERY == 0;
            let keep = p
                .optimistic
                .filter(|o| candidates.contains(o) && !regular.contains(o));
            let rest: Vec<PeerIdx> = candidates.iter().copied().skip(UNCHOKES).collect();
            let optimistic = if rotate || keep.is_none() {
                (!rest.is_empty()).then(|| rest[self.rng.random_range(0..rest.len())])
            } else {
                keep
            };
            let p = self.peer_mut(u);
            p.unchoked = regular;
            p.optimistic = optimistic;
            p.rechokes += 1;
            p.next_rechoke += RECHOKE_S;
            for f in p.neighbours.values_mut() {
                *f = Default::default();
            }
        }
    }

    /// Neighbours of `u` that lack a piece it has, if it uploads at all.
    fn interested_in(&self, u: PeerIdx) -> Vec<PeerIdx> {
        let p = self.peer(u);
        if p.upload <= 0.0 {
            return Vec::new();
        }
        p.neighbours
            .keys()
            .copied()
            .filter(|&d| self.peer(d).wants_from(&p.have))
            .collect()
    }

    /// Unchokes that lost interest are dropped, and a free slot goes at once to a newly
    /// interested neighbour, as the real choker does.
    fn fill_free_slots(&mut self) {
        for k in 0..self.present.len() {
            let u = self.present[k];
            let p = self.peer(u);
            if p.upload <= 0.0 {
                continue;
            }
            let still = |d: &PeerIdx| self.peer(*d).wants_from(&p.have);
            let mut unchoked: Vec<PeerIdx> = p.unchoked.iter().copied().filter(still).collect();
            let optimistic = p.optimistic.filter(still);
            if unchoked.len() < UNCHOKES {
                for d in self.interested_in(u) {
                    if unchoked.len() == UNCHOKES {
                        break;
                    }
                    if !unchoked.contains(&d) && optimistic != Some(d) {
                        unchoked.push(d);
                    }
                }
            }
            let p = self.peer_mut(u);
            p.unchoked = unchoked;
            p.optimistic = optimistic;
        }
    }

    /// One step's bytes: each uploader's capacity shared among its unchokes, and each
    /// downloader's among those sending to it (see [`share`]).
    fn transfer(&mut self, dt: f64) {
        let mut from = Vec::new();
        let mut uploaders = Vec::new();
        let mut capacity = 0.0;
        for &u in &self.present {
            let p = self.peer(u);
            capacity += p.upload * dt;
            let to: Vec<PeerIdx> = p.slots().collect();
            if !to.is_empty() && p.upload > 0.0 {
                from.push(u);
                uploaders.push(Uploader {
                    capacity: p.upload,
                    to,
                });
            }
        }
        let rates = share(&uploaders, self.peers.len(), |d| self.peer(d).download);
        let offers: Vec<(PeerIdx, PeerIdx, f64)> = from
            .iter()
            .zip(&uploaders)
            .zip(&rates)
            .flat_map(|((&u, up), r)| up.to.iter().zip(r).map(move |(&d, &x)| (u, d, x)))
            .collect();
        let mut sent = 0.0;
        for (u, d, rate) in offers {
            let got = self.deliver(u, d, rate * dt);
            sent += got;
            if let Some(f) = self.peer_mut(d).neighbours.get_mut(&u) {
                f.from += got;
            }
            if let Some(f) = self.peer_mut(u).neighbours.get_mut(&d) {
                f.to += got;
            }
        }
        if self.downloaders() > 0 {
            self.sent += sent;
            self.capacity += capacity;
        }
    }

    /// Sends up to `bytes` from `u` to `d`, piece after piece; returns the bytes sent.
    fn deliver(&mut self, u: PeerIdx, d: PeerIdx, mut bytes: f64) -> f64 {
        let mut sent = 0.0;
        while bytes > 0.0 {
            let Some(piece) = self.pick(u, d) else {
                break;
            };
            let len = self.cfg.piece_len(piece) as f64;
            let p = self.peer_mut(d);
            let got = p.started.get(&piece).copied().unwrap_or(0.0);
            let take = bytes.min(len - got);
            bytes -= take;
            sent += take;
            if got + take < len {
                p.started.insert(piece, got + take);
            } else {
                p.started.remove(&piece);
                self.completed(d, piece);
            }
        }
        sent
    }

    /// The piece `d` asks `u` for: a started one `u` has, else a new one (random among the
    /// first few, then by the picker).
    fn pick(&mut self, u: PeerIdx, d: PeerIdx) -> Option<u32> {
        let rng = &mut self.rng;
        let (up, down) = (
            self.peers[u].as_ref().expect("present"),
            self.peers[d].as_ref().expect("present"),
        );
        if let Some(&p) = down.started.keys().find(|&&p| up.have.get(p)) {
            return Some(p);
        }
        let random = self.cfg.picker == Picker::Random || down.have.count() < RANDOM_FIRST;
        let mut best: Option<(u16, u32)> = None;
        let mut ties = 0u32;
        for p in up.have.ones() {
            if down.have.get(p) || down.started.contains_key(&p) {
                continue;
            }
            let rank = if random {
                0
            } else {
                down.availability[p as usize]
            };
            match best {
                Some((r, _)) if rank > r => {}
                Some((r, _)) if rank == r => {
                    // Reservoir sampling among the equally rare.
                    ties += 1;
                    if rng.random_range(0..ties) == 0 {
                        best = Some((rank, p));
                    }
                }
                _ => {
                    best = Some((rank, p));
                    ties = 1;
                }
            }
        }
        best.map(|(_, p)| p)
    }

    fn completed(&mut self, d: PeerIdx, piece: u32) {
        let now = self.now;
        let seed_time = self.cfg.seed_time;
        let p = self.peer_mut(d);
        p.have.set(piece);
        let neighbours: Vec<PeerIdx> = p.neighbours.keys().copied().collect();
        let done = p.have.is_full();
        self.copies[piece as usize] += 1;
        for n in &neighbours {
            self.peer_mut(*n).availability[piece as usize] += 1;
        }
        if !done {
            return;
        }
        let stay = seed_time.map(|mean| exponential(&mut self.rng, 1.0 / mean));
        self.seed_stays.extend(stay);
        let p = self.peer_mut(d);
        p.leaves = stay.map(|s| now + s);
        let took = now - p.arrived;
        self.download_times[d - self.cfg.seeds] = Some(took);
        // Seeds have nothing to trade: a client drops its connections to other seeds.
        for n in neighbours {
            if self.peer(n).is_seed() {
                disconnect(&mut self.peers, d, n);
            }
        }
    }

    fn sample(&mut self) {
        let downloaders = self.downloaders();
        let utilisation = if self.capacity > 0.0 {
            self.sent / self.capacity
        } else {
            0.0
        };
        self.sent_total += self.sent;
        self.capacity_total += self.capacity;
        (self.sent, self.capacity) = (0.0, 0.0);
        self.samples.push(Sample {
            t: self.now,
            downloaders,
            seeds: self.present.len() - downloaders,
            rarest_copies: self.copies.iter().copied().min().unwrap_or(0),
            upload_utilisation: utilisation,
            fluid_downloaders: 0.0,
            fluid_seeds: 0.0,
        });
    }

    fn report(mut self) -> SwarmReport {
        let cfg = self.cfg;
        let size = cfg.file_size as f64;
        // The model's seeds leave at the rate the run's seeds did: the mean of the stays
        // drawn, not the configured mean, which a thousand draws miss by a second or so,
        // and every second of seeding is a second off the steady-state download time.
        let seed_time_mean_s = cfg.seed_time.map(|t| {
            if self.seed_stays.is_empty() {
                t
            } else {
                mean(&self.seed_stays)
            }
        });
        let params = FluidParams {
            c: cfg.download / size,
            mu: cfg.upload / size,
            gamma: seed_time_mean_s.map_or(0.0, |t| 1.0 / t.max(cfg.step)),
            eta: 1.0,
            uploading: 1.0 - cfg.free_riders,
            initial_seeds: cfg.seeds as f64,
            seeds_leave_at: cfg.seeds_leave_at,
        };
        let fluid = integrate(&params, &self.arrivals, cfg.step, cfg.max_time * 4.0);
        for s in &mut self.samples {
            let i = ((s.t / cfg.step).round() as usize).min(fluid.series.len() - 1);
            let (_, x, y) = fluid.series[i];
            s.fluid_downloaders = x;
            let initial = if cfg.seeds_leave_at.is_some_and(|at| s.t >= at) {
                0.0
            } else {
                cfg.seeds as f64
            };
            s.fluid_seeds = y + initial;
        }
        let download_times: Vec<f64> = self.download_times.iter().flatten().copied().collect();
        let unfinished = cfg.peers - download_times.len();
        // Steady state: the downloaders that arrived in the second half of the arrivals,
        // long after the warm-up in which the first seed alone has the pieces.
        let half = self.arrivals.last().copied().unwrap_or(0.0) / 2.0;
        let steady: Vec<f64> = self
            .arrivals
            .iter()
            .zip(&self.download_times)
            .filter(|(a, _)| cfg.arrival_rate.is_some() && **a >= half)
            .filter_map(|(_, t)| *t)
            .collect();
        let full_copy_s = self
            .samples
            .iter()
            .find(|s| s.rarest_copies >= 1)
            .map(|s| s.t);
        let after: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.downloaders > 0 && full_copy_s.is_some_and(|t| s.t > t))
            .collect();
        let single = after.iter().filter(|s| s.rarest_copies <= 1).count();
        SwarmReport {
            unfinished,
            duration_s: self.now,
            mean_s: mean(&download_times),
            fluid_mean_s: fluid.mean_download_s,
            steady_mean_s: (!steady.is_empty()).then(|| mean(&steady)),
            fluid_steady_state_s: steady_state_download_s(&params),
            seed_time_mean_s,
            upload_utilisation: if self.capacity_total > 0.0 {
                self.sent_total / self.capacity_total
            } else {
                0.0
            },
            full_copy_s,
            single_copy_share: (!after.is_empty()).then(|| single as f64 / after.len() as f64),
            download_times,
            samples: self.samples,
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// An exponentially distributed draw of rate `rate`.
fn exponential(rng: &mut impl Rng, rate: f64) -> f64 {
    let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    -u.ln() / rate
}

/// When each downloader arrives: all at zero, or a Poisson process.
fn arrival_times(cfg: &SwarmConfig, rng: &mut impl Rng) -> Vec<f64> {
    match cfg.arrival_rate {
        None => vec![0.0; cfg.peers],
        Some(rate) => {
            let mut t = 0.0;
            (0..cfg.peers)
                .map(|_| {
                    let at = t;
                    t += exponential(rng, rate);
                    at
                })
                .collect()
        }
    }
}
