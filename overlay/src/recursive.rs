//! Semi-recursive lookups: each node passes the lookup on to its next hop, and the node
//! that finds the root answers the initiator directly. Every hop acknowledges what it
//! takes over, so a failed next hop is routed around where it failed; the initiator falls
//! back to an iterative lookup if no answer comes in time.

use crate::apps::AppSet;
use crate::contact::Contact;
use crate::id::{Key, NodeId};
use crate::io::{Ctx, NodeTimer, Output};
use crate::lookup::MAX_AVOID;
use crate::node::{Node, Purpose};
use crate::routing::{ReqId, Routing, Step};
use crate::wire::{Request, Response};

/// A recursive lookup on its way through this node.
#[derive(Clone, Debug)]
pub(crate) struct Relayed<A> {
    pub(crate) key: Key,
    pub(crate) origin: Contact<A>,
    /// The origin's tag for the lookup.
    pub(crate) lookup: u64,
    /// The nodes it passed through, this one included unless it is the origin.
    pub(crate) path: Vec<NodeId>,
    /// Next hops that failed it, here or before.
    pub(crate) avoid: Vec<NodeId>,
}

/// What a node does with a recursive lookup in its hands.
enum Move<A> {
    /// It found the root and its replica set: they go to the origin.
    Answer(Vec<Contact<A>>),
    /// It passes the lookup to this next hop.
    Pass(Contact<A>),
    /// It knows no next hop the lookup has not visited or found failed.
    Stuck,
    /// The lookup went too many hops, or this node has not joined.
    Drop,
}

impl<R: Routing, S: AppSet<R::Addr>> Node<R, S> {
    /// Starts lookup `lid` recursively: it is passed on from here, and goes on iteratively
    /// if no answer comes within two request timeouts (one failed hop on the way costs
    /// one, where it failed).
    pub(crate) fn start_recursive(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64, key: Key) {
        ctx.out.push(Output::Timer {
            after: self.cfg.request_timeout * 2,
            timer: NodeTimer::LookupFallback(lid),
        });
        let relayed = Relayed {
            key,
            origin: self.me().clone(),
            lookup: lid,
            path: Vec::new(),
            avoid: Vec::new(),
        };
        self.relay_on(ctx, relayed);
    }

    /// A node passed a recursive lookup to this one in request `id`: it is acknowledged,
    /// then passed on or answered; asked by the origin itself with `answer_in_ack`, a
    /// root found here answers in place of the acknowledgement.
    pub(crate) fn on_find_root(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        from: Contact<R::Addr>,
        id: ReqId,
        mut relayed: Relayed<R::Addr>,
        answer_in_ack: bool,
    ) {
        if relayed.path.len() < self.cfg.limits.max_list {
            relayed.path.push(self.me().id);
        }
        let next = self.next_move(&relayed);
        match next {
            Move::Answer(root) if answer_in_ack && from.id == relayed.origin.id => {
                let path = relayed.path;
                self.respond(ctx, from, id, Response::RootFound { path, root });
            }
            next => {
                self.respond(ctx, from, id, Response::Ack);
                self.make_move(ctx, relayed, next);
            }
        }
    }

    /// Answers the origin if this node finds the root, else passes the lookup on to the
    /// best next hop not known to have failed it.
    pub(crate) fn relay_on(&mut self, ctx: &mut Ctx<'_, R, S>, relayed: Relayed<R::Addr>) {
        let next = self.next_move(&relayed);
        self.make_move(ctx, relayed, next);
    }

    /// Where a recursive lookup goes from this node.
    fn next_move(&self, relayed: &Relayed<R::Addr>) -> Move<R::Addr> {
        if relayed.path.len() as u32 >= self.cfg.max_hops || !self.routing.is_joined() {
            return Move::Drop;
        }
        let step = self.step_around(&relayed.key, self.cfg.step_width, &relayed.avoid);
        // As an iterative lookup asks no node twice, a recursive one visits none twice:
        // greedy routing around failed nodes could otherwise go round in circles.
        let next = match step {
            Step::Root(root) if !root.is_empty() => return Move::Answer(root),
            Step::Next(next) => next
                .into_iter()
                .find(|c| c.id != relayed.origin.id && !relayed.path.contains(&c.id)),
            Step::Root(_) => None,
        };
        next.map_or(Move::Stuck, Move::Pass)
    }

    fn make_move(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        relayed: Relayed<R::Addr>,
        next: Move<R::Addr>,
    ) {
        let at_origin = relayed.origin.id == self.me().id;
        match next {
            Move::Answer(root) => self.answer_origin(ctx, relayed, root),
            Move::Pass(to) => {
                let body = Request::FindRoot {
                    key: relayed.key,
                    origin: relayed.origin.clone(),
                    lookup: relayed.lookup,
                    path: relayed.path.clone(),
                    avoid: relayed.avoid.clone(),
                    answer_in_ack: at_origin,
                };
                self.request(ctx, to, body, Purpose::Relay(Box::new(relayed)));
            }
            Move::Stuck if at_origin => self.lookup_fallback(ctx, relayed.lookup),
            Move::Stuck => tracing::debug!(key = ?relayed.key, "recursive lookup has no next hop"),
            Move::Drop => {
                tracing::debug!(key = ?relayed.key, hops = relayed.path.len(), "recursive lookup dropped")
            }
        }
    }

    /// The next hop did not take the lookup over: route around it.
    pub(crate) fn relay_failed(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        mut relayed: Relayed<R::Addr>,
        hop: NodeId,
    ) {
        if relayed.avoid.len() >= MAX_AVOID {
            if relayed.origin.id == self.me().id {
                self.lookup_fallback(ctx, relayed.lookup);
            }
            return;
        }
        relayed.avoid.push(hop);
        self.relay_on(ctx, relayed);
    }

    fn answer_origin(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        relayed: Relayed<R::Addr>,
        root: Vec<Contact<R::Addr>>,
    ) {
        let Relayed {
            key,
            origin,
            lookup,
            path,
            ..
        } = relayed;
        if origin.id == self.me().id {
            self.root_found(ctx, lookup, key, path, root, false);
            return;
        }
        let body = Request::RootFound {
            key,
            lookup,
            path,
            root,
        };
        // If the answer is lost, the origin goes on iteratively: nothing to retry here.
        self.request(ctx, origin, body, Purpose::Answer);
    }

    /// The answer to recursive lookup `lid` arrived, `apart` in a request of its own
    /// (rather than in the first hop's acknowledgement, or found here); one that answers
    /// no recursive lookup of this node for `key` (late, after the lookup ended, or
    /// forged) is ignored.
    pub(crate) fn root_found(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        lid: u64,
        key: Key,
        path: Vec<NodeId>,
        root: Vec<Contact<R::Addr>>,
        apart: bool,
    ) {
        if root.is_empty() {
            return;
        }
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        if !l.recursive_answers(&key) {
            return;
        }
        l.took_path(path, apart);
        self.finish_lookup(ctx, lid, Ok(root));
    }
}
