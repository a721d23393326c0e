//! A distributed lock as an overlay application: group membership gives the views, and a
//! mutual-exclusion algorithm of [`crate::mutex`] runs over them between the members.

use std::collections::BTreeMap;
use std::sync::Arc;

use overlay::app::AppAction;
use overlay::routing::ReqId;
use overlay::{Address, Application, Contact, CtxOf, Key, NodeId, ProtocolError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::messages::{LocksCommand, LocksEvent, LocksMsg, LocksTimer};
use crate::membership::{
    Membership, MembershipCommand, MembershipConfig, MembershipEvent, MembershipMsg,
    MembershipTimer,
};
use crate::mutex::{Action, LockState, MutexAlgorithm};
use crate::view::View;

type Cx<'a, 'b, A, M> = &'a mut CtxOf<'b, A, Locks<A, M>>;

/// Builds a member's algorithm from its id and first view.
pub type MakeMutex<M> = fn(NodeId, View<NodeId>) -> M;

/// The lock of one group at one node.
pub struct Locks<A: Address, M> {
    group: Key,
    membership: Membership<A>,
    make: MakeMutex<M>,
    algorithm: Option<M>,
    /// The members' contacts in the current view.
    contacts: BTreeMap<NodeId, Contact<A>>,
    epoch: u64,
    /// The user asked before the first view came.
    waiting: bool,
}

impl<A: Address, M: std::fmt::Debug> std::fmt::Debug for Locks<A, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locks")
            .field("group", &self.group)
            .field("epoch", &self.epoch)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// Lifts group membership's actions into the lock service's.
fn lift<A, M>(
    a: AppAction<A, MembershipMsg<A>, MembershipTimer, MembershipEvent<A>>,
) -> AppAction<A, LocksMsg<A, M>, LocksTimer, LocksEvent<A>> {
    a.map(
        LocksMsg::Membership,
        LocksTimer::Membership,
        LocksEvent::Membership,
        0,
    )
}

impl<A, M> Locks<A, M>
where
    A: Address,
    M: MutexAlgorithm<NodeId> + 'static,
    M::Msg: Serialize + DeserializeOwned,
{
    /// The lock of `group` (its key), taken with the algorithm `make` builds; membership
    /// with `cfg`.
    pub fn new(group: Key, cfg: Arc<MembershipConfig>, make: MakeMutex<M>) -> Self {
        Locks {
            group,
            membership: Membership::new(cfg),
            make,
            algorithm: None,
            contacts: BTreeMap::new(),
            epoch: 0,
            waiting: false,
        }
    }

    /// Where this node is with respect to the lock.
    pub fn state(&self) -> LockState {
        match &self.algorithm {
            Some(a) => a.state(),
            None if self.waiting => LockState::Wanted,
            None => LockState::Idle,
        }
    }

    /// Runs `f` on the algorithm (if there is one yet) and carries out what it asks.
    fn with_algorithm(
        &mut self,
        ctx: Cx<'_, '_, A, M>,
        f: impl FnOnce(&mut M, &mut Vec<Action<NodeId, M::Msg>>),
    ) {
        let Some(alg) = self.algorithm.as_mut() else {
            return;
        };
        let mut out = Vec::new();
        f(alg, &mut out);
        for action in out {
            match action {
                Action::Send { to, msg } => {
                    if let Some(c) = self.contacts.get(&to) {
                        ctx.request(c.clone(), LocksMsg::Mutex(msg));
                    }
                }
                Action::Enter => ctx.emit(LocksEvent::Acquired),
            }
        }
    }

    /// After group membership ran: a new view goes to the algorithm (which is built at
    /// the first one).
    fn after_membership(&mut self, ctx: Cx<'_, '_, A, M>) {
        let Some((epoch, members)) = self.membership.view(&self.group) else {
            return;
        };
        if epoch <= self.epoch {
            return;
        }
        self.epoch = epoch;
        self.contacts = members.iter().map(|c| (c.id, c.clone())).collect();
        let view = View::new(epoch, self.contacts.keys().copied());
        let me = ctx.me().id;
        if self.algorithm.is_none() {
            self.algorithm = Some((self.make)(me, view));
            self.with_algorithm(ctx, |a, out| a.start(out));
            if std::mem::take(&mut self.waiting) {
                self.with_algorithm(ctx, |a, out| a.request(out));
            }
        } else {
            self.with_algorithm(ctx, |a, out| a.on_view(view, out));
        }
    }
}

impl<A, M> Application<A> for Locks<A, M>
where
    A: Address,
    M: MutexAlgorithm<NodeId> + 'static,
    M::Msg: Serialize + DeserializeOwned,
{
    type Msg = LocksMsg<A, M::Msg>;
    type Timer = LocksTimer;
    type Command = LocksCommand;
    type Event = LocksEvent<A>;
    const NAME: &'static str = "locks";

    fn on_command(&mut self, ctx: Cx<'_, '_, A, M>, cmd: LocksCommand) {
        match cmd {
            LocksCommand::Acquire => {
                if self.algorithm.is_some() {
                    self.with_algorithm(ctx, |a, out| a.request(out));
                } else {
                    self.waiting = true;
                }
            }
            LocksCommand::Release => self.with_algorithm(ctx, |a, out| a.release(out)),
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A, M>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        match msg {
            LocksMsg::Membership(m) => {
                let membership = &mut self.membership;
                ctx.narrow(lift::<A, M::Msg>, |c| membership.on_request(c, from, id, m))?;
                self.after_membership(ctx);
            }
            LocksMsg::Mutex(m) => {
                ctx.respond(from.clone(), id, LocksMsg::Ack);
                let sender = from.id;
                self.with_algorithm(ctx, |a, out| a.on_message(sender, m, out));
            }
            LocksMsg::Ack => {}
        }
        Ok(())
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A, M>, timer: LocksTimer) {
        let LocksTimer::Membership(t) = timer;
        let membership = &mut self.membership;
        ctx.narrow(lift::<A, M::Msg>, |c| membership.on_timer(c, t));
        self.after_membership(ctx);
    }

    fn on_joined(&mut self, ctx: Cx<'_, '_, A, M>) {
        let (membership, group) = (&mut self.membership, self.group);
        ctx.narrow(lift::<A, M::Msg>, |c| {
            membership.on_joined(c);
            membership.on_command(c, MembershipCommand::Join(group));
        });
    }

    fn deliver(
        &mut self,
        ctx: Cx<'_, '_, A, M>,
        key: &Key,
        msg: Self::Msg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        if let LocksMsg::Membership(m) = msg {
            let membership = &mut self.membership;
            ctx.narrow(lift::<A, M::Msg>, |c| {
                membership.deliver(c, key, m, origin, hops)
            });
            self.after_membership(ctx);
        }
    }

    fn on_leave(&mut self, ctx: Cx<'_, '_, A, M>) -> bool {
        let membership = &mut self.membership;
        ctx.narrow(lift::<A, M::Msg>, |c| membership.on_leave(c))
    }
}
