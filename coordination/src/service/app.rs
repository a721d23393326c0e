//! The coordination service as an overlay application: group membership, and over each
//! view a group's election and clock synchronisation and its locks' mutual exclusion.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use overlay::app::AppAction;
use overlay::routing::ReqId;
use overlay::{Address, Application, Contact, CtxOf, Key, NodeId, ProtocolError};

use super::delivery::{Delivery, Pending};
use super::group_slot::{GroupSlot, Setting};
use super::lock_slot::LockSlot;
use super::messages::{
    CoordinationCommand, CoordinationConfig, CoordinationEvent, CoordinationMsg,
    CoordinationReport, CoordinationTimer, GroupReport, LockReport, Protocol, Stamp, group_key,
    lock_key, state_name,
};
use super::out::Out;
use crate::choice::MutexKind;
use crate::clock::lamport::LamportClock;
use crate::clock::vector::VectorClock;
use crate::membership::{
    Membership, MembershipCommand, MembershipEvent, MembershipMsg, MembershipTimer,
};

type Cx<'a, 'b, A> = &'a mut CtxOf<'b, A, Coordination<A>>;

/// The coordination service at one node: the groups it is in (each with a view, a leader
/// and a clock offset), the locks it has used, and its logical clocks, which every message
/// between members carries.
#[derive(Debug)]
pub struct Coordination<A: Address> {
    cfg: CoordinationConfig,
    membership: Membership<A>,
    groups: BTreeMap<Key, GroupSlot<A>>,
    locks: BTreeMap<Key, LockSlot<A>>,
    lamport: LamportClock,
    vector: VectorClock<NodeId>,
    delivery: Delivery<A>,
}

/// How long after a failed request its message is sent again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Lifts group membership's actions into the service's.
fn lift<A>(
    a: AppAction<A, MembershipMsg<A>, MembershipTimer, MembershipEvent<A>>,
) -> AppAction<A, CoordinationMsg<A>, CoordinationTimer, CoordinationEvent<A>> {
    a.map(
        CoordinationMsg::Membership,
        CoordinationTimer::Membership,
        CoordinationEvent::Membership,
        0,
    )
}

impl<A: Address> Default for Coordination<A> {
    fn default() -> Self {
        Self::new(CoordinationConfig::default())
    }
}

impl<A: Address> Coordination<A> {
    /// The service with `cfg`.
    pub fn new(cfg: CoordinationConfig) -> Self {
        let membership = Membership::new(cfg.membership.clone());
        Coordination {
            cfg,
            membership,
            groups: BTreeMap::new(),
            locks: BTreeMap::new(),
            lamport: LamportClock::new(),
            vector: VectorClock::new(),
            delivery: Delivery::default(),
        }
    }

    /// The leader this node knows for group `name`.
    pub fn leader(&self, name: &str) -> Option<NodeId> {
        self.groups.get(&group_key(name)).and_then(|g| g.leader())
    }

    /// This node's state.
    pub fn report(&self, ctx: &CtxOf<'_, A, Self>) -> CoordinationReport {
        let groups = self
            .groups
            .values()
            .map(|g| GroupReport {
                name: g.name.clone(),
                epoch: g.epoch,
                members: g.contacts.keys().copied().collect(),
                leader: g.leader(),
                election: self.cfg.election.to_string(),
                offset: g.offset.map(|o| o.offset),
                offset_bound: g.offset.map(|o| o.bound),
                offset_age: g.offset.map(|o| ctx.now.since(o.at).as_secs_f64()),
            })
            .collect();
        let locks = self
            .locks
            .values()
            .map(|l| LockReport {
                group: l.group.clone(),
                name: l.name.clone(),
                algorithm: self.cfg.mutex.to_string(),
                state: state_name(l.state()).into(),
                waiting: l.waiting(),
                members: l.contacts.len(),
            })
            .collect();
        CoordinationReport {
            me: ctx.me().id,
            lamport: self.lamport.time(),
            vector: self.vector.entries().map(|(p, n)| (*p, n)).collect(),
            clock: (self.cfg.clock)(ctx.now),
            groups,
            locks,
        }
    }

    fn setting(&self, ctx: &CtxOf<'_, A, Self>) -> Setting {
        Setting {
            me: ctx.me().id,
            election: self.cfg.election,
            tolerance: self.cfg.sync_tolerance.as_secs_f64(),
            local: (self.cfg.clock)(ctx.now),
            now: ctx.now,
        }
    }

    fn join(&mut self, ctx: Cx<'_, '_, A>, key: Key) {
        let membership = &mut self.membership;
        ctx.narrow(lift::<A>, |c| {
            membership.on_command(c, MembershipCommand::Join(key))
        });
    }

    fn join_group(&mut self, ctx: Cx<'_, '_, A>, name: &str) {
        let key = group_key(name);
        if self.groups.contains_key(&key) {
            return;
        }
        self.groups
            .insert(key, GroupSlot::new(key, name.to_string()));
        self.join(ctx, key);
    }

    /// Whether this node may join `more` groups and locks and queue one more holder.
    fn room(&self, more: usize) -> Result<(), String> {
        let max = self.cfg.membership.max_groups;
        if self.groups.len() + self.locks.len() + more > max {
            return Err(format!("this node is in {max} groups and locks already"));
        }
        let waiting: usize = self.locks.values().map(|l| l.waiting()).sum();
        if waiting >= self.cfg.max_waiting {
            return Err(format!("{waiting} lock requests wait at this node already"));
        }
        Ok(())
    }

    fn acquire(&mut self, ctx: Cx<'_, '_, A>, group: String, lock: String, ticket: u64) {
        let key = lock_key(&group, &lock);
        let new_lock = !self.locks.contains_key(&key);
        let new_group = !self.groups.contains_key(&group_key(&group));
        if let Err(reason) = self.room(usize::from(new_lock) + usize::from(new_group)) {
            ctx.emit(CoordinationEvent::Refused { ticket, reason });
            return;
        }
        if new_group {
            self.join_group(ctx, &group);
        }
        let mut out = Vec::new();
        if new_lock {
            let gkey = group_key(&group);
            let leader = self.groups.get(&gkey).and_then(|g| g.leader());
            if let Some(leader) = leader.filter(|l| *l != ctx.me().id && self.leader_joins()) {
                out.push(Out::Send(leader, Protocol::Locks(gkey, vec![lock.clone()])));
            }
            self.locks.insert(key, LockSlot::new(key, group, lock));
            self.join(ctx, key);
        }
        if let Some(slot) = self.locks.get_mut(&key) {
            slot.want(ticket, &mut out);
        }
        self.carry(ctx, out);
    }

    /// Whether a group's leader joins the group's locks: under the central server, so that
    /// the elected leader, the highest member of every lock's view, is the coordinator.
    fn leader_joins(&self) -> bool {
        self.cfg.mutex == MutexKind::Central
    }

    /// The leader of group `gkey` hears that a member uses `names`: it joins those locks
    /// (as far as it has room), as their coordinator.
    fn join_locks(&mut self, ctx: Cx<'_, '_, A>, gkey: Key, names: Vec<String>) {
        if !self.leader_joins() {
            return;
        }
        let Some(group) = self.groups.get(&gkey).map(|g| g.name.clone()) else {
            return;
        };
        for name in names {
            let key = lock_key(&group, &name);
            if self.locks.contains_key(&key) || self.room(1).is_err() {
                continue;
            }
            self.locks
                .insert(key, LockSlot::new(key, group.clone(), name));
            self.join(ctx, key);
        }
    }

    /// Tells each group's leader, when it is new to this node, the group's locks this
    /// node uses, if the leader should join them.
    fn tell_leaders(&mut self, me: NodeId) -> Vec<Out> {
        let mut out = Vec::new();
        let joins = self.leader_joins();
        for g in self.groups.values_mut() {
            let Some(leader) = g.leader().filter(|l| g.told != Some(*l)) else {
                continue;
            };
            g.told = Some(leader);
            let names: Vec<String> = self
                .locks
                .values()
                .filter(|l| l.group == g.name)
                .map(|l| l.name.clone())
                .collect();
            if joins && leader != me && !names.is_empty() {
                out.push(Out::Send(leader, Protocol::Locks(g.key, names)));
            }
        }
        out
    }

    /// After group membership ran: new views go to the groups' and locks' algorithms.
    fn after_membership(&mut self, ctx: Cx<'_, '_, A>) {
        let mut out = Vec::new();
        let setting = self.setting(ctx);
        let mut changed = false;
        for g in self.groups.values_mut() {
            if let Some((epoch, members)) = self.membership.view(&g.key)
                && epoch > g.epoch
            {
                g.on_view(&setting, epoch, members, &mut out);
                changed = true;
            }
        }
        for l in self.locks.values_mut() {
            if let Some((epoch, members)) = self.membership.view(&l.key)
                && epoch > l.epoch
            {
                l.on_view(self.cfg.mutex, setting.me, epoch, members, &mut out);
                changed = true;
            }
        }
        if changed {
            self.forget_departed(setting.me);
        }
        self.carry(ctx, out);
    }

    /// Keeps the vector clock to the members of this node's current views.
    fn forget_departed(&mut self, me: NodeId) {
        let live: BTreeSet<NodeId> = self
            .groups
            .values()
            .flat_map(|g| g.contacts.keys())
            .chain(self.locks.values().flat_map(|l| l.contacts.keys()))
            .copied()
            .chain([me])
            .collect();
        let gone: Vec<NodeId> = self
            .vector
            .entries()
            .map(|(p, _)| *p)
            .filter(|p| !live.contains(p))
            .collect();
        for p in gone {
            self.vector.forget(&p);
        }
        self.delivery.retain_senders(|p| live.contains(p));
    }

    /// A member's message, here from `from` (or from this node to itself).
    fn dispatch(&mut self, ctx: Cx<'_, '_, A>, from: &Contact<A>, p: Protocol, out: &mut Vec<Out>) {
        match p {
            Protocol::Mutex(key, m) => {
                if let Some(slot) = self.locks.get_mut(&key) {
                    slot.on_message(from, m, out);
                }
            }
            Protocol::Locks(key, names) => self.join_locks(ctx, key, names),
            Protocol::Election(key, _) | Protocol::Sync(key, _) => {
                let setting = self.setting(ctx);
                if let Some(slot) = self.groups.get_mut(&key) {
                    slot.contacts.entry(from.id).or_insert_with(|| from.clone());
                    slot.on_message(&setting, from.id, p, out);
                }
            }
        }
    }

    /// Carries out what the algorithms asked, stamping each message with the logical
    /// clocks; a message to this node itself is handled at once.
    fn carry(&mut self, ctx: Cx<'_, '_, A>, out: Vec<Out>) {
        let me = ctx.me().clone();
        let mut queue: VecDeque<Out> = out.into();
        loop {
            if queue.is_empty() {
                // What ran may have shown this node a new leader.
                queue.extend(self.tell_leaders(me.id));
            }
            let Some(o) = queue.pop_front() else {
                break;
            };
            match o {
                Out::Send(to, p) => {
                    if to == me.id {
                        let mut more = Vec::new();
                        self.dispatch(ctx, &me, p, &mut more);
                        queue.extend(more);
                        continue;
                    }
                    let contact = match &p {
                        Protocol::Mutex(key, _) => {
                            self.locks.get(key).and_then(|l| l.contacts.get(&to))
                        }
                        Protocol::Election(key, _)
                        | Protocol::Sync(key, _)
                        | Protocol::Locks(key, _) => {
                            self.groups.get(key).and_then(|g| g.contacts.get(&to))
                        }
                    };
                    // A member this node has no address for has left its view: the
                    // algorithms recover from the loss with the next view.
                    let Some(contact) = contact.cloned() else {
                        continue;
                    };
                    let lamport = self.lamport.tick();
                    self.vector.tick(&me.id);
                    let stamp = Stamp {
                        lamport,
                        vector: self.vector.clone(),
                    };
                    let msg = CoordinationMsg::Member(stamp, p);
                    let id = ctx.request(contact.clone(), msg.clone());
                    let pending = Pending {
                        to: contact,
                        msg,
                        tries: 1,
                    };
                    self.delivery.sent(id, pending);
                }
                Out::Granted(ticket) => ctx.emit(CoordinationEvent::Acquired(ticket)),
                Out::Leader(group, leader) => ctx.emit(CoordinationEvent::Leader { group, leader }),
            }
        }
    }
}

impl<A: Address> Application<A> for Coordination<A> {
    type Msg = CoordinationMsg<A>;
    type Timer = CoordinationTimer;
    type Command = CoordinationCommand;
    type Event = CoordinationEvent<A>;
    const NAME: &'static str = "coordination";

    fn on_command(&mut self, ctx: Cx<'_, '_, A>, cmd: CoordinationCommand) {
        match cmd {
            CoordinationCommand::Join(name) => {
                let key = group_key(&name);
                if !self.groups.contains_key(&key)
                    && let Err(reason) = self.room(1)
                {
                    ctx.emit(CoordinationEvent::Membership(MembershipEvent::Refused {
                        group: key,
                        reason,
                    }));
                    return;
                }
                self.join_group(ctx, &name);
            }
            CoordinationCommand::Acquire {
                group,
                lock,
                ticket,
            } => self.acquire(ctx, group, lock, ticket),
            CoordinationCommand::Release(ticket) => {
                let mut out = Vec::new();
                for slot in self.locks.values_mut() {
                    if slot.give_back(ticket, &mut out) {
                        break;
                    }
                }
                self.carry(ctx, out);
            }
            CoordinationCommand::Report => {
                let report = self.report(ctx);
                ctx.emit(CoordinationEvent::Report(report));
            }
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        match msg {
            CoordinationMsg::Membership(m) => {
                let membership = &mut self.membership;
                ctx.narrow(lift::<A>, |c| membership.on_request(c, from, id, m))?;
                self.after_membership(ctx);
            }
            CoordinationMsg::Member(stamp, p) => {
                ctx.respond(from.clone(), id, CoordinationMsg::Ack);
                if !self.delivery.first_time(from.id, stamp.lamport) {
                    // A retry of a message whose answer was lost.
                    return Ok(());
                }
                self.lamport.receive(stamp.lamport);
                self.vector.receive(&ctx.me().id, &stamp.vector);
                let mut out = Vec::new();
                self.dispatch(ctx, from, p, &mut out);
                self.carry(ctx, out);
            }
            CoordinationMsg::Ack => {}
        }
        Ok(())
    }

    fn on_response(
        &mut self,
        _ctx: Cx<'_, '_, A>,
        _from: &Contact<A>,
        id: ReqId,
        _msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        self.delivery.answered(id);
        Ok(())
    }

    fn on_request_failed(
        &mut self,
        ctx: Cx<'_, '_, A>,
        _to: &Contact<A>,
        id: ReqId,
        _unavailable: bool,
    ) {
        let in_view = |p: &NodeId| {
            self.groups.values().any(|g| g.contacts.contains_key(p))
                || self.locks.values().any(|l| l.contacts.contains_key(p))
        };
        if self.delivery.failed(id, in_view) {
            ctx.set_timer(RETRY_AFTER, CoordinationTimer::Retry);
        }
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A>, timer: CoordinationTimer) {
        match timer {
            CoordinationTimer::Membership(t) => {
                let membership = &mut self.membership;
                ctx.narrow(lift::<A>, |c| membership.on_timer(c, t));
                self.after_membership(ctx);
            }
            CoordinationTimer::Retry => {
                for p in self.delivery.due() {
                    let id = ctx.request(p.to.clone(), p.msg.clone());
                    let tries = p.tries + 1;
                    self.delivery.sent(id, Pending { tries, ..p });
                }
            }
            CoordinationTimer::Sync => {
                let setting = self.setting(ctx);
                let mut out = Vec::new();
                for g in self.groups.values_mut() {
                    g.sync(&setting, &mut out);
                }
                self.carry(ctx, out);
                ctx.set_timer(self.cfg.sync_period, CoordinationTimer::Sync);
            }
        }
    }

    fn on_joined(&mut self, ctx: Cx<'_, '_, A>) {
        let membership = &mut self.membership;
        ctx.narrow(lift::<A>, |c| membership.on_joined(c));
        for name in self.cfg.groups.clone() {
            self.join_group(ctx, &name);
        }
        ctx.set_timer(self.cfg.sync_period, CoordinationTimer::Sync);
    }

    fn deliver(
        &mut self,
        ctx: Cx<'_, '_, A>,
        key: &Key,
        msg: Self::Msg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        if let CoordinationMsg::Membership(m) = msg {
            let membership = &mut self.membership;
            ctx.narrow(lift::<A>, |c| membership.deliver(c, key, m, origin, hops));
            self.after_membership(ctx);
        }
    }

    fn on_leave(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        let membership = &mut self.membership;
        ctx.narrow(lift::<A>, |c| membership.on_leave(c))
    }
}
