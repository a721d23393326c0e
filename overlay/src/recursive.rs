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
use crate::routing::{Routing, Step};
use crate::wire::Request;

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

    /// A node passed a recursive lookup to this one (which has acknowledged it).
    pub(crate) fn on_find_root(&mut self, ctx: &mut Ctx<'_, R, S>, mut relayed: Relayed<R::Addr>) {
        if relayed.path.len() < self.cfg.limits.max_list {
            relayed.path.push(self.me().id);
        }
        self.relay_on(ctx, relayed);
    }

    /// Answers the origin if this node finds the root, else passes the lookup on to the
    /// best next hop not known to have failed it.
    pub(crate) fn relay_on(&mut self, ctx: &mut Ctx<'_, R, S>, relayed: Relayed<R::Addr>) {
        let at_origin = relayed.origin.id == self.me().id;
        if relayed.path.len() as u32 >= self.cfg.max_hops || !self.routing.is_joined() {
            tracing::debug!(key = ?relayed.key, hops = relayed.path.len(), "recursive lookup dropped");
            return;
        }
        let step = self.step_around(&relayed.key, self.cfg.step_width, &relayed.avoid);
        // As an iterative lookup asks no node twice, a recursive one visits none twice:
        // greedy routing around failed nodes could otherwise go round in circles.
        let next = match step {
            Step::Root(root) if !root.is_empty() => {
                return self.answer_origin(ctx, relayed, root);
            }
            Step::Next(next) => next
                .into_iter()
                .find(|c| c.id != relayed.origin.id && !relayed.path.contains(&c.id)),
            Step::Root(_) => None,
        };
        match next {
            Some(to) => {
                let body = Request::FindRoot {
                    key: relayed.key,
                    origin: relayed.origin.clone(),
                    lookup: relayed.lookup,
                    path: relayed.path.clone(),
                    avoid: relayed.avoid.clone(),
                };
                self.request(ctx, to, body, Purpose::Relay(Box::new(relayed)));
            }
            None if at_origin => self.lookup_fallback(ctx, relayed.lookup),
            None => tracing::debug!(key = ?relayed.key, "recursive lookup has no next hop"),
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
            self.root_found(ctx, lookup, key, path, root);
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

    /// The answer to recursive lookup `lid` arrived; one that answers no recursive lookup
    /// of this node for `key` (late, after the lookup ended, or forged) is ignored.
    pub(crate) fn root_found(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        lid: u64,
        key: Key,
        path: Vec<NodeId>,
        root: Vec<Contact<R::Addr>>,
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
        l.took_path(path);
        self.finish_lookup(ctx, lid, Ok(root));
    }
}
