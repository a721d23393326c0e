//! The Pastry state machine (Rowstron and Druschel, Middleware 2001).

use overlay::{
    Address, Contact, Key, LookupError, ProbeQueue, ProtocolError, RecentlyDead, ReqId, Routing,
    RoutingOut, SmallMap, Step, Time,
};
use rand::RngExt;
use tracing::debug;

use crate::config::PastryConfig;
use crate::discovery::{self, Discovery, Next};
use crate::joiners::RecentJoiners;
use crate::leaf_set::LeafSet;
use crate::messages::{PastryMsg, PastryTimer};
use crate::table::{Entry, RoutingTable};

/// How many leaf-maintenance periods a failed node is remembered (and not taken back).
const DEAD_MEMORY: u32 = 10;
/// Most failed nodes remembered.
const MAX_DEAD: usize = 64;

/// Most nodes a joining node queries on the route to its own id before it settles.
const MAX_JOIN_STEPS: usize = 48;
/// Most recent joiners remembered, to be handed to later ones: a simultaneous start of a
/// few hundred nodes through one bootstrap fits.
const MAX_JOINERS: usize = 256;

/// Microseconds from `sent` to `now`, as a round-trip sample (saturating).
fn micros_since(sent: Time, now: Time) -> u32 {
    u32::try_from(now.since(sent).as_micros()).unwrap_or(u32::MAX)
}

/// What a request in flight was for.
#[derive(Clone, Debug, PartialEq)]
enum Pending {
    /// A `JoinQuery` on the route to our own id.
    Join,
    /// A `Ping` to `to` sent at this time: its answer is a round-trip sample, and shows
    /// the node alive. `leaf` when a leaf set named it, so that it may widen ours.
    Probe { to: Key, sent: Time, leaf: bool },
    /// A `GetLeafSet` for maintenance or repair.
    LeafSet,
    /// A `GetRow`.
    Row,
    /// `Announce` or `Leaving`: only the answer's arrival matters.
    Notice,
    /// A `Ping` of nearby-node discovery, sent at this time.
    Seek { sent: Time },
    /// A `GetRow` of nearby-node discovery.
    SeekRow,
}

/// How a node came to be known, which decides whether it must answer a probe before it
/// enters the leaf set, and whether it may widen a leaf set that a failure thinned.
///
/// A leaf set decides which keys this node is the root of, so a joined node takes in only
/// nodes that have just shown themselves alive: a crashed node named by a stale row would
/// otherwise be given as a key's root. And only a node that a leaf set named may fill the
/// room a failure left on one side: a node far along the ring, heard of from a row, would
/// make that side seem to span the nodes between, of which this node has not yet heard,
/// and it would take itself for the root of their keys.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Heard {
    /// Named by a routing-table row, a join state's table or a joiners list.
    Named,
    /// Named by a leaf set (a neighbour's, a leaving neighbour's, a join state's).
    NamedByLeafSet,
    /// Spoke to this node itself: a request, or the answer to a proximity probe.
    Direct,
    /// Answered a probe sent because a leaf set named it or because it asked for ours.
    DirectByLeafSet,
}

impl Heard {
    fn alive(self) -> bool {
        matches!(self, Heard::Direct | Heard::DirectByLeafSet)
    }

    fn may_widen(self) -> bool {
        matches!(self, Heard::NamedByLeafSet | Heard::DirectByLeafSet)
    }
}

/// One Pastry node: leaf set, routing table and neighbourhood set.
#[derive(Clone, Debug, PartialEq)]
pub struct Pastry<A> {
    pub(crate) me: Contact<A>,
    pub(crate) cfg: PastryConfig,
    pub(crate) leaf: LeafSet<A>,
    pub(crate) table: RoutingTable<A>,
    /// The nodes nearest by measured round-trip time (microseconds), nearest first.
    pub(crate) nbhd: Vec<(Contact<A>, u32)>,
    pub(crate) joined: bool,
    bootstrap: Option<Contact<A>>,
    /// Nodes asked on the join route so far.
    join_asked: Vec<Key>,
    /// The last step's candidates for the next join query: if the one asked is still
    /// joining itself (or gone), the route goes on through another.
    join_next: Vec<Contact<A>>,
    /// Whether the node asked last was named the root by a joined node, whose state we
    /// then already hold.
    join_at_root: bool,
    pending: SmallMap<ReqId, Pending>,
    /// Candidates to probe once a probe in flight finishes, oldest first.
    probe_queue: ProbeQueue<A>,
    /// Nodes found dead lately, with when: others' tables still list them for a while, and
    /// taking them back in would only fail again.
    dead: RecentlyDead,
    /// Nodes that sent us a `JoinQuery` lately.
    joiners: RecentJoiners<A>,
    /// The search for a nearby node to join through, while it runs.
    discovery: Option<Discovery<A>>,
}

impl<A: Address> Pastry<A> {
    /// A joined node whose tables are given (the oracle build).
    pub fn from_tables(
        me: Contact<A>,
        cfg: PastryConfig,
        leaf: LeafSet<A>,
        table: RoutingTable<A>,
    ) -> Self {
        let mut p = Pastry::new(me, &cfg);
        p.leaf = leaf;
        p.table = table;
        p.joined = true;
        p
    }

    /// The leaf set.
    pub fn leaf_set(&self) -> &LeafSet<A> {
        &self.leaf
    }

    /// The routing table.
    pub fn table(&self) -> &RoutingTable<A> {
        &self.table
    }

    /// The neighbourhood set with round-trip times in microseconds, nearest first.
    pub fn neighbourhood(&self) -> &[(Contact<A>, u32)] {
        &self.nbhd
    }

    fn send(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, msg: PastryMsg<A>) {
        let kind = match &msg {
            PastryMsg::JoinQuery { .. } => Pending::Join,
            PastryMsg::Ping => Pending::Probe {
                to: to.id,
                sent: out.now,
                leaf: false,
            },
            PastryMsg::GetLeafSet => Pending::LeafSet,
            PastryMsg::GetRow { .. } => Pending::Row,
            _ => Pending::Notice,
        };
        self.send_as(out, to, msg, kind);
    }

    /// Pings a candidate for the leaf set, unless a probe to it is on its way: `leaf` when
    /// a leaf set named it or it asked for ours, so that its answer may widen ours.
    fn leaf_probe(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, leaf: bool) {
        if self.probing(&to.id) {
            return;
        }
        let kind = Pending::Probe {
            to: to.id,
            sent: out.now,
            leaf,
        };
        self.send_as(out, to, PastryMsg::Ping, kind);
    }

    fn send_as(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        to: Contact<A>,
        msg: PastryMsg<A>,
        kind: Pending,
    ) {
        let id = out.request(to, msg);
        if matches!(kind, Pending::Probe { .. }) {
            // Leaf-set probes go at once, not through the queue, but they count against
            // the limit all the same.
            self.probe_queue.started(id);
        }
        self.pending.insert(id, kind);
    }

    /// Whether a probe to `id` is on its way.
    fn probing(&self, id: &Key) -> bool {
        self.pending
            .values()
            .any(|p| matches!(p, Pending::Probe { to, .. } if to == id))
    }

    fn take_pending(&mut self, id: ReqId) -> Option<Pending> {
        self.probe_queue.finished(id);
        self.pending.remove(&id)
    }

    /// Queues `c` (if any) for a round-trip probe and starts the queued probes there is
    /// room for.
    fn probe(&mut self, out: &mut RoutingOut<'_, Self>, c: Option<&Contact<A>>) {
        if let Some(c) = c {
            self.probe_queue.push(c);
        }
        while let Some(c) = self.probe_queue.next(&self.dead, out.now) {
            if !self.probing(&c.id) {
                self.send(out, c, PastryMsg::Ping);
            }
        }
    }

    /// Offers `c` to the leaf set (see [`Heard`] for what it must show first). A node
    /// still joining has no range of its own yet, and its candidates, still joining
    /// themselves, would not answer a probe: it takes any node as a start.
    fn leaf_insert(&mut self, out: &mut RoutingOut<'_, Self>, c: &Contact<A>, heard: Heard) {
        if !self.leaf.would_take(c) {
            return;
        }
        if self.joined {
            if !heard.may_widen() && !self.leaf.spans(&c.id) {
                return;
            }
            if !heard.alive() {
                self.leaf_probe(out, c.clone(), heard.may_widen());
                return;
            }
        }
        if let Some(evicted) = self.leaf.insert(c) {
            out.update(c.clone(), true);
            for gone in evicted {
                out.update(gone, false);
            }
        }
    }

    /// Takes note of node `c`, with its round-trip time when just measured: it may enter
    /// the leaf set, an empty routing-table slot, replace a farther entry (proximity
    /// neighbour selection) or join the neighbourhood set. With `probe`, a candidate whose
    /// proximity is unknown is pinged so it can be compared.
    fn learn(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        c: &Contact<A>,
        heard: Heard,
        rtt: Option<u32>,
        probe: bool,
    ) {
        if c.id == self.me.id || self.dead.contains(&c.id, out.now) {
            return;
        }
        // A node this one heard from lately needs no probe: row exchanges offer the same
        // candidates every round, and probing each anew kept a connection open to most
        // of a 256-node overlay from every node. Every node is ranked by its shortest
        // round trip, a fresh measurement included (the node core notes it first): one
        // slowed by load would otherwise lose its slot to a rival ranked by its best.
        let rtt = out.round_trip_us(&c.id).or(rtt);
        self.leaf_insert(out, c, heard);
        if let Some((row, col)) = self.table.slot_of(&c.id) {
            // Proximity neighbour selection: an empty slot takes any node, a measured node
            // replaces an unmeasured or farther one; a node of unknown proximity that
            // takes an empty slot or rivals an entry is probed, so it can be compared.
            let (take, unknown) = match self.table.get(row, col) {
                None => (true, rtt.is_none()),
                Some(e) if e.contact.id == c.id => (rtt.is_some(), false),
                Some(e) => match (rtt, e.rtt) {
                    (Some(new), Some(old)) => (new < old, false),
                    (Some(_), None) => (true, false),
                    (None, _) => (false, true),
                },
            };
            if take {
                self.table.set(
                    row,
                    col,
                    Entry {
                        contact: c.clone(),
                        rtt,
                    },
                );
            }
            if unknown && probe {
                self.probe(out, Some(c));
            }
        }
        if let Some(rtt) = rtt {
            self.nbhd.retain(|(n, _)| n.id != c.id);
            let at = self.nbhd.partition_point(|(_, r)| *r <= rtt);
            if at < self.cfg.neighbourhood {
                self.nbhd.insert(at, (c.clone(), rtt));
                self.nbhd.truncate(self.cfg.neighbourhood);
            }
        }
    }

    /// Everything this node knows: table, neighbourhood set.
    fn table_and_neighbourhood(&self) -> Vec<Contact<A>> {
        let mut v: Vec<Contact<A>> = self.table.entries().map(|e| e.contact.clone()).collect();
        for (c, _) in &self.nbhd {
            if !v.iter().any(|x| x.id == c.id) {
                v.push(c.clone());
            }
        }
        v
    }

    fn leaf_with_me(&self) -> Vec<Contact<A>> {
        std::iter::once(&self.me)
            .chain(self.leaf.nodes())
            .cloned()
            .collect()
    }

    fn arm_timers(&self, out: &mut RoutingOut<'_, Self>) {
        out.timer(self.cfg.leaf_interval, PastryTimer::LeafMaintenance);
        out.timer(self.cfg.table_interval, PastryTimer::TableMaintenance);
    }

    /// The route to our own id ended: we hold the root's leaf set and rows from every node
    /// on the way. Tell everyone we know, so they can add us.
    fn finish_join(&mut self, out: &mut RoutingOut<'_, Self>) {
        debug!(
            id = %self.me.id.short(),
            steps = self.join_asked.len(),
            leaf_set = self.leaf.len(),
            "joined"
        );
        self.joined = true;
        self.join_asked.clear();
        self.join_next.clear();
        out.joined();
        let mut told: Vec<Key> = Vec::new();
        let all: Vec<Contact<A>> = self
            .leaf
            .nodes()
            .cloned()
            .chain(self.table_and_neighbourhood())
            .collect();
        for c in all {
            if !told.contains(&c.id) {
                told.push(c.id);
                self.send(out, c, PastryMsg::Announce);
            }
        }
        self.arm_timers(out);
    }

    /// The first of `candidates` not yet asked on this join route.
    fn unasked<'c>(&self, candidates: &'c [Contact<A>]) -> Option<&'c Contact<A>> {
        candidates
            .iter()
            .find(|c| c.id != self.me.id && !self.join_asked.contains(&c.id))
    }

    fn join_query_next(&mut self, out: &mut RoutingOut<'_, Self>, candidates: &[Contact<A>]) {
        self.join_next = candidates.to_vec();
        let next = self.unasked(candidates).cloned();
        match next {
            Some(c) if self.join_asked.len() < MAX_JOIN_STEPS => {
                self.join_asked.push(c.id);
                self.send(out, c, PastryMsg::JoinQuery { key: self.me.id });
            }
            _ if !self.leaf.is_empty() => self.finish_join(out),
            _ => self.retry_join(out),
        }
    }

    /// Starts nearby-node discovery from `seed`: its deep row, and its own round trip.
    fn discover(&mut self, out: &mut RoutingOut<'_, Self>, seed: Contact<A>) {
        self.discovery = Some(Discovery::new(&seed.id));
        self.seek(out, seed.clone(), PastryMsg::Ping);
        let row = discovery::FIRST_ROW;
        self.seek(out, seed, PastryMsg::GetRow { row });
    }

    /// Sends a request of the discovery's current round.
    fn seek(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, msg: PastryMsg<A>) {
        let kind = match msg {
            PastryMsg::Ping => Pending::Seek { sent: out.now },
            _ => Pending::SeekRow,
        };
        if let Some(d) = &mut self.discovery {
            d.sent();
        }
        self.send_as(out, to, msg, kind);
    }

    /// A discovery request was answered or failed: once its round is over, the next round
    /// or the join.
    fn discovery_settled(&mut self, out: &mut RoutingOut<'_, Self>) {
        let Some(next) = self.discovery.as_mut().and_then(Discovery::settled) else {
            return;
        };
        match next {
            Next::Ask { to, row } => self.seek(out, to, PastryMsg::GetRow { row }),
            Next::Join(near) => {
                self.discovery = None;
                self.join_query_next(out, &[near]);
            }
            Next::GiveUp => {
                self.discovery = None;
                let seed: Vec<Contact<A>> = self.bootstrap.iter().cloned().collect();
                self.join_query_next(out, &seed);
            }
        }
    }

    fn retry_join(&mut self, out: &mut RoutingOut<'_, Self>) {
        debug!(
            id = %self.me.id.short(),
            steps = self.join_asked.len(),
            "the join route failed; starting over through the bootstrap"
        );
        self.join_asked.clear();
        self.join_next.clear();
        if let Some(b) = self.bootstrap.clone() {
            out.timer(self.cfg.join_retry, PastryTimer::RetryJoin(b));
        }
    }

    fn on_join_state(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        table: Vec<Contact<A>>,
        leaf: Vec<Contact<A>>,
        joiners: Vec<Contact<A>>,
        step: Step<A>,
    ) {
        if self.joined {
            return;
        }
        self.learn(out, from, Heard::Direct, None, true);
        for c in &table {
            self.learn(out, c, Heard::Named, None, true);
        }
        for c in &leaf {
            self.learn(out, c, Heard::NamedByLeafSet, None, true);
        }
        // A node still joining answers no probe, so a joiner may take a routing-table
        // slot unmeasured; table maintenance measures it later.
        for c in &joiners {
            self.learn(out, c, Heard::Named, None, true);
        }
        match step {
            Step::Root(nodes) => {
                let root = nodes
                    .first()
                    .filter(|r| r.id != from.id && r.id != self.me.id);
                match root {
                    Some(r) if !self.join_asked.contains(&r.id) => {
                        let r = r.clone();
                        self.join_at_root = true;
                        self.join_query_next(out, &[r]);
                    }
                    _ => self.finish_join(out),
                }
            }
            Step::Next(nodes) => {
                self.join_at_root = false;
                self.join_query_next(out, &nodes)
            }
        }
    }

    /// A neighbour's leaf set: take in nodes that belong in ours after a probe, and probe
    /// members of ours that it should list but does not (they may have failed). These
    /// probes keep the leaf set right, so they go at once rather than wait behind the
    /// proximity probes of the queue (after a crash, those wait out dead nodes' timeouts).
    fn on_leaf_set(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        nodes: &[Contact<A>],
    ) {
        let mut theirs = LeafSet::new(from.id, self.cfg.leaf_set);
        for c in nodes {
            theirs.insert(c);
        }
        for c in nodes {
            if c.id != self.me.id && !self.dead.contains(&c.id, out.now) && self.leaf.would_take(c)
            {
                self.leaf_probe(out, c.clone(), true);
            }
        }
        let suspects: Vec<Contact<A>> = self
            .leaf
            .nodes()
            .filter(|m| m.id != from.id && !theirs.contains(&m.id) && theirs.covers(&m.id))
            .filter(|_| !theirs.wraps())
            .cloned()
            .collect();
        for m in suspects {
            self.leaf_probe(out, m, true);
        }
    }

    /// The numerically closest known nodes to `key` sharing at least `l` digits with it
    /// and closer to it than this node: Pastry's rare case, and fallbacks.
    fn closer_nodes(&self, key: &Key, l: usize, num: usize) -> Vec<Contact<A>> {
        let mine = key.ring_distance(&self.me.id);
        let b = self.cfg.b;
        let mut best: Vec<(Key, &Contact<A>)> = Vec::with_capacity(num + 1);
        let rows = (l..self.table.rows()).flat_map(|r| self.table.row(r).map(|e| &e.contact));
        let candidates = self
            .leaf
            .nodes()
            .chain(rows)
            .chain(self.nbhd.iter().map(|(c, _)| c));
        for c in candidates {
            let d = key.ring_distance(&c.id);
            if d >= mine || best.iter().any(|(_, x)| x.id == c.id) {
                continue;
            }
            if (c.id.shared_prefix_digits(key, b) as usize) < l {
                continue;
            }
            let at = best.partition_point(|(bd, _)| *bd < d);
            if at < num {
                best.insert(at, (d, c));
                best.truncate(num);
            }
        }
        best.into_iter().map(|(_, c)| c.clone()).collect()
    }
}

impl<A: Address> Routing for Pastry<A> {
    type Addr = A;
    type Msg = PastryMsg<A>;
    type Timer = PastryTimer<A>;
    type Config = PastryConfig;

    const NAME: &'static str = "pastry";

    fn new(me: Contact<A>, config: &PastryConfig) -> Self {
        Pastry {
            leaf: LeafSet::new(me.id, config.leaf_set),
            table: RoutingTable::new(me.id, config.b),
            me,
            cfg: config.clone(),
            nbhd: Vec::new(),
            joined: false,
            bootstrap: None,
            join_asked: Vec::new(),
            join_next: Vec::new(),
            join_at_root: false,
            pending: SmallMap::default(),
            probe_queue: ProbeQueue::new(config.max_probes),
            dead: RecentlyDead::new(config.leaf_interval * DEAD_MEMORY, MAX_DEAD),
            joiners: RecentJoiners::new(config.leaf_interval, MAX_JOINERS),
            discovery: None,
        }
    }

    fn me(&self) -> &Contact<A> {
        &self.me
    }

    fn join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Option<Contact<A>>) {
        match bootstrap {
            Some(b) if b.id != self.me.id => {
                self.bootstrap = Some(b.clone());
                if self.cfg.discover_nearby {
                    self.discover(out, b);
                } else {
                    self.join_query_next(out, &[b]);
                }
            }
            _ => {
                self.joined = true;
                out.joined();
                self.arm_timers(out);
            }
        }
    }

    fn leave(&mut self, out: &mut RoutingOut<'_, Self>) {
        let leaf = self.leaf_with_me();
        for c in self.leaf.nodes().cloned().collect::<Vec<_>>() {
            self.send(out, c, PastryMsg::Leaving { leaf: leaf.clone() });
        }
        self.joined = false;
    }

    fn is_joined(&self) -> bool {
        self.joined
    }

    fn on_request(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: PastryMsg<A>,
    ) -> Result<(), ProtocolError> {
        if !self.joined {
            // A node that joined beside us, which learnt of us from a node on our join
            // route: take it in now, since it may have been the only one to tell us.
            if matches!(msg, PastryMsg::Announce) {
                self.learn(out, from, Heard::Direct, None, true);
                out.respond(from.clone(), id, PastryMsg::Ack);
                return Ok(());
            }
            return Err(ProtocolError::NotJoined);
        }
        if matches!(msg, PastryMsg::GetLeafSet)
            && !self.dead.contains(&from.id, out.now)
            && self.leaf.would_take(from)
        {
            // A node that counts us among its nearest but is missing from our leaf set:
            // after a crash two live nodes can each be listed by the other on one side
            // only, and the exchange with our own nearest leaves would never name it.
            // The probe's answer comes from a joined node only, and takes it in.
            self.leaf_probe(out, from.clone(), true);
        }
        let reply = match msg {
            PastryMsg::JoinQuery { key } => {
                if key != from.id {
                    return Err(ProtocolError::Unexpected(
                        "a join query for another node's id".into(),
                    ));
                }
                let joiners = self.joiners.nearest(&key, self.cfg.leaf_set, out.now);
                self.joiners.insert(from, out.now);
                PastryMsg::JoinState {
                    table: self.table_and_neighbourhood(),
                    leaf: self.leaf.nodes().cloned().collect(),
                    step: self.step(&key, 4),
                    joiners,
                }
            }
            PastryMsg::Announce => {
                self.learn(out, from, Heard::Direct, None, true);
                PastryMsg::Ack
            }
            PastryMsg::GetLeafSet => PastryMsg::LeafSet {
                nodes: self.leaf_with_me(),
            },
            PastryMsg::GetRow { row } => PastryMsg::Row {
                nodes: self
                    .table
                    .row(row as usize)
                    .map(|e| e.contact.clone())
                    .collect(),
            },
            PastryMsg::Ping => PastryMsg::Ack,
            PastryMsg::Leaving { leaf } => {
                self.forget(out, &from.id);
                for c in leaf.iter().filter(|c| c.id != from.id) {
                    self.learn(out, c, Heard::NamedByLeafSet, None, false);
                }
                PastryMsg::Ack
            }
            PastryMsg::JoinState { .. }
            | PastryMsg::LeafSet { .. }
            | PastryMsg::Row { .. }
            | PastryMsg::Ack => {
                return Err(ProtocolError::Unexpected(
                    "a pastry response sent as a request".into(),
                ));
            }
        };
        out.respond(from.clone(), id, reply);
        Ok(())
    }

    fn on_response(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: PastryMsg<A>,
    ) -> Result<(), ProtocolError> {
        let Some(kind) = self.take_pending(id) else {
            return Err(ProtocolError::Unexpected(
                "a pastry answer nobody asked for".into(),
            ));
        };
        match (kind, msg) {
            (
                Pending::Join,
                PastryMsg::JoinState {
                    table,
                    leaf,
                    step,
                    joiners,
                },
            ) => self.on_join_state(out, from, table, leaf, joiners, step),
            (Pending::Probe { sent, leaf, .. }, PastryMsg::Ack) => {
                let rtt = micros_since(sent, out.now);
                if self.joined || !self.leaf.is_empty() {
                    let heard = if leaf {
                        Heard::DirectByLeafSet
                    } else {
                        Heard::Direct
                    };
                    self.learn(out, from, heard, Some(rtt), false);
                }
                self.probe(out, None);
            }
            (Pending::LeafSet, PastryMsg::LeafSet { nodes }) => self.on_leaf_set(out, from, &nodes),
            (Pending::Row, PastryMsg::Row { nodes }) => {
                for c in &nodes {
                    self.learn(out, c, Heard::Named, None, true);
                }
            }
            (Pending::Notice, PastryMsg::Ack) => {}
            (Pending::Seek { sent }, PastryMsg::Ack) => {
                let rtt = micros_since(sent, out.now);
                if let Some(d) = &mut self.discovery {
                    d.measured(from, rtt);
                }
                self.discovery_settled(out);
            }
            (Pending::SeekRow, PastryMsg::Row { nodes }) => {
                let me = self.me.id;
                for c in nodes.into_iter().filter(|c| c.id != me) {
                    if let Some(d) = &mut self.discovery
                        && d.should_probe(&c.id)
                    {
                        self.seek(out, c, PastryMsg::Ping);
                    }
                }
                self.discovery_settled(out);
            }
            _ => {
                return Err(ProtocolError::Unexpected(
                    "a pastry answer of the wrong kind".into(),
                ));
            }
        }
        Ok(())
    }

    fn on_request_failed(&mut self, out: &mut RoutingOut<'_, Self>, _to: &Contact<A>, id: ReqId) {
        match self.take_pending(id) {
            Some(Pending::Join) if !self.joined => {
                let candidates = std::mem::take(&mut self.join_next);
                let left = self.unasked(&candidates).is_some();
                // A root that is itself still joining will announce itself once joined,
                // and the state of the joined node that named it is what it would have
                // given. Anywhere else on the route, a join that stopped short would
                // take a partial leaf set for the whole ring: start over instead.
                if left {
                    self.join_query_next(out, &candidates);
                } else if self.join_at_root && !self.leaf.is_empty() {
                    self.finish_join(out);
                } else {
                    self.retry_join(out);
                }
            }
            Some(Pending::Probe { .. }) => self.probe(out, None),
            Some(Pending::Seek { .. } | Pending::SeekRow) => self.discovery_settled(out),
            _ => {}
        }
    }

    fn on_timer(&mut self, out: &mut RoutingOut<'_, Self>, timer: PastryTimer<A>) {
        match timer {
            PastryTimer::LeafMaintenance => {
                let nearest: Vec<Contact<A>> =
                    [self.leaf.left().first(), self.leaf.right().first()]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect();
                for (i, c) in nearest.iter().enumerate() {
                    if i == 0 || c.id != nearest[0].id {
                        self.send(out, c.clone(), PastryMsg::GetLeafSet);
                    }
                }
                out.timer(self.cfg.leaf_interval, PastryTimer::LeafMaintenance);
            }
            PastryTimer::TableMaintenance => {
                // Entries taken in without a round trip (their node was still joining,
                // or a probe failed) are measured, so that proximity neighbour selection
                // can compare them with the candidates still to come.
                let unmeasured: Vec<Contact<A>> = self
                    .table
                    .entries()
                    .filter(|e| e.rtt.is_none())
                    .map(|e| e.contact.clone())
                    .collect();
                for c in &unmeasured {
                    self.probe_queue.push(c);
                }
                self.probe(out, None);
                for row in 0..self.table.rows() {
                    let entries: Vec<Contact<A>> =
                        self.table.row(row).map(|e| e.contact.clone()).collect();
                    if entries.is_empty() {
                        continue;
                    }
                    let pick = entries[out.rng.random_range(0..entries.len())].clone();
                    self.send(out, pick, PastryMsg::GetRow { row: row as u8 });
                }
                out.timer(self.cfg.table_interval, PastryTimer::TableMaintenance);
            }
            PastryTimer::RetryJoin(b) => {
                if !self.joined {
                    self.join_query_next(out, &[b]);
                }
            }
        }
    }

    fn on_lookup_done(
        &mut self,
        _out: &mut RoutingOut<'_, Self>,
        _tag: u64,
        _result: Result<&[Contact<A>], LookupError>,
    ) {
        // Pastry walks its join route itself (it needs every node's state on the way), so
        // it starts no generic lookups.
    }

    fn peer_failed(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        self.dead.insert(peer.id, (), out.now);
        self.forget(out, &peer.id);
    }

    fn step(&self, key: &Key, num: usize) -> Step<A> {
        let num = num.max(1);
        if !self.joined {
            return Step::Next(Vec::new());
        }
        if self.leaf.covers(key) {
            return Step::Root(self.leaf.closest(key, &self.me, num));
        }
        let b = self.cfg.b;
        let l = self.me.id.shared_prefix_digits(key, b) as usize;
        let mut next: Vec<Contact<A>> = Vec::with_capacity(num);
        if let Some(e) = self.table.get(l, key.digit(l as u32, b) as usize) {
            next.push(e.contact.clone());
        }
        for c in self.closer_nodes(key, l, num) {
            if next.len() >= num {
                break;
            }
            if !next.iter().any(|n| n.id == c.id) {
                next.push(c);
            }
        }
        if next.is_empty() {
            // No known node shares as long a prefix and is closer: the leaf set's end
            // towards the key is closer to it than we are.
            next.extend(self.leaf.farthest_towards(key).cloned());
        }
        Step::Next(next)
    }

    fn local_lookup(&self, key: &Key, num: usize, _safe: bool) -> Vec<Contact<A>> {
        self.step(key, num).contacts().to_vec()
    }

    fn neighbor_set(&self, num: usize) -> Vec<Contact<A>> {
        self.leaf.nodes().take(num).cloned().collect()
    }

    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<A>> {
        if !self.joined {
            return Vec::new();
        }
        self.leaf.closest(key, &self.me, max_rank)
    }

    fn is_root(&self, key: &Key) -> bool {
        self.joined
            && self.leaf.covers(key)
            && self
                .leaf
                .closest(key, &self.me, 1)
                .first()
                .is_some_and(|c| c.id == self.me.id)
    }

    fn summary(&self) -> String {
        format!(
            "pastry id={} b={} leaf_set={} table_entries={} table_rows={} neighbourhood={}",
            self.me.id.short(),
            self.cfg.b,
            self.leaf.len(),
            self.table.len(),
            self.table.rows(),
            self.nbhd.len()
        )
    }
}

impl<A: Address> Pastry<A> {
    /// Drops `id` from every table; a hole in the leaf set is repaired from the farthest
    /// leaf on that side, a routing-table hole from another entry of the same row.
    fn forget(&mut self, out: &mut RoutingOut<'_, Self>, id: &Key) {
        self.joiners.remove(id);
        if let Some(gone) = self.leaf.remove(id) {
            out.update(gone, false);
            if let Some(far) = self.leaf.farthest_towards(id).cloned() {
                self.send(out, far, PastryMsg::GetLeafSet);
            }
        }
        self.nbhd.retain(|(c, _)| c.id != *id);
        if let Some((row, _)) = self.table.remove(id) {
            let others: Vec<Contact<A>> = self.table.row(row).map(|e| e.contact.clone()).collect();
            if !others.is_empty() {
                let pick = others[out.rng.random_range(0..others.len())].clone();
                self.send(out, pick, PastryMsg::GetRow { row: row as u8 });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use overlay::Action;
    use overlay::conformance::scratch::{Scratch, contact as node};

    #[test]
    fn a_leaf_set_request_from_a_missing_near_node_is_answered_and_probed() {
        let cfg = PastryConfig::default();
        let me = node(50);
        let mut leaf = LeafSet::new(me.id, cfg.leaf_set);
        for b in [30, 40, 60, 70] {
            leaf.insert(&node(b));
        }
        let mut pastry = Pastry::from_tables(me.clone(), cfg, leaf, RoutingTable::new(me.id, 4));
        let mut driver = Scratch::<Pastry<u32>>::new(1);
        // 45 lists us as its nearest, but our own nearest (40, 60) never named it.
        driver
            .call(|out| pastry.on_request(out, &node(45), 7, PastryMsg::GetLeafSet))
            .unwrap();
        // A node already in the set is answered without a probe.
        driver
            .call(|out| pastry.on_request(out, &node(40), 8, PastryMsg::GetLeafSet))
            .unwrap();
        assert_eq!(driver.requested(|m| matches!(m, PastryMsg::Ping)), vec![45]);
        let answers = driver
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Respond { .. }))
            .count();
        assert_eq!(answers, 2);
    }

    #[test]
    fn a_leaf_set_candidate_enters_once_it_answers_and_only_a_leaf_set_widens_a_thinned_side() {
        let cfg = PastryConfig::default();
        let me = node(0x80);
        // Eight nodes on each side; then 0x72 fails and the left side is one short.
        let mut leaf = LeafSet::new(me.id, cfg.leaf_set);
        for b in [0x72, 0x74, 0x76, 0x78, 0x7a, 0x7c, 0x7e, 0x7f]
            .into_iter()
            .chain(0x81..=0x88)
        {
            leaf.insert(&node(b));
        }
        leaf.remove(&node(0x72).id);
        assert!(!leaf.wraps());
        let mut pastry = Pastry::from_tables(me.clone(), cfg, leaf, RoutingTable::new(me.id, 4));
        let mut driver = Scratch::<Pastry<u32>>::new(1);
        let pings = |d: &Scratch<Pastry<u32>>| d.requested(|m| matches!(m, PastryMsg::Ping));
        // A row names a far node. The side has room, but nothing says that the nodes
        // between it and 0x74 are gone: it stays out, probed or not.
        driver.call(|out| pastry.learn(out, &node(0x20), Heard::Named, None, false));
        driver.call(|out| pastry.learn(out, &node(0x20), Heard::Direct, Some(100), false));
        assert!(!pastry.leaf_set().contains(&node(0x20).id));
        assert!(pings(&driver).is_empty());
        // A row names a node inside the span: it may have crashed since, so it is probed
        // and stays out until it answers.
        driver.call(|out| pastry.learn(out, &node(0x7d), Heard::Named, None, false));
        assert!(!pastry.leaf_set().contains(&node(0x7d).id));
        assert_eq!(pings(&driver), vec![0x7d]);
        // A neighbour's leaf set names the node next beyond 0x74: it widens the side once
        // it answers its probe (named twice, it is probed once).
        for _ in 0..2 {
            driver.call(|out| pastry.learn(out, &node(0x73), Heard::NamedByLeafSet, None, false));
        }
        assert!(!pastry.leaf_set().contains(&node(0x73).id));
        assert_eq!(pings(&driver), vec![0x7d, 0x73]);
        let Some(&Action::Request { id, .. }) = driver.actions.last() else {
            panic!("no probe sent");
        };
        driver
            .call(|out| pastry.on_response(out, &node(0x73), id, PastryMsg::Ack))
            .unwrap();
        assert!(pastry.leaf_set().contains(&node(0x73).id));
    }

    #[test]
    fn a_candidate_heard_from_lately_is_ranked_by_its_shortest_round_trip_without_a_probe() {
        let cfg = PastryConfig::default();
        let me = node(0x50);
        let mut table = RoutingTable::new(me.id, cfg.b);
        let slot = table.slot_of(&node(0x30).id).unwrap();
        let entry = Entry {
            contact: node(0x30),
            rtt: Some(500),
        };
        table.set(slot.0, slot.1, entry);
        // A full leaf set of nearer nodes, so that only the table wants the candidates.
        let mut leaf = LeafSet::new(me.id, cfg.leaf_set);
        for b in (0x48..=0x4f).chain(0x51..=0x58) {
            leaf.insert(&node(b));
        }
        let mut pastry = Pastry::from_tables(me, cfg, leaf, table);
        let mut driver = Scratch::<Pastry<u32>>::new(1);
        // 0x31 and 0x32 compete with 0x30 for its slot; the node has heard from 0x31.
        assert_eq!(pastry.table.slot_of(&node(0x31).id), Some(slot));
        driver.heard_from(&node(0x31).id, Duration::from_micros(200));
        driver.call(|out| {
            pastry.learn(out, &node(0x31), Heard::Named, None, true);
            pastry.learn(out, &node(0x32), Heard::Named, None, true);
        });
        assert_eq!(
            driver.requested(|m| matches!(m, PastryMsg::Ping)),
            vec![0x32]
        );
        let held = pastry.table.get(slot.0, slot.1).unwrap();
        assert_eq!((held.contact.id, held.rtt), (node(0x31).id, Some(200)));
        // A later answer slowed by load does not lengthen the round trip it is ranked by.
        driver.call(|out| pastry.learn(out, &node(0x31), Heard::Direct, Some(900), false));
        let held = pastry.table.get(slot.0, slot.1).unwrap();
        assert_eq!((held.contact.id, held.rtt), (node(0x31).id, Some(200)));
    }

    /// The `joiners` of every `JoinState` the driver saw answered, in order.
    fn joiners_answered(driver: &Scratch<Pastry<u32>>) -> Vec<Vec<u32>> {
        driver
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Respond {
                    msg: PastryMsg::JoinState { joiners, .. },
                    ..
                } => Some(joiners.iter().map(|c| c.addr).collect()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_join_query_hands_over_the_earlier_joiners_near_the_newcomer() {
        let cfg = PastryConfig {
            leaf_set: 2,
            ..PastryConfig::default()
        };
        let me = node(200);
        let mut bootstrap = Pastry::new(me.clone(), &cfg);
        let mut driver = Scratch::<Pastry<u32>>::new(1);
        driver.call(|out| bootstrap.join(out, None));
        for (i, joiner) in [10u8, 30, 20].into_iter().enumerate() {
            let j = node(joiner);
            driver
                .call(|out| {
                    bootstrap.on_request(out, &j, i as u64, PastryMsg::JoinQuery { key: j.id })
                })
                .unwrap();
        }
        // The first joiner hears of none; the third, at 20, of the nearest on each side
        // of it (a leaf set of 2), never of itself.
        let answered = joiners_answered(&driver);
        assert_eq!(answered[0], Vec::<u32>::new());
        assert_eq!(answered[1], vec![10]);
        let mut third = answered[2].clone();
        third.sort();
        assert_eq!(third, vec![10, 30]);
    }

    #[test]
    fn a_node_still_joining_takes_an_announcement_in() {
        let cfg = PastryConfig::default();
        let mut joining = Pastry::new(node(50), &cfg);
        let mut driver = Scratch::<Pastry<u32>>::new(1);
        driver.call(|out| joining.join(out, Some(node(200))));
        driver
            .call(|out| joining.on_request(out, &node(60), 9, PastryMsg::Announce))
            .unwrap();
        assert!(joining.leaf_set().contains(&node(60).id));
        // Any other request still finds it not joined.
        let other =
            driver.call(|out| joining.on_request(out, &node(60), 10, PastryMsg::GetLeafSet));
        assert_eq!(other, Err(ProtocolError::NotJoined));
    }
}
