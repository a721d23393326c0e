//! The simulator: nodes in a `Vec`, events in one queue, a latency model, loss, crashes,
//! graceful leaves, joins and churn. Same seed, same run, bit for bit.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::Arc;
use std::time::Duration;

use crate::apps::AppSet;
use crate::config::NodeConfig;
use crate::contact::Contact;
use crate::id::Key;
use crate::io::{Command, CommandOf, Ctx, Event, Input, Output, TimerOf};
use crate::node::{DefaultApps, Node, Phase};
use crate::routing::ReqId;
use crate::sim::SimRouting;
use crate::sim::bootstrap::Bootstrap;
use crate::sim::churn::ChurnConfig;
use crate::sim::latency::LatencyModel;
use crate::sim::queue::EventQueue;
use crate::sim::stats::LookupStats;
use crate::sim::truth::GroundTruth;
use crate::time::Time;
use crate::wire::{Wire, WireOf};

/// Simulator parameters.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Message delays.
    pub latency: LatencyModel,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Parameters of every node.
    pub node: NodeConfig,
    /// A request to an address whose node has gone fails at its sender a round trip
    /// later, as a connection to a closed port is refused on a real network. Off, it is
    /// lost and the sender's timeout finds out (a machine that went silent).
    pub refuse_departed: bool,
    /// Through which node [`Simulator::grow`] has each newcomer join.
    pub bootstrap: Bootstrap,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency: LatencyModel::default(),
            loss: 0.0,
            node: NodeConfig {
                // Message delays here are the latency model's alone: the shortest round trip
                // to a peer is its round trip.
                prompt_timeout_floor: Some(Duration::from_millis(100)),
                ..NodeConfig::default()
            },
            refuse_departed: false,
            bootstrap: Bootstrap::Random,
        }
    }
}

/// The events of the default applications (the DHT).
pub type DefaultEvent = <DefaultApps<u32> as AppSet<u32>>::Event;

/// An event a node reported that the simulator passes to its caller (joins, leaves, the
/// applications' events). Lookup results go into [`Simulator::lookup_stats`] instead.
#[derive(Clone, Debug, PartialEq)]
pub struct SimEvent<E = DefaultEvent> {
    /// When.
    pub time: Time,
    /// Which node.
    pub node: u32,
    /// What.
    pub event: Event<u32, E>,
}

/// Makes the applications of a new node.
pub type AppFactory<S> = Arc<dyn Fn(&Contact<u32>) -> S + Send + Sync>;

enum Ev<R: SimRouting, S: AppSet<u32>> {
    // The message is boxed: timers are most of the queue and should not take the space of
    // the largest variant.
    Deliver {
        to: u32,
        from: Contact<u32>,
        msg: Box<WireOf<R, S>>,
    },
    Timer {
        node: u32,
        timer: TimerOf<R, S>,
    },
    Command {
        node: u32,
        cmd: CommandOf<R, S>,
    },
    ChurnArrival,
    ChurnDeparture {
        node: u32,
    },
    /// Request `id` of `node` was refused: its destination has gone.
    Refused {
        node: u32,
        id: ReqId,
    },
}

/// A deterministic discrete-event simulation of one overlay of routing algorithm `R` whose
/// nodes host the applications `S` (by default the DHT).
pub struct Simulator<R: SimRouting, S: AppSet<u32> = DefaultApps<u32>> {
    now: Time,
    nodes: Vec<Option<Node<R, S>>>,
    make_apps: AppFactory<S>,
    /// Each node's clock offset from simulated time, in microseconds (empty: none).
    clock_offsets: Vec<i64>,
    contacts: Vec<Contact<u32>>,
    /// Seeds the hash that places nodes in the latency model's plane.
    place_seed: u64,
    live: Vec<u32>,
    live_pos: Vec<u32>,
    queue: EventQueue<Ev<R, S>>,
    rng: Xoshiro256PlusPlus,
    cfg: SimConfig,
    routing_cfg: R::Config,
    truth: R::Truth,
    /// Membership changed since the truth last read the nodes' state.
    truth_stale: bool,
    churn: Option<ChurnConfig>,
    /// Whether maintenance timers (routing timers, replica repair) still fire.
    maintenance: bool,
    out: Vec<Output<R, S>>,
    /// Lookups (from [`Command::Lookup`]) checked against the ground truth.
    pub lookup_stats: LookupStats,
    /// Events for the caller: DHT results, deliveries, joins, leaves.
    pub events: Vec<SimEvent<S::Event>>,
    messages: u64,
    processed: u64,
    /// A digest of every event processed, when asked for ([`Simulator::trace_events`]).
    trace: Option<std::hash::DefaultHasher>,
    /// Encoded messages kept for [`Simulator::capture_messages`], and how many more to keep
    /// of each kind.
    captured: Vec<Vec<u8>>,
    capture_per_kind: usize,
    captured_kinds: std::collections::HashMap<String, usize>,
}

const NOT_LIVE: u32 = u32::MAX;

/// Next hops a failed lookup's debug line lists (`RUST_LOG=overlay::sim=debug`).
const LOGGED_NEXT_HOPS: usize = 8;

/// The time on the clock of the node at `addr`.
fn local_time(offsets: &[i64], addr: u32, now: Time) -> Time {
    match offsets.get(addr as usize) {
        Some(&off) if off != 0 => Time(now.0.saturating_add_signed(off)),
        _ => now,
    }
}

impl<R: SimRouting, S: AppSet<u32> + Default> Simulator<R, S> {
    /// An empty simulation seeded with `seed`, whose nodes host their applications with
    /// default parameters.
    pub fn new(routing_cfg: R::Config, cfg: SimConfig, seed: u64) -> Self {
        Self::with_apps(
            routing_cfg,
            cfg,
            seed,
            Arc::new(|_: &Contact<u32>| S::default()),
        )
    }
}

impl<R: SimRouting, S: AppSet<u32>> Simulator<R, S> {
    /// An empty simulation seeded with `seed`, whose nodes get their applications from
    /// `make_apps`.
    pub fn with_apps(
        routing_cfg: R::Config,
        cfg: SimConfig,
        seed: u64,
        make_apps: AppFactory<S>,
    ) -> Self {
        Simulator {
            now: Time::ZERO,
            nodes: Vec::new(),
            make_apps,
            clock_offsets: Vec::new(),
            contacts: Vec::new(),
            live: Vec::new(),
            live_pos: Vec::new(),
            queue: EventQueue::default(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            place_seed: seed.rotate_left(17) ^ 0x05ee_d0f9_1ace,
            cfg,
            routing_cfg,
            truth: R::Truth::default(),
            truth_stale: true,
            churn: None,
            maintenance: true,
            out: Vec::new(),
            lookup_stats: LookupStats::default(),
            events: Vec::new(),
            messages: 0,
            processed: 0,
            trace: None,
            captured: Vec::new(),
            capture_per_kind: 0,
            captured_kinds: std::collections::HashMap::new(),
        }
    }

    /// Current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The simulator's generator, for choices the caller makes (keys, start nodes).
    pub fn rng(&mut self) -> &mut Xoshiro256PlusPlus {
        &mut self.rng
    }

    /// Messages sent so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Events processed so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// From now on, every event processed (its time, node and full contents: each message,
    /// timer and command) goes into a digest, so two runs can be compared event by event
    /// ([`Simulator::trace_digest`]). Costs a formatting of every event: for tests.
    pub fn trace_events(&mut self) {
        self.trace.get_or_insert_with(std::hash::DefaultHasher::new);
    }

    /// From now on, keeps the encoding of up to `per_kind` messages of each kind sent
    /// (kinds told apart by their variant names), as a corpus of real messages to fuzz
    /// decoders from ([`Simulator::captured_messages`]). Costs a formatting of every
    /// message: for tests.
    pub fn capture_messages(&mut self, per_kind: usize) {
        self.capture_per_kind = per_kind;
    }

    /// The messages kept since [`Simulator::capture_messages`].
    pub fn captured_messages(&self) -> &[Vec<u8>] {
        &self.captured
    }

    fn capture(&mut self, msg: &WireOf<R, S>) {
        // The kind: the first few type and variant names (the words that open a brace
        // or a parenthesis), without the fields' values.
        let text = format!("{msg:?}");
        let mut names = Vec::new();
        let mut word = String::new();
        for c in text.chars() {
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            if (c == '{' || c == '(' || c == ' ') && word.starts_with(char::is_uppercase) {
                names.push(std::mem::take(&mut word));
                if names.len() == 5 {
                    break;
                }
            }
            if c != ' ' {
                word.clear();
            }
        }
        let kind = names.join("/");
        let seen = self.captured_kinds.entry(kind).or_insert(0);
        if *seen < self.capture_per_kind {
            *seen += 1;
            self.captured.push(msg.encode());
        }
    }

    /// The digest of the events processed since [`Simulator::trace_events`].
    pub fn trace_digest(&self) -> Option<u64> {
        self.trace.as_ref().map(std::hash::Hasher::finish)
    }

    /// Nodes ever created (live or not): the next node gets this address.
    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// The routing parameters.
    pub fn routing_config(&self) -> &R::Config {
        &self.routing_cfg
    }

    /// The node at address `addr`, if it is alive.
    pub fn node(&self, addr: u32) -> Option<&Node<R, S>> {
        self.nodes.get(addr as usize).and_then(Option::as_ref)
    }

    /// The contact of the node at `addr` (alive or not).
    pub fn contact(&self, addr: u32) -> &Contact<u32> {
        &self.contacts[addr as usize]
    }

    /// Addresses of live nodes (joined or joining).
    pub fn live(&self) -> &[u32] {
        &self.live
    }

    /// A uniformly chosen live node.
    pub fn random_live(&mut self) -> Option<u32> {
        if self.live.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.live.len());
        Some(self.live[i])
    }

    /// Whether the node at `addr` is live and has finished joining.
    fn is_joined(&self, addr: u32) -> bool {
        self.node(addr).is_some_and(|n| n.phase() == Phase::Joined)
    }

    /// A uniformly chosen live node that has finished joining.
    pub fn random_joined(&mut self) -> Option<u32> {
        for _ in 0..64 {
            let a = self.random_live()?;
            if self.is_joined(a) {
                return Some(a);
            }
        }
        self.live.iter().copied().find(|a| self.is_joined(*a))
    }

    /// The joined node nearest address `to` on the router topology (any joined node on
    /// other latency models).
    fn nearest_joined(&mut self, to: u32) -> Option<u32> {
        let LatencyModel::Underlay(underlay) = &self.cfg.latency else {
            return self.random_joined();
        };
        self.live
            .iter()
            .copied()
            .filter(|a| self.is_joined(*a))
            .min_by_key(|a| (underlay.delay(to, *a), *a))
    }

    /// The address of the node truly responsible for `key` now.
    pub fn truth_root(&mut self, key: &Key) -> Option<u32> {
        if self.truth_stale {
            self.refresh_truth();
        }
        self.truth.root(key)
    }

    /// Whether `answer` is the true root of `key`; a truth that reads node state is
    /// rebuilt before it says no.
    fn is_true_root(&mut self, key: &Key, answer: u32) -> bool {
        if self.truth_root(key) == Some(answer) {
            return true;
        }
        self.refresh_truth() && self.truth.root(key) == Some(answer)
    }

    /// The next hops node `addr`'s tables give for `key` now, each marked `+` if its node
    /// is up and `x` if not: what a failed lookup had left to try.
    fn next_hops_now(&self, addr: u32, key: &Key) -> String {
        let Some(node) = &self.nodes[addr as usize] else {
            return String::new();
        };
        let step = node.routing().step(key, LOGGED_NEXT_HOPS);
        let marked: Vec<String> = step
            .contacts()
            .iter()
            .map(|c| {
                let up = self.nodes[c.addr as usize].is_some();
                format!("{}{}", c.addr, if up { '+' } else { 'x' })
            })
            .collect();
        marked.join(" ")
    }

    /// Re-reads a ground truth that depends on node state (CAN's zones, which takeovers
    /// move without the simulator seeing); returns whether it does.
    pub fn refresh_truth(&mut self) -> bool {
        self.truth_stale = false;
        let nodes = &self.nodes;
        let mut joined = self
            .live
            .iter()
            .filter_map(|a| nodes[*a as usize].as_ref())
            .filter(|n| n.phase() == Phase::Joined)
            .map(|n| n.routing());
        self.truth.refresh(&mut joined)
    }

    fn new_slot(&mut self, id: Key) -> Contact<u32> {
        let addr = self.nodes.len() as u32;
        let contact = Contact::new(id, addr);
        self.nodes.push(None);
        self.contacts.push(contact.clone());
        self.live_pos.push(NOT_LIVE);
        contact
    }

    /// Puts `built` (one node per member, in `members`' order) into the members' slots.
    /// When they are all the slots there are (`fresh`: the slot vector was emptied), the
    /// vector is permuted in place and becomes the slot vector, so the nodes are never
    /// held twice.
    fn place_built(
        &mut self,
        members: &[Contact<u32>],
        mut built: Vec<Option<Node<R, S>>>,
        fresh: bool,
    ) {
        if !fresh {
            for (c, node) in members.iter().zip(built) {
                self.nodes[c.addr as usize] = node;
            }
            return;
        }
        // Cycle by cycle: `at[i]` is the slot the node now at `i` belongs in.
        let mut at: Vec<u32> = members.iter().map(|c| c.addr).collect();
        for i in 0..at.len() {
            while at[i] as usize != i {
                let j = at[i] as usize;
                built.swap(i, j);
                at.swap(i, j);
            }
        }
        self.nodes = built;
    }

    fn mark_live(&mut self, addr: u32) {
        self.live_pos[addr as usize] = self.live.len() as u32;
        self.live.push(addr);
    }

    fn mark_dead(&mut self, addr: u32) {
        let pos = self.live_pos[addr as usize];
        if pos == NOT_LIVE {
            return;
        }
        let last = *self.live.last().expect("a live node exists");
        self.live.swap_remove(pos as usize);
        if last != addr {
            self.live_pos[last as usize] = pos;
        }
        self.live_pos[addr as usize] = NOT_LIVE;
    }

    /// Adds a node with a random id and tells it to join through `bootstrap` (or to start
    /// a new overlay). Returns its address.
    pub fn spawn(&mut self, bootstrap: Option<u32>) -> u32 {
        let id = Key::random(&mut self.rng);
        let contact = self.new_slot(id);
        let addr = contact.addr;
        let apps = (self.make_apps)(&contact);
        let routing = R::new(contact, &self.routing_cfg);
        self.nodes[addr as usize] = Some(Node::with_apps(routing, apps, self.cfg.node.clone()));
        self.mark_live(addr);
        let bootstrap = bootstrap.map(|b| self.contacts[b as usize].clone());
        self.queue.push(
            self.now,
            Ev::Command {
                node: addr,
                cmd: Command::Join { bootstrap },
            },
        );
        addr
    }

    /// Adds `n` nodes with random ids whose tables are filled directly with the state the
    /// protocol converges to. Their maintenance timers start at random offsets.
    pub fn build_oracle(&mut self, n: usize) {
        let mut members: Vec<Contact<u32>> = (0..n)
            .map(|_| {
                let id = Key::random(&mut self.rng);
                self.new_slot(id)
            })
            .collect();
        members.sort_by_key(|c| c.id);
        let node_cfg = Arc::new(self.cfg.node.clone());
        // The slots of a fresh simulator are all the members': free the empty ones now,
        // the built nodes will replace them.
        let fresh = self.nodes.len() == members.len();
        if fresh {
            self.nodes = Vec::new();
        }
        let make_apps = &self.make_apps;
        let built = R::oracle(&members, &self.routing_cfg, &|routing| {
            let apps = make_apps(routing.me());
            Some(Node::with_apps(routing, apps, Arc::clone(&node_cfg)))
        });
        self.place_built(&members, built, fresh);
        let mut out = std::mem::take(&mut self.out);
        for contact in members {
            let addr = contact.addr;
            let node = self.nodes[addr as usize].as_mut().expect("just placed");
            let timers = node.routing().maintenance_timers(&self.routing_cfg);
            let mut ctx = Ctx {
                now: local_time(&self.clock_offsets, addr, self.now),
                rng: &mut self.rng,
                out: &mut out,
            };
            node.start_prebuilt(&mut ctx, timers);
            self.mark_live(addr);
            self.truth.insert(&contact);
            self.truth_stale = true;
            self.apply_outputs(&contact, &mut out, true);
        }
        self.out = out;
    }

    /// Whether every live node has joined and has the tables the oracle builds from the
    /// current membership; returns the fraction that do (a node still joining does not:
    /// its join would change others' tables, and the truth, while lookups run).
    pub fn converged_fraction(&self) -> f64 {
        let mut nodes: Vec<&R> = self
            .live
            .iter()
            .filter_map(|a| self.node(*a))
            .filter(|n| n.phase() == Phase::Joined)
            .map(|n| n.routing())
            .collect();
        if nodes.is_empty() {
            return 1.0;
        }
        nodes.sort_by_key(|r| r.me().id);
        R::converged(&nodes, &self.routing_cfg) as f64 / self.live.len() as f64
    }

    /// Grows an empty overlay by real joins: `n` nodes, each joining through a node that
    /// has already joined, picked as [`SimConfig::bootstrap`] says. Joins arrive at `rate`
    /// times the current size per `round` of simulated time (the network grows by that
    /// fraction per maintenance round), so no part of the ring receives more joins than
    /// stabilization absorbs. After each join's
    /// interval, `after_join` gets the simulator and how many nodes have been added (to
    /// show progress, or to run a workload while the overlay grows).
    pub fn grow(
        &mut self,
        n: usize,
        round: std::time::Duration,
        rate: f64,
        mut after_join: impl FnMut(&mut Self, usize),
    ) {
        for k in 0..n {
            let bootstrap = match self.cfg.bootstrap {
                Bootstrap::Random => self.random_joined(),
                Bootstrap::Nearest => self.nearest_joined(self.nodes.len() as u32),
            };
            self.spawn(bootstrap);
            let next = self.now + round.div_f64(rate * (k + 1) as f64);
            self.run_until(next);
            after_join(self, k + 1);
        }
    }

    /// Runs maintenance until every joined node's tables equal the converged ones, checking
    /// every `check_every`, for at most `max`. Returns the fraction of nodes that agree.
    pub fn settle(&mut self, max: std::time::Duration, check_every: std::time::Duration) -> f64 {
        let deadline = self.now + max;
        loop {
            let fraction = self.converged_fraction();
            if fraction >= 1.0 || self.now >= deadline {
                return fraction;
            }
            let next = (self.now + check_every).min(deadline);
            self.run_until(next);
        }
    }

    /// Gives `cmd` to the node at `addr` and runs until that node reports an event `done`
    /// accepts, for at most `timeout`; returns the event, or `None` on timeout.
    pub fn execute(
        &mut self,
        addr: u32,
        cmd: CommandOf<R, S>,
        done: impl Fn(&Event<u32, S::Event>) -> bool,
        timeout: std::time::Duration,
    ) -> Option<Event<u32, S::Event>> {
        self.command(addr, cmd);
        let deadline = self.now + timeout;
        let mut seen = self.events.len();
        loop {
            if let Some(i) = self.events[seen..]
                .iter()
                .position(|e| e.node == addr && done(&e.event))
            {
                return Some(self.events.remove(seen + i).event);
            }
            seen = self.events.len();
            match self.queue.peek_time() {
                Some(t) if t <= deadline => self.step(),
                _ => return None,
            }
        }
    }

    /// Sets the clock of the node at `addr` `offset_us` microseconds off simulated time
    /// (negative: behind). Its handlers see that time as `now` from then on.
    pub fn set_clock_offset(&mut self, addr: u32, offset_us: i64) {
        let len = self.contacts.len().max(addr as usize + 1);
        if self.clock_offsets.len() < len {
            self.clock_offsets.resize(len, 0);
        }
        self.clock_offsets[addr as usize] = offset_us;
    }

    /// Number of timers waiting to fire for which `f` (given the node's address and the
    /// timer) returns true.
    pub fn queued_timers(&self, mut f: impl FnMut(u32, &TimerOf<R, S>) -> bool) -> usize {
        self.queue.count(|ev| match ev {
            Ev::Timer { node, timer } => f(*node, timer),
            _ => false,
        })
    }

    /// Gives `cmd` to the node at `addr` now.
    pub fn command(&mut self, addr: u32, cmd: CommandOf<R, S>) {
        self.queue.push(self.now, Ev::Command { node: addr, cmd });
    }

    /// Crashes the node at `addr`: it stops at once, without a word to anyone.
    pub fn crash(&mut self, addr: u32) {
        if let Some(node) = self.nodes[addr as usize].take() {
            self.truth.remove(node.me());
            self.truth_stale = true;
            self.mark_dead(addr);
        }
    }

    /// Asks the node at `addr` to leave gracefully; it is removed once it reports `Left`.
    pub fn leave(&mut self, addr: u32) {
        if self.node(addr).is_some() {
            self.truth.remove(&self.contacts[addr as usize].clone());
            self.truth_stale = true;
            self.command(addr, Command::Leave);
        }
    }

    /// Starts churn: Poisson arrivals (joining through a random live node) and, for every
    /// node present or arriving from now on, an exponential session after which it leaves
    /// gracefully or crashes.
    pub fn start_churn(&mut self, churn: ChurnConfig) {
        let first = churn.next_arrival(&mut self.rng);
        self.queue.push(self.now + first, Ev::ChurnArrival);
        for addr in self.live.clone() {
            let session = churn.session(&mut self.rng);
            self.queue
                .push(self.now + session, Ev::ChurnDeparture { node: addr });
        }
        self.churn = Some(churn);
    }

    /// Pauses maintenance for good: routing timers and replica repair no longer fire (and so
    /// are not re-armed) and new ones are not armed; request timeouts still work. For measuring a static network, where
    /// maintenance would only spend simulation time without changing any table.
    pub fn stop_maintenance(&mut self) {
        self.maintenance = false;
        self.queue.retain(|ev| match ev {
            Ev::Timer { timer, .. } => timer.is_bookkeeping(),
            _ => true,
        });
    }

    /// Stops churn: no more arrivals or departures are scheduled or carried out.
    pub fn stop_churn(&mut self) {
        self.churn = None;
    }

    /// Runs events until simulated time `until` (inclusive) or until the queue is empty.
    pub fn run_until(&mut self, until: Time) {
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs events until `done` says so (checked before every event), the queue is empty, or
    /// the next event lies past `deadline`.
    pub fn run_until_done(&mut self, deadline: Time, mut done: impl FnMut(&Self) -> bool) {
        while let Some(t) = self.queue.peek_time() {
            if t > deadline || done(self) {
                break;
            }
            self.step();
        }
    }

    /// Processes the next event.
    pub fn step(&mut self) {
        let Some((time, ev)) = self.queue.pop() else {
            return;
        };
        self.now = time;
        self.processed += 1;
        if let Some(h) = self.trace.as_mut() {
            use std::hash::Hash;
            time.hash(h);
            match &ev {
                Ev::Deliver { to, from, msg } => format!("{to} {from:?} {msg:?}").hash(h),
                Ev::Timer { node, timer } => format!("{node} {timer:?}").hash(h),
                Ev::Command { node, cmd } => format!("{node} {cmd:?}").hash(h),
                Ev::ChurnArrival => "arrival".hash(h),
                Ev::ChurnDeparture { node } => format!("departure {node}").hash(h),
                Ev::Refused { node, id } => format!("refused {node} {id}").hash(h),
            }
        }
        match ev {
            Ev::Deliver { to, from, msg } => {
                if self.cfg.refuse_departed && self.nodes[to as usize].is_none() {
                    if let Wire::Request { id, .. } = *msg {
                        let back =
                            self.cfg
                                .latency
                                .delay(self.place_seed, to, from.addr, &mut self.rng);
                        let node = from.addr;
                        self.queue.push(self.now + back, Ev::Refused { node, id });
                    }
                    return;
                }
                self.dispatch(to, Input::Message { from, msg: *msg })
            }
            Ev::Refused { node, id } => {
                self.dispatch_with(node, |n, ctx| n.request_unreachable(ctx, id));
            }
            Ev::Timer { node, timer } => {
                if self.maintenance || timer.is_bookkeeping() {
                    self.dispatch(node, Input::Timer(timer));
                }
            }
            Ev::Command { node, cmd } => self.dispatch(node, Input::Command(cmd)),
            Ev::ChurnArrival => self.churn_arrival(),
            Ev::ChurnDeparture { node } => self.churn_departure(node),
        }
    }

    fn churn_arrival(&mut self) {
        let Some(churn) = self.churn.clone() else {
            return;
        };
        let bootstrap = self.random_joined();
        let addr = self.spawn(bootstrap);
        let session = churn.session(&mut self.rng);
        self.queue
            .push(self.now + session, Ev::ChurnDeparture { node: addr });
        let next = churn.next_arrival(&mut self.rng);
        self.queue.push(self.now + next, Ev::ChurnArrival);
    }

    fn churn_departure(&mut self, addr: u32) {
        let Some(churn) = self.churn.clone() else {
            return;
        };
        if self.node(addr).is_none() {
            return;
        }
        if self.rng.random::<f64>() < churn.graceful_fraction {
            self.leave(addr);
        } else {
            self.crash(addr);
        }
    }

    /// Calls `f` with the live node at `addr` and a context at the current time, then
    /// carries out what the node asked for. For tests that hand a node raw input.
    pub fn with_node<T>(
        &mut self,
        addr: u32,
        f: impl FnOnce(&mut Node<R, S>, &mut Ctx<'_, R, S>) -> T,
    ) -> T {
        let node = self.nodes[addr as usize]
            .as_mut()
            .expect("with_node needs a live node");
        let mut out = std::mem::take(&mut self.out);
        let mut ctx = Ctx {
            now: local_time(&self.clock_offsets, addr, self.now),
            rng: &mut self.rng,
            out: &mut out,
        };
        let result = f(node, &mut ctx);
        let me = node.me().clone();
        self.apply_outputs(&me, &mut out, false);
        self.out = out;
        result
    }

    fn dispatch(&mut self, addr: u32, input: Input<R, S>) {
        self.dispatch_with(addr, |node, ctx| {
            if let Err(e) = node.handle(ctx, input) {
                tracing::debug!(node = addr, error = %e, "input rejected");
            }
        });
    }

    /// Calls `f` on node `addr` (if it is there) and carries out what it asks.
    fn dispatch_with(&mut self, addr: u32, f: impl FnOnce(&mut Node<R, S>, &mut Ctx<'_, R, S>)) {
        let Some(node) = self.nodes[addr as usize].as_mut() else {
            return;
        };
        let mut out = std::mem::take(&mut self.out);
        let mut ctx = Ctx {
            now: local_time(&self.clock_offsets, addr, self.now),
            rng: &mut self.rng,
            out: &mut out,
        };
        f(node, &mut ctx);
        let me = node.me().clone();
        self.apply_outputs(&me, &mut out, false);
        self.out = out;
    }

    fn apply_outputs(
        &mut self,
        sender: &Contact<u32>,
        out: &mut Vec<Output<R, S>>,
        spread_timers: bool,
    ) {
        let from = sender.addr;
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg } => {
                    self.messages += 1;
                    if self.capture_per_kind > 0 {
                        self.capture(&msg);
                    }
                    if self.cfg.loss > 0.0 && self.rng.random::<f64>() < self.cfg.loss {
                        continue;
                    }
                    let delay =
                        self.cfg
                            .latency
                            .delay(self.place_seed, from, to.addr, &mut self.rng);
                    self.queue.push(
                        self.now + delay,
                        Ev::Deliver {
                            to: to.addr,
                            from: sender.clone(),
                            msg: Box::new(msg),
                        },
                    );
                }
                Output::Timer { after, timer } => {
                    if !self.maintenance && !timer.is_bookkeeping() {
                        continue;
                    }
                    // Prebuilt nodes start their periodic timers at random phases, as nodes
                    // that joined at different times would have. Bookkeeping timers (request
                    // timeouts, lookup fallbacks) are deadlines, not phases, and keep their
                    // delay. (Their draw is still made, so seeded runs stay what they were.)
                    let after = if spread_timers && !after.is_zero() {
                        let phase = self.rng.random::<f64>();
                        if timer.is_bookkeeping() {
                            after
                        } else {
                            after.mul_f64(phase)
                        }
                    } else {
                        after
                    };
                    self.queue
                        .push(self.now + after, Ev::Timer { node: from, timer });
                }
                Output::Event(e) => self.on_event(from, e),
            }
        }
    }

    fn on_event(&mut self, addr: u32, event: Event<u32, S::Event>) {
        match &event {
            Event::LookupDone {
                key,
                result,
                hops,
                messages,
                latency,
                ..
            } => {
                match result {
                    Ok(nodes) => {
                        let correct = self.is_true_root(key, nodes[0].addr);
                        if !correct {
                            tracing::debug!(node = addr, key = %key.short(), answer = nodes[0].addr, hops, "wrong root");
                        }
                        self.lookup_stats
                            .record(*hops, *messages, *latency, correct);
                    }
                    Err(e) => {
                        if tracing::enabled!(tracing::Level::DEBUG) {
                            let next = self.next_hops_now(addr, key);
                            tracing::debug!(node = addr, key = %key.short(), error = ?e, hops, messages, ?latency, next, "lookup failed");
                        }
                        self.lookup_stats.record_failure(*messages)
                    }
                }
                return;
            }
            Event::Joined => {
                self.truth.insert(&self.contacts[addr as usize].clone());
                self.truth_stale = true;
            }
            Event::Left => {
                self.nodes[addr as usize] = None;
                self.mark_dead(addr);
            }
            _ => {}
        }
        self.events.push(SimEvent {
            time: self.now,
            node: addr,
            event,
        });
    }
}
