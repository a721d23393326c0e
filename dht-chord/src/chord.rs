//! The Chord state machine (Stoica et al., SIGCOMM 2001 / ToN 2003).

use overlay::id::KEY_BITS;
use overlay::{
    Address, Contact, Key, LookupError, ProtocolError, ReqId, Routing, RoutingOut, Step,
};

use crate::config::ChordConfig;
use crate::finger::{FingerTable, first_index_beyond};
use crate::messages::{ChordMsg, ChordTimer};

/// Lookup tag of the join lookup; finger sweeps use `FINGER_TAG + index`.
const JOIN_TAG: u64 = 1;
/// Lookup tag of the ring check.
const RING_CHECK_TAG: u64 = 2;
/// Stabilize rounds between two ring checks.
const RING_CHECK_ROUNDS: u64 = 4;
const FINGER_TAG: u64 = 1000;

/// One Chord node: predecessor, successor list and finger table, kept up by `stabilize`,
/// `notify`, `fix_fingers` and `check_predecessor`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chord<A> {
    pub(crate) me: Contact<A>,
    pub(crate) cfg: ChordConfig,
    pub(crate) pred: Option<Contact<A>>,
    /// While there is no predecessor because it failed, its id: the keys from it to this
    /// node are still this node's (a node that joined among them would have notified), so
    /// this node goes on answering for them as their root.
    lost_pred: Option<Key>,
    /// Successor list, nearest first; empty while this node is alone on the ring.
    pub(crate) succ: Vec<Contact<A>>,
    pub(crate) fingers: FingerTable<A>,
    pub(crate) joined: bool,
    /// Finger index whose lookup is in flight.
    sweep: Option<u8>,
    /// Finger index the next `fix_fingers` tick refreshes (`None`: start a new pass at the
    /// first finger beyond the successor).
    next_finger: Option<u32>,
    /// The `GetNeighbors` request of the stabilize round in flight.
    stabilizing: Option<ReqId>,
    /// The node this one joins through, kept to retry a failed join.
    bootstrap: Option<Contact<A>>,
    /// Nodes that notified this one, with the stabilize round of their last notification;
    /// kept for [`NOTIFIER_ROUNDS`] rounds, at most a successor list's worth.
    notifiers: Vec<(Contact<A>, u64)>,
    /// Stabilize rounds so far.
    round: u64,
}

/// Rounds a notifier is remembered: long enough for every node of a gap to ask once.
const NOTIFIER_ROUNDS: u64 = 3;

impl<A: Address> Chord<A> {
    /// Whether `key` lies between the predecessor (or, while it is lost, the failed one)
    /// and this node.
    fn holds(&self, key: &Key) -> bool {
        match (&self.pred, &self.lost_pred) {
            (Some(p), _) => key.in_open_closed(&p.id, &self.me.id),
            (None, Some(lost)) => key.in_open_closed(lost, &self.me.id),
            (None, None) => false,
        }
    }

    /// A node whose tables are given (the oracle build).
    pub fn from_tables(
        me: Contact<A>,
        cfg: ChordConfig,
        pred: Option<Contact<A>>,
        succ: Vec<Contact<A>>,
        fingers: FingerTable<A>,
    ) -> Self {
        Chord {
            me,
            cfg,
            pred,
            lost_pred: None,
            succ,
            fingers,
            joined: true,
            sweep: None,
            next_finger: None,
            stabilizing: None,
            bootstrap: None,
            notifiers: Vec::new(),
            round: 0,
        }
    }

    /// The predecessor, if known.
    pub fn predecessor(&self) -> Option<&Contact<A>> {
        self.pred.as_ref()
    }

    /// The successor list, nearest first.
    pub fn successors(&self) -> &[Contact<A>] {
        &self.succ
    }

    /// The finger table.
    pub fn fingers(&self) -> &FingerTable<A> {
        &self.fingers
    }

    /// Replaces the successor list (nearest first), dropping this node and duplicates, and
    /// reports the neighbours that came and went.
    fn set_successors(&mut self, out: &mut RoutingOut<'_, Self>, list: Vec<Contact<A>>) {
        let mut next: Vec<Contact<A>> = Vec::with_capacity(self.cfg.successors);
        for c in list {
            if c.id != self.me.id && !next.iter().any(|n| n.id == c.id) {
                next.push(c);
                if next.len() == self.cfg.successors {
                    break;
                }
            }
        }
        if next == self.succ {
            return;
        }
        for old in &self.succ {
            if !next.iter().any(|n| n.id == old.id) {
                out.update(old.clone(), false);
            }
        }
        for new in &next {
            if !self.succ.iter().any(|o| o.id == new.id) {
                out.update(new.clone(), true);
            }
        }
        self.succ = next;
    }

    fn set_predecessor(&mut self, out: &mut RoutingOut<'_, Self>, pred: Option<Contact<A>>) {
        let pred = pred.filter(|p| p.id != self.me.id);
        if pred == self.pred {
            return;
        }
        if let Some(old) = self.pred.take() {
            out.update(old, false);
        }
        if let Some(new) = &pred {
            out.update(new.clone(), true);
            self.lost_pred = None;
        }
        self.pred = pred;
    }

    fn arm_timers(&self, out: &mut RoutingOut<'_, Self>) {
        out.timer(self.cfg.stabilize_interval, ChordTimer::Stabilize);
        out.timer(self.cfg.fix_fingers_interval, ChordTimer::FixFingers);
        out.timer(
            self.cfg.check_predecessor_interval,
            ChordTimer::CheckPredecessor,
        );
    }

    /// `stabilize`: ask the successor for its predecessor and successor list.
    fn stabilize(&mut self, out: &mut RoutingOut<'_, Self>) {
        if self.succ.is_empty() {
            // Alone until someone notified us: that node is also our successor.
            if let Some(p) = self.pred.clone() {
                self.set_successors(out, vec![p]);
            }
        }
        if let Some(s) = self.succ.first().cloned() {
            self.stabilizing = Some(out.request(s, ChordMsg::GetNeighbors));
        }
    }

    /// The successor answered `GetNeighbors`.
    fn on_neighbors(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        pred: Option<Contact<A>>,
        succ: Vec<Contact<A>>,
        notifiers: Vec<Contact<A>>,
    ) {
        // Nodes that joined between us and our successor, nearest first: the nearest is our
        // new successor, and the others follow it.
        let mut list = self.nearest_first_before(pred.into_iter().chain(notifiers), from);
        list.push(from.clone());
        list.extend(succ);
        self.adopt_successors(out, list);
    }

    /// Those of `nodes` that lie between this node and `bound`, nearest first.
    fn nearest_first_before(
        &self,
        nodes: impl IntoIterator<Item = Contact<A>>,
        bound: &Contact<A>,
    ) -> Vec<Contact<A>> {
        let mut between: Vec<Contact<A>> = nodes
            .into_iter()
            .filter(|x| x.id.in_open(&self.me.id, &bound.id))
            .collect();
        between.sort_by_key(|c| self.me.id.distance_to(&c.id));
        between
    }

    /// Takes `list` as the successor list and notifies the (possibly new) successor.
    fn adopt_successors(&mut self, out: &mut RoutingOut<'_, Self>, list: Vec<Contact<A>>) {
        self.set_successors(out, list);
        if let Some(s) = self.succ.first().cloned() {
            out.request(s, ChordMsg::Notify);
        }
    }

    /// `notify`: `from` thinks it is our predecessor.
    fn on_notify(&mut self, out: &mut RoutingOut<'_, Self>, from: &Contact<A>) {
        self.notifiers.retain(|(c, _)| c.id != from.id);
        self.notifiers.push((from.clone(), self.round));
        if self.notifiers.len() > self.cfg.successors {
            self.notifiers.remove(0);
        }
        let better = match &self.pred {
            None => true,
            Some(p) => from.id.in_open(&p.id, &self.me.id),
        };
        if better {
            self.set_predecessor(out, Some(from.clone()));
        } else if let Some(p) = self.pred.clone() {
            // A node before the predecessor takes this one for its successor, so it found
            // the predecessor dead: check now rather than at the next `check_predecessor`,
            // for until the notifier is taken in, the keys between the two have no root.
            out.request(p, ChordMsg::Ping);
        }
        if self.succ.is_empty() {
            self.set_successors(out, vec![from.clone()]);
        }
    }

    /// A neighbour leaves: splice its successors in, or take its predecessor.
    fn on_leaving(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        pred: Option<Contact<A>>,
        succ: Vec<Contact<A>>,
    ) {
        if let Some(pos) = self.succ.iter().position(|c| c.id == from.id) {
            let mut list: Vec<Contact<A>> = self.succ[..pos].to_vec();
            list.extend(succ);
            list.extend(self.succ[pos + 1..].iter().cloned());
            self.set_successors(out, list);
        }
        if self.pred.as_ref().is_some_and(|p| p.id == from.id) {
            self.set_predecessor(out, pred);
        }
        self.fingers.remove(&from.id);
    }

    /// The ring check: look this node's id up through a node away from it, alternately the
    /// node it joined through and its farthest finger. Many nodes joining at once can close
    /// two rings that interleave on the identifier circle (or one that winds round it
    /// twice), each consistent to `stabilize`, which compares a node with its successor
    /// only (Liben-Nowell, Balakrishnan, Karger, PODC 2002). A lookup that starts on the
    /// other ring ends at the node of that ring that follows this one; when that node lies
    /// between this one and its successor, it becomes the successor, and `stabilize` and
    /// `notify` then merge the rings as they do for joins.
    fn check_ring(&mut self, out: &mut RoutingOut<'_, Self>) {
        if self.succ.is_empty() {
            return;
        }
        let farthest = self.fingers.nodes().next_back().cloned();
        let (first, second) = if (self.round / RING_CHECK_ROUNDS) % 2 == 0 {
            (self.bootstrap.clone(), farthest)
        } else {
            (farthest, self.bootstrap.clone())
        };
        if let Some(via) = first.or(second).filter(|c| c.id != self.me.id) {
            out.lookup(self.me.id, RING_CHECK_TAG, Some(via));
        }
    }

    /// The ring check came back: nodes it found between this node and its successor come
    /// first in the successor list, and the nearest is notified at once.
    fn on_ring_check(&mut self, out: &mut RoutingOut<'_, Self>, found: &[Contact<A>]) {
        let Some(s) = self.succ.first() else {
            return;
        };
        let mut closer = self.nearest_first_before(found.iter().cloned(), s);
        if closer.is_empty() {
            return;
        }
        tracing::debug!(node = ?self.me.id, successor = ?closer[0].id, "the ring check found a closer successor");
        closer.extend(self.succ.iter().cloned());
        self.adopt_successors(out, closer);
    }

    /// `fix_fingers`: refresh the next distinct finger, as the paper's `fix_fingers` does
    /// one entry per call; a pass starts at the first finger beyond the successor and skips
    /// the indices a found node already covers.
    fn fix_next_finger(&mut self, out: &mut RoutingOut<'_, Self>) {
        if self.sweep.is_some() {
            return;
        }
        let Some(s) = self.succ.first() else {
            self.fingers = FingerTable::default();
            return;
        };
        let i = match self.next_finger {
            Some(i) if i < KEY_BITS => i,
            _ => {
                let first = first_index_beyond(&self.me.id, &s.id);
                self.fingers.clear_below(first.min(KEY_BITS) as u8);
                first
            }
        };
        if i >= KEY_BITS {
            self.next_finger = None;
            return;
        }
        self.sweep = Some(i as u8);
        let start = self.me.id.wrapping_add(&Key::pow2(i));
        out.lookup(start, FINGER_TAG + i as u64, None);
    }

    /// A finger lookup came back: record the run it starts; the next tick refreshes the
    /// next distinct finger.
    fn on_finger(&mut self, i: u8, found: &Contact<A>) {
        self.sweep = None;
        if found.id == self.me.id {
            // `n + 2^i` wrapped back to us: every finger from `i` on is this node itself.
            self.fingers.clear_from(i);
            self.next_finger = None;
            return;
        }
        let next = first_index_beyond(&self.me.id, &found.id).max(i as u32 + 1);
        self.fingers
            .set_run(i, next.min(KEY_BITS) as u8, found.clone());
        self.next_finger = (next < KEY_BITS).then_some(next);
    }

    /// Nodes known to precede `key` (in `(me, key)`): first the paper's
    /// `closest_preceding_node` over the finger table (whose lowest entry is the
    /// successor), and over the whole successor list if so configured; then, as fallbacks
    /// should it fail, the next-closest fingers and successor-list entries.
    fn closest_preceding(&self, key: &Key, num: usize, avoid: &[Key]) -> Vec<Contact<A>> {
        let limit = self.me.id.distance_to(key);
        // One pass over everything known, each distance computed once: `first` is the
        // paper's pick (fingers and the successor only), `best` the closest preceding
        // nodes of all, as fallbacks.
        let mut first: Option<(Key, &Contact<A>)> = None;
        let mut best: Vec<(Key, &Contact<A>)> = Vec::with_capacity(num + 1);
        // The successor list is in ring order: past the key, the rest is past it too.
        let successors = self
            .succ
            .iter()
            .enumerate()
            .take_while(|(_, c)| self.me.id.distance_to(&c.id) < limit);
        let candidates = self
            .fingers
            .nodes()
            .map(|c| (true, c))
            .chain(successors.map(|(i, c)| (i == 0 || self.cfg.route_through_successors, c)));
        for (primary, c) in candidates {
            let d = self.me.id.distance_to(&c.id);
            if d.is_zero() || d >= limit || avoid.contains(&c.id) {
                continue;
            }
            if primary && first.is_none_or(|(fd, _)| d > fd) {
                first = Some((d, c));
            }
            if best.iter().any(|(bd, _)| *bd == d) {
                continue;
            }
            let at = best.partition_point(|(bd, _)| *bd > d);
            if at < num {
                best.insert(at, (d, c));
                best.truncate(num);
            }
        }
        let mut out: Vec<Contact<A>> = Vec::with_capacity(num);
        if let Some((fd, c)) = first {
            out.push(c.clone());
            best.retain(|(bd, _)| *bd != fd);
        }
        out.extend(
            best.into_iter()
                .take(num - out.len())
                .map(|(_, c)| c.clone()),
        );
        out
    }

    /// This node and its successors but `avoid`: where a key this node is root of lives.
    fn me_and_successors(&self, num: usize, avoid: &[Key]) -> Vec<Contact<A>> {
        let mut v = Vec::with_capacity(num);
        v.push(self.me.clone());
        v.extend(
            self.live_successors(avoid)
                .take(num.saturating_sub(1))
                .cloned(),
        );
        v
    }

    /// The successor list without the nodes in `avoid`.
    fn live_successors<'a>(&'a self, avoid: &'a [Key]) -> impl Iterator<Item = &'a Contact<A>> {
        self.succ.iter().filter(|c| !avoid.contains(&c.id))
    }
}

impl<A: Address> Routing for Chord<A> {
    type Addr = A;
    type Msg = ChordMsg<A>;
    type Timer = ChordTimer<A>;
    type Config = ChordConfig;

    const NAME: &'static str = "chord";

    fn new(me: Contact<A>, config: &ChordConfig) -> Self {
        Chord {
            me,
            cfg: config.clone(),
            pred: None,
            lost_pred: None,
            succ: Vec::new(),
            fingers: FingerTable::default(),
            joined: false,
            sweep: None,
            next_finger: None,
            stabilizing: None,
            bootstrap: None,
            notifiers: Vec::new(),
            round: 0,
        }
    }

    fn me(&self) -> &Contact<A> {
        &self.me
    }

    fn join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Option<Contact<A>>) {
        match bootstrap {
            Some(b) if b.id != self.me.id => {
                self.bootstrap = Some(b.clone());
                out.lookup(self.me.id, JOIN_TAG, Some(b));
            }
            _ => {
                // A new ring: this node alone owns every key.
                self.joined = true;
                out.joined();
                self.arm_timers(out);
            }
        }
    }

    fn leave(&mut self, out: &mut RoutingOut<'_, Self>) {
        let msg = ChordMsg::Leaving {
            pred: self.pred.clone(),
            succ: self.succ.clone(),
        };
        if let Some(s) = self.succ.first().cloned() {
            out.request(s, msg.clone());
        }
        if let Some(p) = self.pred.clone()
            && self.succ.first().is_none_or(|s| s.id != p.id)
        {
            out.request(p, msg);
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
        msg: ChordMsg<A>,
    ) -> Result<(), ProtocolError> {
        if !self.joined {
            return Err(ProtocolError::NotJoined);
        }
        let reply = match msg {
            ChordMsg::GetNeighbors => ChordMsg::Neighbors {
                pred: self.pred.clone(),
                succ: self.succ.clone(),
                notifiers: self
                    .notifiers
                    .iter()
                    .filter(|(c, _)| self.pred.as_ref().is_none_or(|p| p.id != c.id))
                    .map(|(c, _)| c.clone())
                    .collect(),
            },
            ChordMsg::Notify => {
                self.on_notify(out, from);
                ChordMsg::Ack
            }
            ChordMsg::Ping => ChordMsg::Ack,
            ChordMsg::Leaving { pred, succ } => {
                self.on_leaving(out, from, pred, succ);
                ChordMsg::Ack
            }
            ChordMsg::Neighbors { .. } | ChordMsg::Ack => {
                return Err(ProtocolError::Unexpected(
                    "a chord response sent as a request".into(),
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
        msg: ChordMsg<A>,
    ) -> Result<(), ProtocolError> {
        match msg {
            ChordMsg::Neighbors {
                pred,
                succ,
                notifiers,
            } => {
                if self.stabilizing != Some(id) {
                    return Err(ProtocolError::Unexpected(
                        "neighbours nobody asked for".into(),
                    ));
                }
                self.stabilizing = None;
                self.on_neighbors(out, from, pred, succ, notifiers);
                Ok(())
            }
            ChordMsg::Ack => Ok(()),
            _ => Err(ProtocolError::Unexpected(
                "a chord request sent as a response".into(),
            )),
        }
    }

    fn on_request_failed(&mut self, out: &mut RoutingOut<'_, Self>, _to: &Contact<A>, id: ReqId) {
        if self.stabilizing == Some(id) {
            // The successor is gone (already dropped by `peer_failed`): stabilize with the
            // next one at once rather than a period later.
            self.stabilizing = None;
            self.stabilize(out);
        }
    }

    fn on_timer(&mut self, out: &mut RoutingOut<'_, Self>, timer: ChordTimer<A>) {
        match timer {
            ChordTimer::Stabilize => {
                self.round += 1;
                let oldest = self.round.saturating_sub(NOTIFIER_ROUNDS);
                self.notifiers.retain(|(_, r)| *r >= oldest);
                if self.stabilizing.is_none() {
                    self.stabilize(out);
                }
                // Rings that interleave close while nodes join together, and meanwhile a
                // write and a read of one key can end on different rings: a node that
                // joined through another checks every round at first.
                let joining = self.bootstrap.is_some() && self.round < RING_CHECK_ROUNDS;
                if joining || self.round % RING_CHECK_ROUNDS == 0 {
                    self.check_ring(out);
                }
                out.timer(self.cfg.stabilize_interval, ChordTimer::Stabilize);
            }
            ChordTimer::FixFingers => {
                self.fix_next_finger(out);
                out.timer(self.cfg.fix_fingers_interval, ChordTimer::FixFingers);
            }
            ChordTimer::CheckPredecessor => {
                if let Some(p) = self.pred.clone() {
                    out.request(p, ChordMsg::Ping);
                }
                out.timer(
                    self.cfg.check_predecessor_interval,
                    ChordTimer::CheckPredecessor,
                );
            }
            ChordTimer::RetryJoin(b) => {
                if !self.joined {
                    out.lookup(self.me.id, JOIN_TAG, Some(b));
                }
            }
        }
    }

    fn on_lookup_done(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        tag: u64,
        result: Result<&[Contact<A>], LookupError>,
    ) {
        if tag == JOIN_TAG {
            if self.joined {
                return;
            }
            match result {
                Ok(nodes) if nodes.iter().any(|c| c.id != self.me.id) => {
                    self.set_successors(out, nodes.to_vec());
                    self.joined = true;
                    out.joined();
                    if let Some(s) = self.succ.first().cloned() {
                        out.request(s, ChordMsg::Notify);
                    }
                    self.arm_timers(out);
                    self.fix_next_finger(out);
                }
                _ => {
                    tracing::debug!(node = ?self.me.id, "join lookup failed; retrying");
                    if let Some(b) = self.bootstrap.clone() {
                        out.timer(self.cfg.join_retry, ChordTimer::RetryJoin(b));
                    }
                }
            }
            return;
        }
        if tag == RING_CHECK_TAG {
            if let Ok(found) = result {
                self.on_ring_check(out, found);
            }
            return;
        }
        let Some(i) = tag.checked_sub(FINGER_TAG).filter(|i| *i < KEY_BITS as u64) else {
            return;
        };
        if self.sweep != Some(i as u8) {
            return;
        }
        match result {
            Ok(nodes) => self.on_finger(i as u8, &nodes[0]),
            Err(_) => self.sweep = None,
        }
    }

    fn peer_failed(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        self.fingers.remove(&peer.id);
        self.notifiers.retain(|(c, _)| c.id != peer.id);
        if self.pred.as_ref().is_some_and(|p| p.id == peer.id) {
            // A node that notified this round or the last is taken now, as `notify` would
            // take it with no predecessor, rather than at its next stabilize.
            let recent = self.round.saturating_sub(1);
            let nearest = self
                .notifiers
                .iter()
                .filter(|(_, r)| *r >= recent)
                .min_by_key(|(c, _)| c.id.distance_to(&self.me.id))
                .map(|(c, _)| c.clone());
            if nearest.is_none() {
                self.lost_pred = Some(peer.id);
            }
            self.set_predecessor(out, nearest);
        }
        if self.succ.iter().any(|c| c.id == peer.id) {
            let was_first = self.succ.first().is_some_and(|c| c.id == peer.id);
            let mut list: Vec<Contact<A>> = self
                .succ
                .iter()
                .filter(|c| c.id != peer.id)
                .cloned()
                .collect();
            if list.is_empty() {
                // The whole successor list is gone: fall back on the nearest finger.
                list.extend(self.fingers.nodes().next().cloned());
            }
            if was_first {
                // The new successor learns of us now rather than at our next stabilize:
                // until then it cannot tell it is the root of the keys between us, and
                // routes them on round the ring.
                self.adopt_successors(out, list);
            } else {
                self.set_successors(out, list);
            }
        }
    }

    fn step(&self, key: &Key, num: usize) -> Step<A> {
        self.step_avoiding(key, num, &[])
    }

    /// As `step`, with the nodes in `avoid` (next hops that just failed) taken out of the
    /// tables: the successor after a failed one is the key's root, as it will be once
    /// the failure is repaired.
    fn step_avoiding(&self, key: &Key, num: usize, avoid: &[Key]) -> Step<A> {
        let num = num.max(1);
        if !self.joined {
            return Step::Next(Vec::new());
        }
        let Some(s) = self.live_successors(avoid).next() else {
            if !self.succ.is_empty() && !self.holds(key) {
                return Step::Next(self.closest_preceding(key, num, avoid));
            }
            return Step::Root(vec![self.me.clone()]);
        };
        if self.holds(key) {
            // With the predecessor failed, this still covers the keys after the failed
            // one: routed on, they would go round the ring past their root.
            return Step::Root(self.me_and_successors(num, avoid));
        }
        if key.in_open_closed(&self.me.id, &s.id) {
            return Step::Root(self.live_successors(avoid).take(num).cloned().collect());
        }
        let next = self.closest_preceding(key, num, avoid);
        if next.is_empty() {
            // Nothing precedes the key but the successor: hand over to it.
            return Step::Next(vec![s.clone()]);
        }
        Step::Next(next)
    }

    fn local_lookup(&self, key: &Key, num: usize, _safe: bool) -> Vec<Contact<A>> {
        self.step(key, num).contacts().to_vec()
    }

    fn neighbor_set(&self, num: usize) -> Vec<Contact<A>> {
        self.pred
            .iter()
            .chain(self.succ.iter())
            .take(num)
            .cloned()
            .collect()
    }

    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<A>> {
        // The root and the nodes after it, as far as this node sees the ring: its
        // predecessor, itself and its successors, from the first at or after `key`. A key
        // before the predecessor has a root this node cannot see; of its replica set this
        // node knows only the predecessor (nearer the root) and itself. Answering just
        // those two sends copies back towards the root (hand-over to a node that joined
        // as our predecessor) and never forward, where they would spread without end.
        if self.succ.is_empty() {
            return if self.joined {
                vec![self.me.clone()]
            } else {
                Vec::new()
            };
        }
        // A ring smaller than the successor list: the list runs all the way round to the
        // predecessor and this node sees every member, so the replica set wraps round too
        // (cut off at the list's end, a key rooted at the predecessor would name only it, and
        // this node, its true replica, would hand its copy away).
        if let (Some(p), Some(last)) = (&self.pred, self.succ.last())
            && p.id == last.id
        {
            let cycle: Vec<&Contact<A>> = std::iter::once(&self.me).chain(&self.succ).collect();
            let n = cycle.len();
            let root = (0..n)
                .find(|&i| key.in_open_closed(&cycle[(i + n - 1) % n].id, &cycle[i].id))
                .unwrap_or(0);
            return (0..max_rank.min(n))
                .map(|k| cycle[(root + k) % n].clone())
                .collect();
        }
        let ring: Vec<&Contact<A>> = self
            .pred
            .iter()
            .chain(std::iter::once(&self.me))
            .chain(self.succ.iter())
            .collect();
        let Some(start) = ring
            .windows(2)
            .position(|w| key.in_open_closed(&w[0].id, &w[1].id))
        else {
            return ring[..2]
                .iter()
                .take(max_rank)
                .map(|c| (*c).clone())
                .collect();
        };
        ring[start + 1..]
            .iter()
            .take(max_rank)
            .map(|c| (*c).clone())
            .collect()
    }

    /// With next hops from the successor list, the list's first entry at or after `key`,
    /// if the list reaches past it. That entry may have a newer predecessor this node has
    /// not heard of yet, which `nearer_root` at the entry corrects.
    fn root_shortcut(&self, key: &Key, avoid: &[Key]) -> Option<Contact<A>> {
        if !self.cfg.route_through_successors || !self.joined || self.holds(key) {
            return None;
        }
        let limit = self.me.id.distance_to(key);
        self.live_successors(avoid)
            .find(|c| self.me.id.distance_to(&c.id) >= limit)
            .cloned()
    }

    /// The predecessor, when `key` is not this node's: a node that named this one root
    /// from its successor list may not know the predecessor yet. Named root in turn, the
    /// predecessor checks the same way, so the message walks back to the key's root.
    fn nearer_root(&self, key: &Key) -> Option<Contact<A>> {
        self.pred.clone().filter(|_| !self.holds(key))
    }

    fn root_status(&self, key: &Key) -> Option<bool> {
        let root = self.is_root(key);
        match (&self.pred, self.succ.is_empty()) {
            (None, false) if !root => None,
            _ => Some(root),
        }
    }

    fn is_root(&self, key: &Key) -> bool {
        if self.succ.is_empty() {
            return self.joined;
        }
        self.holds(key)
    }

    fn summary(&self) -> String {
        format!(
            "chord id={} pred={} successors={} fingers={}",
            self.me.id.short(),
            self.pred.as_ref().map_or("-".into(), |p| p.id.short()),
            self.succ.len(),
            self.fingers.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use overlay::conformance::scratch::{Scratch, contact as node};

    #[test]
    fn a_node_whose_predecessor_failed_still_roots_the_keys_it_surely_holds() {
        let (pred, me) = (node(40), node(50));
        let succ = vec![node(60), node(70)];
        let mut chord = Chord::from_tables(
            me,
            ChordConfig::default(),
            Some(pred.clone()),
            succ,
            FingerTable::default(),
        );
        let (before_pred, after_pred) = (Key([30; 20]), Key([45; 20]));
        assert_eq!(chord.root_status(&after_pred), Some(true));
        assert_eq!(chord.root_status(&before_pred), Some(false));

        let mut driver = Scratch::<Chord<u32>>::new(1);
        driver.call(|out| chord.peer_failed(out, &pred));
        // The keys after the failed predecessor are still this node's; of those before it
        // this node cannot tell until its new predecessor notifies it.
        assert_eq!(chord.root_status(&after_pred), Some(true));
        assert_eq!(chord.root_status(&before_pred), None);
        assert!(!chord.is_root(&before_pred));
        // A message routed to a key it still holds stops here instead of going round.
        assert!(matches!(chord.step(&after_pred, 1), Step::Root(r) if r[0].addr == 50));

        driver.call(|out| chord.on_notify(out, &node(20)));
        assert_eq!(chord.root_status(&before_pred), Some(true));
        assert_eq!(chord.root_status(&Key([10; 20])), Some(false));
    }

    #[test]
    fn a_routed_message_goes_to_the_root_the_successor_list_names() {
        let table = |through| {
            let cfg = ChordConfig {
                route_through_successors: through,
                ..ChordConfig::default()
            };
            let succ = vec![node(60), node(70), node(80)];
            Chord::from_tables(node(50), cfg, Some(node(40)), succ, FingerTable::default())
        };
        let key = Key([75; 20]);
        assert_eq!(
            table(true).root_shortcut(&key, &[]).map(|c| c.addr),
            Some(80)
        );
        assert_eq!(table(false).root_shortcut(&key, &[]), None);
        // A failed entry's successor stands in for it.
        let failed = [node(70).id];
        assert_eq!(
            table(true)
                .root_shortcut(&Key([65; 20]), &failed)
                .map(|c| c.addr),
            Some(80)
        );
        // Past the list's reach, and for keys this node holds, there is no shortcut.
        assert_eq!(table(true).root_shortcut(&Key([90; 20]), &[]), None);
        assert_eq!(table(true).root_shortcut(&Key([45; 20]), &[]), None);
        // Lookups, which end at the first root named, still go to the key's predecessor.
        assert!(matches!(table(true).step(&key, 1), Step::Next(n) if n[0].addr == 70));
        // A node named root of a key it does not hold passes it back to its predecessor.
        let chord = table(true);
        assert_eq!(chord.nearer_root(&Key([45; 20])), None);
        assert_eq!(chord.nearer_root(&Key([35; 20])).map(|c| c.addr), Some(40));
    }

    #[test]
    fn a_notifier_before_a_dead_predecessor_is_taken_when_the_probe_fails() {
        let (pred, me) = (node(40), node(50));
        let mut chord = Chord::from_tables(
            me,
            ChordConfig::default(),
            Some(pred.clone()),
            vec![node(60)],
            FingerTable::default(),
        );
        let mut driver = Scratch::<Chord<u32>>::new(1);
        // 20 takes us for its successor: it found 40 dead, which we do not know yet.
        driver.call(|out| chord.on_notify(out, &node(20)));
        assert_eq!(chord.predecessor().map(|p| p.addr), Some(40));
        assert_eq!(driver.requested(|m| matches!(m, ChordMsg::Ping)), vec![40]);
        // The probe fails: 20 is the predecessor at once, not at its next stabilize.
        driver.call(|out| chord.peer_failed(out, &pred));
        assert_eq!(chord.predecessor().map(|p| p.addr), Some(20));
        assert_eq!(chord.root_status(&Key([30; 20])), Some(true));
    }
}
