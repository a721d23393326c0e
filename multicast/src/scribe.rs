//! Scribe as an [`Application`]: tree construction by routed joins, dissemination down
//! the tree, anycast by depth-first search, and the tree's upkeep (heartbeats, refreshes,
//! timeouts, re-rooting, the bottleneck remover).

use std::collections::BTreeMap;
use std::sync::Arc;

use overlay::{
    Address, Application, Contact, CtxOf, Forward, InvalidMessage, Key, NodeId, ProtocolError,
    ReqId, Time,
};

use crate::config::ScribeConfig;
use crate::group::{Child, Group};
use crate::messages::{
    AnycastMsg, GroupId, GroupReport, Publication, ScribeCommand, ScribeEvent, ScribeMsg,
};

type Cx<'a, 'b, A> = &'a mut CtxOf<'b, A, Scribe<A>>;

/// Scribe's timer: the tree's periodic upkeep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScribeTimer {
    /// Heartbeats, refreshes, timeouts, the root check, reordering gaps.
    Tick,
}

/// What a request was for, when its answer or failure matters.
#[derive(Clone, Debug)]
enum Sent<A> {
    /// To a child (data, heartbeat, adoption) at `at`: a refusal or failure drops it,
    /// unless it was taken in again since.
    ToChild {
        group: GroupId,
        child: NodeId,
        at: Time,
    },
    /// A refresh to the parent, or an adoption request: a refusal or failure means
    /// joining again.
    ToParent { group: GroupId },
    /// An anycast passed to another tree node: on failure the search goes on here.
    Anycast(AnycastMsg<A>),
}

/// Scribe's state on one node: its groups, and its own publications' sequence numbers.
#[derive(Clone, Debug)]
pub struct Scribe<A> {
    cfg: Arc<ScribeConfig>,
    groups: BTreeMap<GroupId, Group<A>>,
    published: BTreeMap<GroupId, u64>,
    anycasts: u64,
    sent: BTreeMap<ReqId, Sent<A>>,
    ticking: bool,
}

impl<A> Default for Scribe<A> {
    fn default() -> Self {
        Scribe::new(Arc::new(ScribeConfig::default()))
    }
}

impl<A> Scribe<A> {
    /// Scribe with parameters `cfg` (shared by the nodes of a simulation).
    pub fn new(cfg: Arc<ScribeConfig>) -> Self {
        Scribe {
            cfg,
            groups: BTreeMap::new(),
            published: BTreeMap::new(),
            anycasts: 0,
            sent: BTreeMap::new(),
            ticking: false,
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &ScribeConfig {
        &self.cfg
    }

    /// The groups this node keeps state for (as member, forwarder or root).
    pub fn groups(&self) -> impl Iterator<Item = (&GroupId, &Group<A>)> {
        self.groups.iter()
    }

    /// This node's state in `group`.
    pub fn group(&self, group: &GroupId) -> Option<&Group<A>> {
        self.groups.get(group)
    }
}

impl<A: Address> Scribe<A> {
    fn send(&mut self, ctx: Cx<'_, '_, A>, to: Contact<A>, msg: ScribeMsg<A>, sent: Sent<A>) {
        let id = ctx.request(to, msg);
        self.sent.insert(id, sent);
    }

    /// Routes a join for this node towards the group id.
    fn join(&mut self, ctx: Cx<'_, '_, A>, group: GroupId) {
        if let Some(g) = self.groups.get_mut(&group) {
            g.parent = None;
            g.rooted = false;
            g.heard_parent = ctx.now;
        }
        let child = ctx.me().clone();
        let below = vec![child.id];
        ctx.route(
            group,
            ScribeMsg::Join {
                group,
                child,
                below,
            },
            None,
        );
    }

    /// Makes this node the root of `group`'s tree (leaving its parent, if any).
    fn become_root(&mut self, ctx: Cx<'_, '_, A>, group: GroupId) {
        let now = ctx.now;
        let me = ctx.me().id;
        let g = self.groups.entry(group).or_insert_with(|| Group::new(now));
        if let Some(old) = g.parent.take() {
            ctx.request(old, ScribeMsg::Leave { group });
        }
        g.root = true;
        let root = Some(ctx.me().clone());
        self.set_path(ctx, group, vec![me], true, root);
        self.announce(ctx, group);
    }

    /// Takes `child` into `group`'s tree, or (over the child limit) sends it to a child of
    /// this node to ask instead: the bottleneck remover, at admission, so a child is never
    /// adopted and dropped again.
    fn admit(&mut self, ctx: Cx<'_, '_, A>, group: GroupId, child: Contact<A>) {
        let now = ctx.now;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let full = g.children.len() >= self.cfg.max_children && !g.children.contains_key(&child.id);
        if full && !g.children.is_empty() {
            let pick = child.id.as_bytes()[0] as usize % g.children.len();
            let sibling = g.children.values().nth(pick).map(|c| c.contact.clone());
            ctx.request(child, ScribeMsg::Rejoin { group, to: sibling });
            return;
        }
        g.children.insert(
            child.id,
            Child {
                contact: child.clone(),
                refreshed: now,
                last_sent: now,
                admitted: now,
            },
        );
        let (path, rooted, root) = (g.path.clone(), g.is_rooted(), g.root_contact.clone());
        let sent = Sent::ToChild {
            group,
            child: child.id,
            at: now,
        };
        let msg = ScribeMsg::Accepted {
            group,
            path,
            rooted,
            root,
        };
        self.send(ctx, child, msg, sent);
    }

    /// Sets this node's path from its parent's (or, at the root, to itself alone), whether
    /// it reaches the root and the root's contact, and tells the children when the path or
    /// its reach changed: a loop is seen quickly, and members learn when they are
    /// connected.
    fn set_path(
        &mut self,
        ctx: Cx<'_, '_, A>,
        group: GroupId,
        mut path: Vec<NodeId>,
        rooted: bool,
        root: Option<Contact<A>>,
    ) {
        let me = ctx.me().id;
        if path.last() != Some(&me) {
            path.push(me);
        }
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        // A contact that is not the path's root is not the root's.
        g.root_contact = root.filter(|r| path.first() == Some(&r.id));
        if g.path != path || g.rooted != rooted {
            g.path = path;
            g.rooted = rooted;
            self.heartbeat(ctx, group, |_| true);
        }
        self.announce(ctx, group);
    }

    /// Sends a heartbeat to the children `due` picks.
    fn heartbeat(&mut self, ctx: Cx<'_, '_, A>, group: GroupId, due: impl Fn(&Child<A>) -> bool) {
        let now = ctx.now;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let (path, rooted, root) = (g.path.clone(), g.is_rooted(), g.root_contact.clone());
        let kids: Vec<Contact<A>> = g
            .children
            .values_mut()
            .filter(|c| due(c))
            .map(|c| {
                c.last_sent = now;
                c.contact.clone()
            })
            .collect();
        for kid in kids {
            let sent = Sent::ToChild {
                group,
                child: kid.id,
                at: now,
            };
            let msg = ScribeMsg::Heartbeat {
                group,
                path: path.clone(),
                rooted,
                root: root.clone(),
            };
            self.send(ctx, kid, msg, sent);
        }
    }

    /// Reports `Subscribed` once a member is connected to the root.
    fn announce(&mut self, ctx: Cx<'_, '_, A>, group: GroupId) {
        if let Some(g) = self.groups.get_mut(&group)
            && g.member
            && g.is_rooted()
            && !g.announced
        {
            g.announced = true;
            ctx.emit(ScribeEvent::Subscribed { group });
        }
    }

    /// Drops `group` here if nothing needs it any more, telling the parent.
    fn prune(&mut self, ctx: Cx<'_, '_, A>, group: GroupId) {
        if !self.groups.get(&group).is_some_and(Group::is_idle) {
            return;
        }
        if let Some(g) = self.groups.remove(&group)
            && let Some(parent) = g.parent
        {
            ctx.request(parent, ScribeMsg::Leave { group });
        }
    }

    fn drop_child(&mut self, ctx: Cx<'_, '_, A>, group: GroupId, child: &NodeId) {
        if let Some(g) = self.groups.get_mut(&group) {
            g.children.remove(child);
        }
        self.prune(ctx, group);
    }

    /// `child` refused or failed a request sent at `at`. A refusal answers the state the
    /// request found: a child that left and joined again since (a forwarder pruned when
    /// its last child went, then on a join's path again) is kept, or it would keep this
    /// node as its parent while no data came down to it.
    fn lost_child(&mut self, ctx: Cx<'_, '_, A>, group: GroupId, child: &NodeId, at: Time) {
        let taken_since = self
            .groups
            .get(&group)
            .and_then(|g| g.children.get(child))
            .is_some_and(|c| c.admitted > at);
        if !taken_since {
            self.drop_child(ctx, group, child);
        }
    }

    /// The parent `from` (or the node asked to adopt this one) refused or failed.
    fn lost_parent(&mut self, ctx: Cx<'_, '_, A>, group: GroupId, from: &Contact<A>) {
        let Some(g) = self.groups.get(&group) else {
            return;
        };
        if g.is_parent(from) || (!g.is_attached()) {
            self.join(ctx, group);
        }
    }

    /// Takes a publication that came from `from` (`None`: routed here): delivers it here
    /// in its publisher's order (members only) and passes it, once, to every tree neighbour
    /// but `from`. It normally enters at the root and only goes down; one routed to a node
    /// that the overlay takes for the root while the tree is still rooted elsewhere (views
    /// differ for a while after failures) also goes up, so it reaches the whole tree.
    fn disseminate(&mut self, ctx: Cx<'_, '_, A>, p: Publication, from: Option<NodeId>) {
        let now = ctx.now;
        let group = p.group;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        let inbox = g.inboxes.entry(p.publisher).or_default();
        let Some(ready) = inbox.accept(p.clone(), now) else {
            return;
        };
        if g.member {
            for r in ready {
                ctx.emit(ScribeEvent::Delivered(r));
            }
        }
        let kids: Vec<Contact<A>> = g
            .children
            .values_mut()
            .filter(|c| Some(c.contact.id) != from)
            .map(|c| {
                c.last_sent = now;
                c.contact.clone()
            })
            .collect();
        let up = g.parent.clone().filter(|p| Some(p.id) != from);
        for kid in kids {
            let sent = Sent::ToChild {
                group,
                child: kid.id,
                at: now,
            };
            self.send(ctx, kid, ScribeMsg::Data(p.clone()), sent);
        }
        if let Some(parent) = up {
            self.send(ctx, parent, ScribeMsg::Data(p), Sent::ToParent { group });
        }
    }

    /// One step of an anycast's depth-first search, at a tree node: a member takes it;
    /// else it goes to a child not yet searched, or back up to the parent.
    fn anycast_step(&mut self, ctx: Cx<'_, '_, A>, mut m: AnycastMsg<A>) {
        let me = ctx.me().clone();
        let Some(g) = self.groups.get(&m.group) else {
            return self.anycast_result(ctx, &m, None);
        };
        if g.member {
            ctx.emit(ScribeEvent::AnycastReceived {
                group: m.group,
                id: m.id,
                origin: m.origin.clone(),
                payload: m.payload.clone(),
            });
            return self.anycast_result(ctx, &m, Some(me));
        }
        if !m.visited.contains(&me.id) {
            m.visited.push(me.id);
        }
        m.steps += 1;
        let max = ctx.limits().max_list;
        if m.visited.len() >= max || m.steps as usize > 4 * max {
            return self.anycast_result(ctx, &m, None);
        }
        let next = g
            .children
            .values()
            .find(|c| !m.visited.contains(&c.contact.id))
            .map(|c| c.contact.clone())
            .or_else(|| g.parent.clone());
        match next {
            Some(next) => {
                let sent = Sent::Anycast(m.clone());
                self.send(ctx, next, ScribeMsg::Anycast(m), sent);
            }
            None => self.anycast_result(ctx, &m, None),
        }
    }

    fn anycast_result(&mut self, ctx: Cx<'_, '_, A>, m: &AnycastMsg<A>, by: Option<Contact<A>>) {
        let (group, id) = (m.group, m.id);
        if m.origin.id == ctx.me().id {
            ctx.emit(ScribeEvent::AnycastDone { group, id, by });
        } else {
            ctx.request(m.origin.clone(), ScribeMsg::AnycastResult { group, id, by });
        }
    }

    /// The periodic upkeep of one group.
    fn maintain(&mut self, ctx: Cx<'_, '_, A>, group: GroupId) {
        let now = ctx.now;
        let cfg = Arc::clone(&self.cfg);
        let overlay = ctx.overlay();
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if overlay.is_joined() {
            match overlay.root_status(&group) {
                Some(false) if g.root => {
                    // A node closer to the group id has joined: the tree moves under it.
                    g.root = false;
                    self.join(ctx, group);
                }
                // The root failed and this node took its keys over: the tree's root
                // is here now, whatever joins are still on their way round to it.
                Some(true) if !g.root => self.become_root(ctx, group),
                _ => {}
            }
        }
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        g.children
            .retain(|_, c| now.since(c.refreshed) <= cfg.child_timeout);
        let mut flushed = Vec::new();
        if let Some(cutoff) = now.0.checked_sub(cfg.reorder_timeout.as_micros() as u64) {
            for inbox in g.inboxes.values_mut() {
                flushed.extend(inbox.flush(Time(cutoff)));
            }
        }
        if g.member {
            for p in flushed {
                ctx.emit(ScribeEvent::Delivered(p));
            }
        }
        if !g.root {
            let silent = now.since(g.heard_parent);
            // A heartbeat is overdue: the refresh goes at once, as a probe, so that a
            // crashed parent is found when it fails (a request timeout), which on a
            // network of short round trips comes before the parent timeout. Once per
            // silence.
            let late = cfg.heartbeat_interval + cfg.tick_interval() * 2;
            let probe = silent >= late && now.since(g.refreshed_parent) > silent - late;
            if silent > cfg.parent_timeout {
                self.join(ctx, group);
            } else if let Some(parent) = g.parent.clone()
                && (probe || now.since(g.refreshed_parent) >= cfg.refresh_interval)
            {
                g.refreshed_parent = now;
                self.send(
                    ctx,
                    parent,
                    ScribeMsg::Refresh { group },
                    Sent::ToParent { group },
                );
            }
        }
        let interval = cfg.heartbeat_interval;
        self.heartbeat(ctx, group, |c| now.since(c.last_sent) >= interval);
        self.prune(ctx, group);
    }

    fn refuse(ctx: Cx<'_, '_, A>, group: GroupId, reason: String) {
        ctx.emit(ScribeEvent::Refused { group, reason });
    }

    fn check_payload(&self, len: usize) -> Result<(), InvalidMessage> {
        if len > self.cfg.max_payload {
            return Err(InvalidMessage::TooLarge {
                what: "payload",
                len,
                max: self.cfg.max_payload,
            });
        }
        Ok(())
    }
}

impl<A: Address> Application<A> for Scribe<A> {
    type Msg = ScribeMsg<A>;
    type Timer = ScribeTimer;
    type Command = ScribeCommand;
    type Event = ScribeEvent<A>;
    const NAME: &'static str = "scribe";

    /// Every request is answered on arrival (a tree neighbour's state is all it needs), so
    /// a crashed parent or child is found a few round trips after a probe.
    fn answers_at_once(_: &ScribeMsg<A>) -> bool {
        true
    }

    fn on_command(&mut self, ctx: Cx<'_, '_, A>, cmd: ScribeCommand) {
        let now = ctx.now;
        match cmd {
            ScribeCommand::Create(group) => ctx.route(group, ScribeMsg::Create { group }, None),
            ScribeCommand::Subscribe(group) => {
                if !self.groups.contains_key(&group) && self.groups.len() >= self.cfg.max_groups {
                    let reason = format!("this node is in {} groups already", self.groups.len());
                    return Self::refuse(ctx, group, reason);
                }
                let g = self.groups.entry(group).or_insert_with(|| Group::new(now));
                g.member = true;
                if g.is_attached() {
                    self.announce(ctx, group);
                } else {
                    self.join(ctx, group);
                }
            }
            ScribeCommand::Unsubscribe(group) => {
                if let Some(g) = self.groups.get_mut(&group) {
                    g.member = false;
                    g.announced = false;
                }
                self.prune(ctx, group);
            }
            ScribeCommand::Publish { group, payload } => {
                if let Err(e) = self.check_payload(payload.len()) {
                    return Self::refuse(ctx, group, e.to_string());
                }
                let seq = self.published.entry(group).or_default();
                *seq += 1;
                let p = Publication {
                    group,
                    publisher: ctx.me().id,
                    seq: *seq,
                    payload,
                };
                ctx.emit(ScribeEvent::Published { group, seq: p.seq });
                // A member connected to the tree knows the root: straight there, as the
                // paper's sources do with the root's address they cache; the route goes
                // on from it if it is the root no longer, and around it if it is gone.
                let root = self
                    .groups
                    .get(&group)
                    .filter(|g| g.is_rooted())
                    .and_then(|g| g.root_contact.clone());
                ctx.route(group, ScribeMsg::Publish(p), root);
            }
            ScribeCommand::Anycast { group, payload } => {
                if let Err(e) = self.check_payload(payload.len()) {
                    return Self::refuse(ctx, group, e.to_string());
                }
                self.anycasts += 1;
                let m = AnycastMsg {
                    group,
                    id: self.anycasts,
                    origin: ctx.me().clone(),
                    payload,
                    visited: Vec::new(),
                    steps: 0,
                };
                ctx.route(group, ScribeMsg::Anycast(m), None);
            }
            ScribeCommand::Report => {
                let groups = self
                    .groups
                    .iter()
                    .map(|(id, g)| GroupReport {
                        group: *id,
                        member: g.member,
                        root: g.root,
                        parent: g.parent.clone(),
                        children: g.children().cloned().collect(),
                    })
                    .collect();
                ctx.emit(ScribeEvent::Groups(groups));
            }
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: ScribeMsg<A>,
    ) -> Result<(), ProtocolError> {
        let now = ctx.now;
        let me = ctx.me().id;
        let answer = |ctx: Cx<'_, '_, A>, ok: bool| {
            let msg = if ok {
                ScribeMsg::Ok
            } else {
                ScribeMsg::NotInTree
            };
            ctx.respond(from.clone(), id, msg);
        };
        match msg {
            ScribeMsg::Accepted {
                group,
                path,
                rooted,
                root,
            } => {
                let Some(g) = self.groups.get_mut(&group) else {
                    answer(ctx, false);
                    return Ok(());
                };
                if g.root || path.contains(&me) {
                    answer(ctx, false);
                    return Ok(());
                }
                if let Some(old) = g.parent.replace(from.clone())
                    && old != *from
                {
                    ctx.request(old, ScribeMsg::Leave { group });
                }
                g.heard_parent = now;
                g.refreshed_parent = now;
                answer(ctx, true);
                self.set_path(ctx, group, path, rooted, root);
            }
            ScribeMsg::Refresh { group } => {
                let child = self
                    .groups
                    .get_mut(&group)
                    .and_then(|g| g.children.get_mut(&from.id));
                if let Some(c) = child {
                    c.refreshed = now;
                }
                answer(ctx, child_known(&self.groups, &group, &from.id));
            }
            ScribeMsg::Heartbeat {
                group,
                path,
                rooted,
                root,
            } => {
                let Some(g) = self.groups.get_mut(&group).filter(|g| g.is_parent(from)) else {
                    answer(ctx, false);
                    return Ok(());
                };
                g.heard_parent = now;
                if path.contains(&me) {
                    // The tree has a loop through this node: leave it and join afresh.
                    answer(ctx, false);
                    self.join(ctx, group);
                } else {
                    answer(ctx, true);
                    self.set_path(ctx, group, path, rooted, root);
                }
            }
            ScribeMsg::Data(p) => {
                self.check_payload(p.payload.len())?;
                let Some(g) = self.groups.get_mut(&p.group) else {
                    answer(ctx, false);
                    return Ok(());
                };
                let from_parent = g.is_parent(from);
                if from_parent {
                    g.heard_parent = now;
                }
                // Data from a former parent or child is still passed on (duplicates are
                // dropped), but it is told that this node is not its neighbour any more.
                let known = from_parent || g.children.contains_key(&from.id);
                answer(ctx, known);
                self.disseminate(ctx, p, Some(from.id));
            }
            ScribeMsg::Leave { group } => {
                answer(ctx, true);
                self.drop_child(ctx, group, &from.id);
            }
            ScribeMsg::Rejoin { group, to } => {
                let Some(g) = self
                    .groups
                    .get_mut(&group)
                    .filter(|g| g.is_parent(from) || !g.is_attached())
                else {
                    answer(ctx, false);
                    return Ok(());
                };
                answer(ctx, true);
                g.parent = None;
                g.heard_parent = now;
                match to {
                    Some(to) if to.id != me => {
                        let sent = Sent::ToParent { group };
                        self.send(ctx, to, ScribeMsg::Adopt { group }, sent);
                    }
                    _ => self.join(ctx, group),
                }
            }
            ScribeMsg::Adopt { group } => {
                let can = self
                    .groups
                    .get(&group)
                    .is_some_and(|g| g.is_attached() && !g.path.contains(&from.id));
                answer(ctx, can);
                if can {
                    self.admit(ctx, group, from.clone());
                }
            }
            ScribeMsg::Anycast(m) => {
                self.check_payload(m.payload.len())?;
                answer(ctx, true);
                self.anycast_step(ctx, m);
            }
            ScribeMsg::AnycastResult { group, id, by } => {
                answer(ctx, true);
                ctx.emit(ScribeEvent::AnycastDone { group, id, by });
            }
            ScribeMsg::Join { .. }
            | ScribeMsg::Create { .. }
            | ScribeMsg::Publish(_)
            | ScribeMsg::Ok
            | ScribeMsg::NotInTree => {
                return Err(ProtocolError::Unexpected(
                    "a routed or answer message sent as a request".into(),
                ));
            }
        }
        Ok(())
    }

    fn on_response(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: ScribeMsg<A>,
    ) -> Result<(), ProtocolError> {
        let Some(sent) = self.sent.remove(&id) else {
            return Ok(());
        };
        if msg == ScribeMsg::NotInTree {
            match sent {
                Sent::ToChild { group, child, at } => self.lost_child(ctx, group, &child, at),
                Sent::ToParent { group } => self.lost_parent(ctx, group, from),
                Sent::Anycast(_) => {}
            }
        }
        Ok(())
    }

    fn on_request_failed(&mut self, ctx: Cx<'_, '_, A>, to: &Contact<A>, id: ReqId, _: bool) {
        match self.sent.remove(&id) {
            Some(Sent::ToChild { group, child, at }) => self.lost_child(ctx, group, &child, at),
            Some(Sent::ToParent { group }) => self.lost_parent(ctx, group, to),
            Some(Sent::Anycast(mut m)) => {
                m.visited.push(to.id);
                self.anycast_step(ctx, m);
            }
            None => {}
        }
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A>, timer: ScribeTimer) {
        match timer {
            ScribeTimer::Tick => {
                let groups: Vec<GroupId> = self.groups.keys().copied().collect();
                for group in groups {
                    self.maintain(ctx, group);
                }
                ctx.set_timer(self.cfg.tick_interval(), ScribeTimer::Tick);
            }
        }
    }

    fn forward(
        &mut self,
        ctx: Cx<'_, '_, A>,
        _: &Key,
        msg: &mut ScribeMsg<A>,
        _: Option<&Contact<A>>,
        next: &Contact<A>,
    ) -> Forward<A> {
        let me = ctx.me().clone();
        let at_root = next.id == me.id;
        match msg {
            ScribeMsg::Join {
                group,
                child,
                below,
            } => {
                let (group, joiner) = (*group, child.clone());
                if let Err(e) = ctx.limits().list("joiners below", below.len() + 1) {
                    tracing::debug!(error = %e, "join dropped");
                    return Forward::Stop;
                }
                if joiner.id == me.id {
                    // This node's own join (first try, or again after a failed hop).
                    if at_root {
                        self.become_root(ctx, group);
                        return Forward::Stop;
                    }
                    return Forward::Continue;
                }
                match self.groups.get(&group) {
                    Some(g) => {
                        // The joiner, or a forwarder that took its join over, is above
                        // this node (the join came round through a subtree that lost its
                        // parent): adopting it would close a loop. Let it pass, unless
                        // this is the root.
                        if below.iter().any(|b| g.path.contains(b)) && !at_root {
                            return Forward::Continue;
                        }
                        // A forwarder the overlay now makes the root (a closer node
                        // failed) takes the tree over, detaching from the old tree
                        // above it.
                        if at_root && !g.root {
                            self.become_root(ctx, group);
                        }
                        self.admit(ctx, group, joiner);
                        Forward::Stop
                    }
                    None if self.groups.len() >= self.cfg.max_groups => Forward::Continue,
                    None => {
                        self.groups.insert(group, Group::new(ctx.now));
                        if at_root {
                            self.become_root(ctx, group);
                            self.admit(ctx, group, joiner);
                            return Forward::Stop;
                        }
                        self.admit(ctx, group, joiner);
                        below.push(me.id);
                        *child = me;
                        Forward::Continue
                    }
                }
            }
            ScribeMsg::Anycast(m) => {
                let in_tree = self
                    .groups
                    .get(&m.group)
                    .is_some_and(|g| g.is_attached() || !g.children.is_empty());
                if in_tree {
                    self.anycast_step(ctx, m.clone());
                    Forward::Stop
                } else if at_root {
                    self.anycast_result(ctx, &m.clone(), None);
                    Forward::Stop
                } else {
                    Forward::Continue
                }
            }
            _ => Forward::Continue,
        }
    }

    fn deliver(&mut self, ctx: Cx<'_, '_, A>, _: &Key, msg: ScribeMsg<A>, _: &Contact<A>, _: u32) {
        match msg {
            ScribeMsg::Create { group } => {
                if !self.groups.get(&group).is_some_and(|g| g.root) {
                    self.become_root(ctx, group);
                }
                if let Some(g) = self.groups.get_mut(&group) {
                    g.created = true;
                }
            }
            ScribeMsg::Publish(p) => {
                if !self.groups.contains_key(&p.group) {
                    tracing::debug!(group = ?p.group, "publish to a group without a tree");
                    return;
                }
                self.disseminate(ctx, p, None);
            }
            ScribeMsg::Anycast(m) => self.anycast_result(ctx, &m, None),
            _ => {}
        }
    }

    fn update(&mut self, ctx: Cx<'_, '_, A>, _: &Contact<A>, joined: bool) {
        if !joined {
            return;
        }
        let overlay = ctx.overlay();
        let moved: Vec<GroupId> = self
            .groups
            .iter()
            .filter(|(id, g)| g.root && overlay.root_status(id) == Some(false))
            .map(|(id, _)| *id)
            .collect();
        for group in moved {
            if let Some(g) = self.groups.get_mut(&group) {
                g.root = false;
            }
            self.join(ctx, group);
        }
    }

    fn on_joined(&mut self, ctx: Cx<'_, '_, A>) {
        if !self.ticking {
            self.ticking = true;
            // Nodes tick at spread-out phases, from their ids.
            let first = self.cfg.tick_interval().mul_f64(ctx.me().id.to_unit());
            ctx.set_timer(first, ScribeTimer::Tick);
        }
    }

    fn on_leave(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        for (group, g) in std::mem::take(&mut self.groups) {
            if let Some(parent) = g.parent {
                ctx.request(parent, ScribeMsg::Leave { group });
            }
            for c in g.children.into_values() {
                ctx.request(c.contact, ScribeMsg::Rejoin { group, to: None });
            }
        }
        true
    }
}

fn child_known<A>(groups: &BTreeMap<GroupId, Group<A>>, group: &GroupId, child: &NodeId) -> bool {
    groups
        .get(group)
        .is_some_and(|g| g.children.contains_key(child))
}

#[cfg(test)]
mod tests;
