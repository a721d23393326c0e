//! The Tapestry state machine (Zhao et al., IEEE JSAC 2004): surrogate routing over the
//! neighbour map, join, and maintenance. Object location is in `objects`, the join's
//! acknowledged multicast in `multicast`.

use std::sync::Arc;

use overlay::{
    Address, Contact, Key, LookupError, ProbeQueue, ProtocolError, RecentlyDead, ReqId, Routing,
    RoutingOut, SmallMap, Step, Time,
};
use rand::RngExt;

use crate::backpointers::Backpointers;
use crate::config::TapestryConfig;
use crate::messages::{TapestryMsg, TapestryTimer};
use crate::multicast::Relay;
use crate::neighbour_map::{BASE, DIGIT_BITS, Inserted, NeighbourMap};
use crate::objects::Objects;
use crate::rotation::in_turn;

/// How many heartbeat periods a failed node is remembered (and not taken back).
const DEAD_MEMORY: u32 = 10;
/// Most failed nodes remembered.
const MAX_DEAD: usize = 64;
/// Most nodes a joining node queries on the route to its own id.
const MAX_JOIN_STEPS: usize = 48;
/// Most doublings of the heartbeat batch after failures.
const MAX_BOOST: u32 = 6;
/// Nodes asked to refill an entry that emptied.
const REPAIR_FANOUT: usize = 2;

/// What a request in flight was for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Pending {
    /// A `JoinQuery` on the route to our own id.
    Join,
    /// `Attach` to our surrogate root.
    Attach,
    /// A multicast forwarded for this relay.
    Relay(u64),
    /// A `Ping` to compare a candidate, sent at this time.
    Probe(Time),
    /// A `Ping` to an entry's closest node, sent at this time.
    Heartbeat(Time),
    /// A `GetRow`.
    Row,
    /// `Announce` or `Leaving`: only the answer's arrival matters.
    Notice,
    /// A hop of this publish or locate walk.
    Walk(u64),
}

/// One Tapestry node: neighbour map, object pointers, and the walks it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Tapestry<A> {
    pub(crate) me: Contact<A>,
    /// Shared by every node an oracle builds: a million copies would cost 100 MiB.
    pub(crate) cfg: Arc<TapestryConfig>,
    pub(crate) map: NeighbourMap<A>,
    pub(crate) joined: bool,
    attaching: bool,
    bootstrap: Option<Contact<A>>,
    join_asked: Vec<Key>,
    pub(crate) pending: SmallMap<ReqId, Pending>,
    /// Candidates to probe once a probe in flight finishes, oldest first.
    probe_queue: ProbeQueue<A>,
    /// Nodes found dead lately, with when: others still list them for a while.
    dead: RecentlyDead,
    pub(crate) relays: Vec<Relay<A>>,
    pub(crate) next_local: u64,
    /// Created on first use: most nodes of a large network never hold a pointer, and a
    /// million empty sets would cost 100 MiB.
    pub(crate) objects: Option<Box<Objects<A>>>,
    /// Nodes whose maps hold this one; created on first use (an oracle-built node has
    /// none until heartbeats or map changes tell it).
    pub(crate) backpointers: Option<Box<Backpointers<A>>>,
    /// Where the next heartbeat batch starts among the entries.
    ping_cursor: usize,
    /// Where the next batch of backups to probe starts (with `backup_probes`).
    backup_cursor: usize,
    /// Nodes found failed since the last heartbeat.
    failures_seen: u32,
    /// The rotating batch is `ping_batch << boost`: it doubles each period that found
    /// failures (after a mass crash the whole map is swept within a few periods) and falls
    /// back once a period finds none.
    boost: u32,
}

impl<A: Address> Tapestry<A> {
    /// A joined node with the given neighbour map (the oracle build).
    pub fn from_map(me: Contact<A>, cfg: Arc<TapestryConfig>, map: NeighbourMap<A>) -> Self {
        let mut t = Tapestry::new(me, &cfg);
        t.cfg = cfg;
        t.map = map;
        t.joined = true;
        t
    }

    /// The neighbour map.
    pub fn neighbour_map(&self) -> &NeighbourMap<A> {
        &self.map
    }

    pub(crate) fn send(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        to: Contact<A>,
        msg: TapestryMsg<A>,
        kind: Pending,
    ) {
        let id = out.request(to, msg);
        self.pending.insert(id, kind);
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
            let id = out.request(c, TapestryMsg::Ping);
            self.probe_queue.started(id);
            self.pending.insert(id, Pending::Probe(out.now));
        }
    }

    /// Takes note of node `c`, with its round-trip time when just measured. With `probe`,
    /// a candidate whose distance is unknown is pinged so the entry can rank it.
    pub(crate) fn learn(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        c: &Contact<A>,
        rtt: Option<u32>,
        probe: bool,
    ) {
        if c.id == self.me.id || self.dead.contains(&c.id, out.now) {
            return;
        }
        // A node this one heard from lately needs no probe to be ranked, and every node is
        // ranked by its shortest round trip, a fresh measurement included (the node core
        // notes it first): a heartbeat slowed by load would otherwise cost an entry its
        // place to a rival ranked by its best, and back again, each change told to both.
        let rtt = out.round_trip_us(&c.id).or(rtt);
        // Before joining, the finished map is told at once (`finish_join`).
        match self.map.insert(c, rtt) {
            Inserted::Added => {
                out.update(c.clone(), true);
                self.map_changed(out, c.clone(), true);
                if rtt.is_none() && probe {
                    self.probe(out, Some(c));
                }
            }
            Inserted::Replaced(gone) => {
                out.update(c.clone(), true);
                out.update(gone.clone(), false);
                self.map_changed(out, c.clone(), true);
                self.map_changed(out, gone, false);
            }
            Inserted::Rejected if rtt.is_none() && probe => self.probe(out, Some(c)),
            Inserted::Rejected | Inserted::Updated | Inserted::Own => {}
        }
    }

    /// Candidates to take this node's place in `other`'s map, where it sits in the entry
    /// of level `l` (the prefix they share) for this node's digit `l`: nodes sharing
    /// this node's first `l + 1` digits, i.e. those of its levels deeper than `l`. A few per
    /// recipient (the entry's width and one more) keep a leave linear in the map's size.
    fn replacements_for(&self, other: &Key) -> Vec<Contact<A>> {
        let level = self.me.id.shared_prefix_digits(other, DIGIT_BITS) as usize;
        (level + 1..self.map.rows())
            .flat_map(|r| self.map.row(r))
            .filter(|c| c.id != *other)
            .take(self.map.width() + 1)
            .cloned()
            .collect()
    }

    /// Every node in the map.
    pub(crate) fn known(&self) -> Vec<Contact<A>> {
        self.map.slots().to_vec()
    }

    /// Where surrogate routing goes from here for `key`: the level and digit of the entry
    /// to follow, or `None` when this node is the key's root. At each level the key's digit
    /// is tried first, then the next digits upwards; reaching this node's own digit means
    /// this node matches that level and routing goes on at the next.
    /// Entries whose nodes are all in `avoid` count as empty.
    pub(crate) fn surrogate_hop(&self, key: &Key, avoid: &[Key]) -> Option<(usize, usize)> {
        for level in 0..self.map.rows() {
            let own = self.me.id.digit(level as u32, DIGIT_BITS) as usize;
            let want = key.digit(level as u32, DIGIT_BITS) as usize;
            for offset in 0..BASE {
                let d = (want + offset) % BASE;
                if d == own {
                    break;
                }
                let live = |s: &&Contact<A>| !avoid.contains(&s.id);
                if self.map.entry(level, d).iter().any(|s| live(&s)) {
                    return Some((level, d));
                }
            }
        }
        None
    }

    /// The `num` nodes first in surrogate order for `key` among this node and its map:
    /// the root, then the nodes that become root if it fails.
    /// Nodes in `avoid` are left out.
    pub(crate) fn surrogate_order(&self, key: &Key, num: usize, avoid: &[Key]) -> Vec<Contact<A>> {
        let mut best: Vec<&Contact<A>> = Vec::with_capacity(num + 1);
        let known = self.map.slots().iter();
        let candidates = std::iter::once(&self.me).chain(known.filter(|c| !avoid.contains(&c.id)));
        for c in candidates {
            let at = best.partition_point(|b| key.cmp_surrogate(&b.id, &c.id, DIGIT_BITS).is_lt());
            if at < num {
                best.insert(at, c);
                best.truncate(num);
            }
        }
        best.into_iter().cloned().collect()
    }

    fn arm_timers(&self, out: &mut RoutingOut<'_, Self>) {
        out.timer(self.cfg.ping_interval, TapestryTimer::Heartbeat);
        out.timer(self.cfg.table_interval, TapestryTimer::TableMaintenance);
        out.timer(self.cfg.republish_interval, TapestryTimer::Republish);
    }

    fn join_query_next(&mut self, out: &mut RoutingOut<'_, Self>, candidates: &[Contact<A>]) {
        let next = candidates
            .iter()
            .find(|c| {
                c.id != self.me.id
                    && !self.join_asked.contains(&c.id)
                    && !self.dead.contains(&c.id, out.now)
            })
            .cloned();
        match next {
            Some(c) if self.join_asked.len() < MAX_JOIN_STEPS => {
                self.join_asked.push(c.id);
                let msg = TapestryMsg::JoinQuery { key: self.me.id };
                self.send(out, c, msg, Pending::Join);
            }
            _ => self.retry_join(out),
        }
    }

    fn retry_join(&mut self, out: &mut RoutingOut<'_, Self>) {
        self.join_asked.clear();
        self.attaching = false;
        if let Some(b) = self.bootstrap.clone() {
            out.timer(self.cfg.join_retry, TapestryTimer::RetryJoin(b));
        }
    }

    fn on_join_state(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        nodes: Vec<Contact<A>>,
        step: Step<A>,
    ) {
        if self.joined || self.attaching {
            return;
        }
        self.learn(out, from, None, true);
        for c in &nodes {
            self.learn(out, c, None, true);
        }
        match step {
            Step::Root(list) => match list.first() {
                Some(r) if r.id != from.id && r.id != self.me.id => {
                    let r = r.clone();
                    if self.join_asked.contains(&r.id) {
                        self.attach(out, r);
                    } else {
                        self.join_query_next(out, &[r]);
                    }
                }
                _ => self.attach(out, from.clone()),
            },
            Step::Next(list) => self.join_query_next(out, &list),
        }
    }

    /// The route to our own id ended at our surrogate root: ask it to insert us.
    fn attach(&mut self, out: &mut RoutingOut<'_, Self>, root: Contact<A>) {
        self.attaching = true;
        self.send(out, root, TapestryMsg::Attach, Pending::Attach);
    }

    /// The surrogate root took us in (its multicast goes on to every node sharing its
    /// prefix with us; our own map already came from it with the join state): we route
    /// now. The closest node of every entry learns of us too, so it may rank us.
    pub(crate) fn finish_join(&mut self, out: &mut RoutingOut<'_, Self>, reached: &[Contact<A>]) {
        for c in reached {
            self.learn(out, c, None, true);
        }
        self.joined = true;
        self.attaching = false;
        self.join_asked.clear();
        out.joined();
        let announced: Vec<Contact<A>> = self
            .map
            .primaries()
            .map(|(_, s)| s.clone())
            .filter(|c| !reached.iter().any(|r| r.id == c.id))
            .collect();
        let held: Vec<Contact<A>> = self
            .map
            .slots()
            .iter()
            .filter(|c| !announced.iter().any(|a| a.id == c.id))
            .cloned()
            .collect();
        for c in announced {
            self.send(out, c, TapestryMsg::Announce, Pending::Notice);
        }
        for c in held {
            self.tell_held(out, c, true);
        }
        self.arm_timers(out);
    }

    /// Drops `id` from the map (a backup of its entry moves up). An entry left empty is
    /// refilled from nodes sharing at least as long a prefix with us: their level of the
    /// map covers the same prefixes as ours.
    fn forget(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        // Only the mode that leaves backups out of the heartbeats needs to know.
        let was_primary = self.cfg.backup_probes.is_some() && self.map.is_primary(&peer.id);
        let Some((row, col, emptied)) = self.map.remove(&peer.id) else {
            return;
        };
        out.update(peer.clone(), false);
        if !emptied {
            if was_primary {
                self.heartbeat_promoted(out, row, col);
            }
            return;
        }
        let mut helpers: Vec<Contact<A>> = (row..self.map.rows())
            .flat_map(|r| self.map.row(r).iter().cloned())
            .collect();
        for _ in 0..REPAIR_FANOUT.min(helpers.len()) {
            let pick = helpers.swap_remove(out.rng.random_range(0..helpers.len()));
            let msg = TapestryMsg::GetRow { row: row as u8 };
            self.send(out, pick, msg, Pending::Row);
        }
    }

    /// The next `k` backups (nodes behind an entry's closest one) in turn, not `watched`.
    fn next_backups(&mut self, k: usize, watched: &dyn Fn(&Contact<A>) -> bool) -> Vec<Contact<A>> {
        let backups: Vec<&Contact<A>> = (0..self.map.rows())
            .flat_map(|row| (0..BASE).map(move |col| (row, col)))
            .flat_map(|(row, col)| self.map.entry(row, col).iter().skip(1))
            .filter(|c| !watched(c))
            .collect();
        in_turn(backups.into_iter(), &mut self.backup_cursor, k)
            .cloned()
            .collect()
    }

    /// A heartbeat to `c`, which doubles as a backpointer refresh ("you are held").
    fn send_heartbeat(&mut self, out: &mut RoutingOut<'_, Self>, c: Contact<A>) {
        let msg = TapestryMsg::Backpointer { held: true };
        self.send(out, c, msg, Pending::Heartbeat(out.now));
    }

    /// Probes the node that just moved up to the front of entry `(row, col)`: heartbeats
    /// that skip backups have not checked it, and a backup that left unnoticed would
    /// otherwise cost the next message routed through the entry a timeout.
    fn heartbeat_promoted(&mut self, out: &mut RoutingOut<'_, Self>, row: usize, col: usize) {
        if let Some(c) = self.map.entry(row, col).first().cloned() {
            self.send_heartbeat(out, c);
        }
    }

    /// The nodes of level `row` and this node, for a `GetRow`. With `backup_probes`, only
    /// the entries' closest nodes, which the heartbeats check every few periods: a backup
    /// may have left unnoticed, and maps would hand it on to one another.
    fn row_with_me(&self, row: usize) -> Vec<Contact<A>> {
        let me = std::iter::once(self.me.clone());
        match self.cfg.backup_probes {
            None => me.chain(self.map.row(row).iter().cloned()).collect(),
            Some(_) => me.chain(self.map.row_primaries(row).cloned()).collect(),
        }
    }

    /// Probes the `watched` nodes of the deepest levels (where a root's replicas are) every
    /// period, and the next `ping_batch << boost` of the others in turn: backups too unless
    /// `backup_probes` gives them a slower rotation of their own, so that an entry does not
    /// silt up with departed nodes while only its first is watched.
    fn on_timer_heartbeat(&mut self, out: &mut RoutingOut<'_, Self>) {
        self.boost = if self.failures_seen > 0 {
            (self.boost + 1).min(MAX_BOOST)
        } else {
            0
        };
        self.failures_seen = 0;
        let deep = self.map.len().saturating_sub(self.cfg.watched);
        let watched: Vec<Contact<A>> = self.map.slots()[deep..].to_vec();
        let is_watched = |c: &Contact<A>| watched.iter().any(|w| w.id == c.id);
        // While failures are being found, backups wait (one that moves up is probed
        // then): each would open a connection when many are being opened.
        let backups = match self.cfg.backup_probes {
            Some(k) if self.boost == 0 => self.next_backups(k, &is_watched),
            _ => Vec::new(),
        };
        let batch = self.cfg.ping_batch << self.boost;
        let turn: Vec<Contact<A>> = match self.cfg.backup_probes {
            None => {
                let rest = self.map.slots()[..deep].iter();
                in_turn(rest, &mut self.ping_cursor, batch)
                    .cloned()
                    .collect()
            }
            Some(_) => {
                let primaries = self.map.primaries().map(|(_, c)| c);
                let rest: Vec<&Contact<A>> = primaries.filter(|c| !is_watched(c)).collect();
                in_turn(rest.into_iter(), &mut self.ping_cursor, batch)
                    .cloned()
                    .collect()
            }
        };
        // The probe doubles as a backpointer refresh: it goes only to nodes the map holds.
        for c in turn.into_iter().chain(watched).chain(backups) {
            self.send_heartbeat(out, c);
        }
        self.probe_backpointers(out);
        out.timer(self.cfg.ping_interval, TapestryTimer::Heartbeat);
    }

    /// Asks a random node of each level for its own. With `backup_probes`, only entries'
    /// closest nodes are asked: the heartbeats keep a connection open to them already.
    fn on_timer_table(&mut self, out: &mut RoutingOut<'_, Self>) {
        for row in 0..self.map.rows() {
            let nodes: Vec<&Contact<A>> = match self.cfg.backup_probes {
                None => self.map.row(row).iter().collect(),
                Some(_) => self.map.row_primaries(row).collect(),
            };
            if nodes.is_empty() {
                continue;
            }
            let pick = nodes[out.rng.random_range(0..nodes.len())].clone();
            let msg = TapestryMsg::GetRow { row: row as u8 };
            self.send(out, pick, msg, Pending::Row);
        }
        if let Some(o) = self.objects.as_mut() {
            o.expire(out.now);
        }
        out.timer(self.cfg.table_interval, TapestryTimer::TableMaintenance);
    }
}

impl<A: Address> Routing for Tapestry<A> {
    type Addr = A;
    type Msg = TapestryMsg<A>;
    type Timer = TapestryTimer<A>;
    type Config = TapestryConfig;

    const NAME: &'static str = "tapestry";

    fn new(me: Contact<A>, config: &TapestryConfig) -> Self {
        Tapestry {
            map: NeighbourMap::new(me.id, config.backups),
            me,
            cfg: Arc::new(config.clone()),
            joined: false,
            attaching: false,
            bootstrap: None,
            join_asked: Vec::new(),
            pending: SmallMap::default(),
            probe_queue: ProbeQueue::new(config.max_probes),
            dead: RecentlyDead::new(config.ping_interval * DEAD_MEMORY, MAX_DEAD),
            relays: Vec::new(),
            next_local: 0,
            objects: None,
            backpointers: None,
            ping_cursor: 0,
            backup_cursor: 0,
            failures_seen: 0,
            boost: 0,
        }
    }

    fn me(&self) -> &Contact<A> {
        &self.me
    }

    fn join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Option<Contact<A>>) {
        match bootstrap {
            Some(b) if b.id != self.me.id => {
                self.bootstrap = Some(b.clone());
                self.join_query_next(out, &[b]);
            }
            _ => {
                self.joined = true;
                out.joined();
                self.arm_timers(out);
            }
        }
    }

    fn leave(&mut self, out: &mut RoutingOut<'_, Self>) {
        let mut told = self.known();
        let known: std::collections::BTreeSet<Key> = told.iter().map(|c| c.id).collect();
        told.extend(self.backpointers().filter(|b| !known.contains(&b.id)));
        for c in told {
            let nodes = self.replacements_for(&c.id);
            self.send(out, c, TapestryMsg::Leaving { nodes }, Pending::Notice);
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
        msg: TapestryMsg<A>,
    ) -> Result<(), ProtocolError> {
        let needs_routing = matches!(
            msg,
            TapestryMsg::JoinQuery { .. }
                | TapestryMsg::Attach
                | TapestryMsg::Publish { .. }
                | TapestryMsg::Locate { .. }
        );
        if needs_routing && !self.joined {
            return Err(ProtocolError::NotJoined);
        }
        let reply = match msg {
            TapestryMsg::JoinQuery { key } => {
                if key != from.id {
                    return Err(ProtocolError::Unexpected(
                        "a join query for another node's id".into(),
                    ));
                }
                TapestryMsg::JoinState {
                    nodes: self.known(),
                    step: self.step(&key, 4),
                }
            }
            TapestryMsg::Attach => {
                self.learn(out, from, None, false);
                let level = self.me.id.shared_prefix_digits(&from.id, DIGIT_BITS) as usize;
                self.start_relay(out, from.clone(), level, &from.id);
                TapestryMsg::Attached {
                    reached: vec![self.me.clone()],
                }
            }
            TapestryMsg::Multicast { joiner, level } => {
                self.learn(out, &joiner, None, false);
                self.start_relay(out, joiner, level as usize, &from.id);
                TapestryMsg::MulticastAck {
                    reached: vec![self.me.clone()],
                }
            }
            TapestryMsg::Announce => {
                self.note_backpointer(from, true);
                self.learn(out, from, None, true);
                TapestryMsg::Ack
            }
            TapestryMsg::Backpointer { held } => {
                self.note_backpointer(from, held);
                TapestryMsg::Ack
            }
            TapestryMsg::GetRow { row } => TapestryMsg::Row {
                nodes: self.row_with_me(row as usize),
            },
            TapestryMsg::Ping => TapestryMsg::Ack,
            TapestryMsg::Leaving { nodes } => {
                self.note_backpointer(from, false);
                self.forget(out, from);
                for c in nodes.iter().filter(|c| c.id != from.id) {
                    self.learn(out, c, None, false);
                }
                TapestryMsg::Ack
            }
            TapestryMsg::Publish { object, server } => {
                let expires = out.now + self.cfg.pointer_ttl;
                self.objects_mut().add_pointer(object, server, expires);
                TapestryMsg::Hop {
                    step: self.step(&object, 4),
                }
            }
            TapestryMsg::Locate { object } => match self.pointed_servers(&object, out.now) {
                Some(servers) => TapestryMsg::Located { servers },
                None => TapestryMsg::Hop {
                    step: self.step(&object, 4),
                },
            },
            TapestryMsg::JoinState { .. }
            | TapestryMsg::Attached { .. }
            | TapestryMsg::MulticastAck { .. }
            | TapestryMsg::Row { .. }
            | TapestryMsg::Ack
            | TapestryMsg::Located { .. }
            | TapestryMsg::Hop { .. } => {
                return Err(ProtocolError::Unexpected(
                    "a tapestry response sent as a request".into(),
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
        msg: TapestryMsg<A>,
    ) -> Result<(), ProtocolError> {
        let Some(kind) = self.take_pending(id) else {
            return Err(ProtocolError::Unexpected(
                "a tapestry answer nobody asked for".into(),
            ));
        };
        match (kind, msg) {
            (Pending::Join, TapestryMsg::JoinState { nodes, step }) => {
                self.on_join_state(out, from, nodes, step)
            }
            (Pending::Attach, TapestryMsg::Attached { reached }) => {
                if !self.joined {
                    self.finish_join(out, &reached);
                }
            }
            (Pending::Relay(relay), TapestryMsg::MulticastAck { reached }) => {
                for c in &reached {
                    self.learn(out, c, None, false);
                }
                self.relay_answered(relay)
            }
            (Pending::Probe(sent) | Pending::Heartbeat(sent), TapestryMsg::Ack) => {
                let rtt = u32::try_from(out.now.since(sent).as_micros()).unwrap_or(u32::MAX - 1);
                self.learn(out, from, Some(rtt), false);
                self.probe(out, None);
            }
            (Pending::Row, TapestryMsg::Row { nodes }) => {
                // Maintenance keeps the map consistent (no entry empty that has nodes);
                // proximity is chosen at join time and by heartbeats, not by probing
                // every node a row names again and again.
                for c in &nodes {
                    self.learn(out, c, None, false);
                }
            }
            (Pending::Notice, TapestryMsg::Ack) => {}
            (Pending::Walk(walk), TapestryMsg::Hop { step }) => {
                self.walk_hop(out, walk, from, step)
            }
            (Pending::Walk(walk), TapestryMsg::Located { servers }) => {
                self.walk_found(out, walk, servers)
            }
            _ => {
                return Err(ProtocolError::Unexpected(
                    "a tapestry answer of the wrong kind".into(),
                ));
            }
        }
        Ok(())
    }

    fn on_request_failed(&mut self, out: &mut RoutingOut<'_, Self>, to: &Contact<A>, id: ReqId) {
        match self.take_pending(id) {
            Some(Pending::Join | Pending::Attach) if !self.joined => self.retry_join(out),
            Some(Pending::Relay(relay)) => self.relay_failed(out, relay, to),
            Some(Pending::Walk(walk)) => self.walk_advance(out, walk),
            Some(Pending::Probe(_)) => self.probe(out, None),
            _ => {}
        }
    }

    fn on_timer(&mut self, out: &mut RoutingOut<'_, Self>, timer: TapestryTimer<A>) {
        match timer {
            TapestryTimer::Heartbeat => self.on_timer_heartbeat(out),
            TapestryTimer::TableMaintenance => self.on_timer_table(out),
            TapestryTimer::MapNotices => self.send_map_changes(out),
            TapestryTimer::Republish => {
                self.republish(out);
                out.timer(self.cfg.republish_interval, TapestryTimer::Republish);
            }
            TapestryTimer::RetryJoin(b) => {
                if !self.joined && !self.attaching {
                    // The bootstrap may have left since: any node learnt will do.
                    let mut candidates = vec![b];
                    candidates.extend(self.known());
                    self.join_query_next(out, &candidates);
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
        // Tapestry walks its join route and its object walks itself (it needs every node
        // on the way), so it starts no generic lookups.
    }

    fn peer_failed(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        self.dead.insert(peer.id, (), out.now);
        self.failures_seen += 1;
        self.note_backpointer(peer, false);
        self.forget(out, peer);
    }

    fn step(&self, key: &Key, num: usize) -> Step<A> {
        self.step_avoiding(key, num, &[])
    }

    fn step_avoiding(&self, key: &Key, num: usize, avoid: &[Key]) -> Step<A> {
        let num = num.max(1);
        if !self.joined {
            return Step::Next(Vec::new());
        }
        let Some((level, digit)) = self.surrogate_hop(key, avoid) else {
            return Step::Root(self.surrogate_order(key, num, avoid));
        };
        // The entry's nodes, then the entries surrogate routing falls to if they all fail.
        let own = self.me.id.digit(level as u32, DIGIT_BITS) as usize;
        let mut next = Vec::with_capacity(num);
        for offset in 0..BASE {
            let d = (digit + offset) % BASE;
            if d == own || next.len() >= num {
                break;
            }
            let entry = self.map.entry(level, d).iter();
            let live = entry.filter(|s| !avoid.contains(&s.id));
            for s in live.take(num - next.len()) {
                next.push(s.clone());
            }
        }
        Step::Next(next)
    }

    fn local_lookup(&self, key: &Key, num: usize, _safe: bool) -> Vec<Contact<A>> {
        self.step(key, num).contacts().to_vec()
    }

    fn neighbor_set(&self, num: usize) -> Vec<Contact<A>> {
        // The deepest levels first: the nodes sharing the longest prefix with this one.
        let mut v = Vec::with_capacity(num);
        for row in (0..self.map.rows()).rev() {
            for s in self.map.row(row) {
                if v.len() >= num {
                    return v;
                }
                v.push(s.clone());
            }
        }
        v
    }

    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<A>> {
        if !self.joined {
            return Vec::new();
        }
        self.surrogate_order(key, max_rank, &[])
    }

    fn is_root(&self, key: &Key) -> bool {
        self.joined && self.surrogate_hop(key, &[]).is_none()
    }

    fn summary(&self) -> String {
        format!(
            "tapestry id={} levels={} neighbours={} entries={} backups={} pointers={} objects={}",
            self.me.id.short(),
            self.map.rows(),
            self.map.len(),
            self.map.primaries().count(),
            self.cfg.backups,
            self.objects.as_ref().map_or(0, |o| o.pointer_count()),
            self.objects.as_ref().map_or(0, |o| o.served_count()),
        )
    }
}
