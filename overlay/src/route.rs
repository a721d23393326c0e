//! Recursive routing (the common API's `route`): an application's message travels hop by
//! hop towards its key's root, with the `forward` up-call at every node that handles it
//! (the source and the root included) and `deliver` at the root.

use crate::app::Forward;
use crate::apps::AppSet;
use crate::io::Ctx;
use crate::lookup::MAX_AVOID;
use crate::node::{Node, Purpose, Routed};
use crate::routing::{Routing, Step};
use crate::wire::Request;

impl<R: Routing, S: AppSet<R::Addr>> Node<R, S> {
    /// Delivers `routed` here if this node is its key's root, else passes it one hop on
    /// (to `hint` if given: the source's hint, or this node itself when the previous hop
    /// named it the root). Called again when the chosen next hop failed, with that hop in
    /// `avoid`.
    pub(crate) fn route_on(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        mut routed: Routed<R::Addr, S::Msg>,
        hint: Option<crate::contact::Contact<R::Addr>>,
    ) {
        if routed.hops >= self.cfg.max_hops || !self.routing.is_joined() {
            tracing::debug!(key = ?routed.key, hops = routed.hops, "routed message dropped");
            return;
        }
        // A node that finds the root names it, and the root delivers (as an iterative
        // lookup ends at the first `Root` answer) unless it knows a nearer one.
        let (next, root) = match hint {
            Some(h) if h.id == self.me().id => match self.routing.nearer_root(&routed.key) {
                Some(nearer) if !routed.avoid.contains(&nearer.id) => (Some(nearer), true),
                _ => (Some(h), false),
            },
            Some(h) => (Some(h), false),
            None => match self.routing.root_shortcut(&routed.key, &routed.avoid) {
                Some(root) => (Some(root), true),
                None => {
                    let step = self.step_around(&routed.key, 1, &routed.avoid);
                    let root = matches!(step, Step::Root(_));
                    (step.contacts().first().cloned(), root)
                }
            },
        };
        let Some(mut next) = next else {
            tracing::debug!(key = ?routed.key, "routed message has no next hop");
            return;
        };
        let mut root = root;
        let key = routed.key;
        let decision = self.call_apps(ctx, |apps, cx| {
            apps.forward(cx, &key, &mut routed.msg, routed.prev.as_ref(), &next)
        });
        match decision {
            Forward::Continue => {}
            Forward::Stop => return,
            Forward::To(other) => {
                next = other;
                root = false;
            }
        }
        if next.id == self.me().id {
            let Routed {
                msg, origin, hops, ..
            } = routed;
            self.call_apps(ctx, |apps, cx| apps.deliver(cx, &key, msg, &origin, hops));
            return;
        }
        let carried = routed.avoid.len().saturating_sub(MAX_AVOID);
        let body = Request::Route {
            key,
            origin: routed.origin.clone(),
            hops: routed.hops + 1,
            root,
            msg: routed.msg.clone(),
            avoid: routed.avoid[carried..].to_vec(),
        };
        self.request(ctx, next, body, Purpose::Route(Box::new(routed)));
    }
}
