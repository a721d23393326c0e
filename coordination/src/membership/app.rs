//! Group membership as an overlay application: the group key's root keeps the member list
//! and sends every member each new view.

use std::collections::BTreeMap;
use std::sync::Arc;

use overlay::time::Time;
use overlay::{Address, Application, Contact, CtxOf, Key, NodeId, ProtocolError};

use super::messages::{MembershipCommand, MembershipConfig, MembershipEvent, MembershipMsg};
use overlay::routing::ReqId;

type Cx<'a, 'b, A> = &'a mut CtxOf<'b, A, Membership<A>>;

/// What a member knows of a group.
#[derive(Clone, Debug)]
struct Joined<A> {
    epoch: u64,
    members: Vec<Contact<A>>,
}

/// What the root keeps of a group.
#[derive(Clone, Debug)]
struct Desk<A> {
    epoch: u64,
    members: BTreeMap<NodeId, (Contact<A>, Time)>,
    /// When this node started keeping the group (it had just become its root).
    since: Time,
    /// Whether it has sent a view yet (it waits for the grace period first).
    announced: bool,
}

/// Group membership at one node: a member of some groups, and the root (coordinator) of
/// the groups whose keys the overlay maps to it.
#[derive(Debug)]
pub struct Membership<A> {
    cfg: Arc<MembershipConfig>,
    joined: BTreeMap<Key, Joined<A>>,
    desks: BTreeMap<Key, Desk<A>>,
}

/// Group membership's timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipTimer {
    /// Refresh the groups this node is in; expire silent members of those it keeps.
    Tick,
}

impl<A: Address> Default for Membership<A> {
    fn default() -> Self {
        Self::new(Arc::new(MembershipConfig::default()))
    }
}

impl<A: Address> Membership<A> {
    /// Group membership with `cfg`.
    pub fn new(cfg: Arc<MembershipConfig>) -> Self {
        Membership {
            cfg,
            joined: BTreeMap::new(),
            desks: BTreeMap::new(),
        }
    }

    /// The view this node has of `group`: its number and members (none before the first).
    pub fn view(&self, group: &Key) -> Option<(u64, &[Contact<A>])> {
        self.joined
            .get(group)
            .map(|j| (j.epoch, j.members.as_slice()))
    }

    /// Whether this node keeps `group`'s member list (it is the group key's root).
    pub fn coordinates(&self, group: &Key) -> bool {
        self.desks.contains_key(group)
    }

    fn refresh(ctx: Cx<'_, '_, A>, group: Key, epoch: u64) {
        let member = ctx.me().clone();
        ctx.route(
            group,
            MembershipMsg::Refresh {
                group,
                member,
                epoch,
            },
            None,
        );
    }

    /// Sends the desk's view of `group` to each of its members (or to `only`).
    fn announce(ctx: Cx<'_, '_, A>, group: Key, desk: &Desk<A>, only: Option<&Contact<A>>) {
        let members: Vec<Contact<A>> = desk.members.values().map(|(c, _)| c.clone()).collect();
        let to: Vec<Contact<A>> = match only {
            Some(c) => vec![c.clone()],
            None => members.clone(),
        };
        for c in to {
            let msg = MembershipMsg::View {
                group,
                epoch: desk.epoch,
                members: members.clone(),
            };
            if c.id == ctx.me().id {
                continue;
            }
            ctx.request(c, msg);
        }
    }

    /// A view for this node (from the root, or from itself when it is the root).
    fn take_view(&mut self, ctx: Cx<'_, '_, A>, group: Key, epoch: u64, members: Vec<Contact<A>>) {
        let Some(j) = self.joined.get_mut(&group) else {
            return;
        };
        if epoch <= j.epoch {
            return;
        }
        j.epoch = epoch;
        j.members = members.clone();
        ctx.emit(MembershipEvent::View {
            group,
            epoch,
            members,
        });
    }

    /// The desk of `group` changed: a new view for everyone, once announced.
    fn changed(&mut self, ctx: Cx<'_, '_, A>, group: Key) {
        let Some(desk) = self.desks.get_mut(&group) else {
            return;
        };
        if !desk.announced {
            return;
        }
        desk.epoch += 1;
        let desk = desk.clone();
        Self::announce(ctx, group, &desk, None);
        let members = desk.members.values().map(|(c, _)| c.clone()).collect();
        self.take_view(ctx, group, desk.epoch, members);
    }

    fn tick(&mut self, ctx: Cx<'_, '_, A>) {
        let now = ctx.now;
        for (group, j) in &self.joined {
            Self::refresh(ctx, *group, j.epoch);
        }
        let groups: Vec<Key> = self.desks.keys().copied().collect();
        for group in groups {
            if ctx.overlay().root_status(&group) == Some(false) {
                // Another node is the root now; the members' refreshes go there.
                self.desks.remove(&group);
                continue;
            }
            let Some(desk) = self.desks.get_mut(&group) else {
                continue;
            };
            let timeout = self.cfg.member_timeout;
            let before = desk.members.len();
            desk.members
                .retain(|_, (_, heard)| now.since(*heard) < timeout);
            let expired = desk.members.len() != before;
            let grace_over = !desk.announced && now.since(desk.since) >= self.cfg.grace;
            if grace_over {
                desk.announced = true;
            }
            if grace_over || expired {
                self.changed(ctx, group);
            }
        }
        ctx.set_timer(self.cfg.refresh_interval, MembershipTimer::Tick);
    }
}

impl<A: Address> Application<A> for Membership<A> {
    type Msg = MembershipMsg<A>;
    type Timer = MembershipTimer;
    type Command = MembershipCommand;
    type Event = MembershipEvent<A>;
    const NAME: &'static str = "membership";

    fn on_command(&mut self, ctx: Cx<'_, '_, A>, cmd: MembershipCommand) {
        match cmd {
            MembershipCommand::Join(group) => {
                if !self.joined.contains_key(&group) && self.joined.len() >= self.cfg.max_groups {
                    let reason = format!("this node is in {} groups already", self.joined.len());
                    ctx.emit(MembershipEvent::Refused { group, reason });
                    return;
                }
                self.joined.entry(group).or_insert_with(|| Joined {
                    epoch: 0,
                    members: Vec::new(),
                });
                Self::refresh(ctx, group, 0);
            }
            MembershipCommand::Leave(group) => {
                if self.joined.remove(&group).is_some() {
                    let member = ctx.me().id;
                    ctx.route(group, MembershipMsg::Leave { group, member }, None);
                }
            }
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: MembershipMsg<A>,
    ) -> Result<(), ProtocolError> {
        if let MembershipMsg::View {
            group,
            epoch,
            members,
        } = msg
        {
            self.take_view(ctx, group, epoch, members);
        }
        ctx.respond(from.clone(), id, MembershipMsg::Ack);
        Ok(())
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A>, timer: MembershipTimer) {
        match timer {
            MembershipTimer::Tick => self.tick(ctx),
        }
    }

    fn on_joined(&mut self, ctx: Cx<'_, '_, A>) {
        ctx.set_timer(self.cfg.refresh_interval, MembershipTimer::Tick);
    }

    fn deliver(
        &mut self,
        ctx: Cx<'_, '_, A>,
        key: &Key,
        msg: MembershipMsg<A>,
        _origin: &Contact<A>,
        _hops: u32,
    ) {
        let now = ctx.now;
        match msg {
            MembershipMsg::Refresh {
                group,
                member,
                epoch,
            } if group == *key => {
                let desk = self.desks.entry(group).or_insert_with(|| Desk {
                    epoch: 0,
                    members: BTreeMap::new(),
                    since: now,
                    announced: false,
                });
                // Views keep growing across roots: a new root starts above every view a
                // member has seen.
                desk.epoch = desk.epoch.max(epoch);
                let known = desk.members.contains_key(&member.id);
                if !known && desk.members.len() >= self.cfg.max_members.min(ctx.limits().max_list) {
                    return;
                }
                desk.members.insert(member.id, (member.clone(), now));
                if !known {
                    self.changed(ctx, group);
                } else if desk.announced && epoch < desk.epoch {
                    // It missed a view: send it again.
                    let desk = desk.clone();
                    Self::announce(ctx, group, &desk, Some(&member));
                }
            }
            MembershipMsg::Leave { group, member } if group == *key => {
                let removed = self
                    .desks
                    .get_mut(&group)
                    .is_some_and(|d| d.members.remove(&member).is_some());
                if removed {
                    self.changed(ctx, group);
                }
            }
            _ => {}
        }
    }

    fn on_leave(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        let me = ctx.me().id;
        let groups: Vec<Key> = self.joined.keys().copied().collect();
        for group in groups {
            ctx.route(group, MembershipMsg::Leave { group, member: me }, None);
        }
        true
    }
}
