//! Recursive routing (the common API's `route`): a message travels hop by hop towards its
//! key's root, with the `forward` up-call at each hop and `deliver` at the root.

use crate::id::Key;
use crate::io::{Ctx, Event, Output};
use crate::node::{Node, Purpose};
use crate::routing::{Routing, Step};
use crate::wire::Request;

impl<R: Routing> Node<R> {
    /// Delivers `payload` here if this node is `key`'s root, else forwards it one hop.
    /// Called again with the same hop count when the chosen next hop failed, by which time
    /// the routing tables no longer hold it.
    pub(crate) fn route_forward(
        &mut self,
        ctx: &mut Ctx<'_, R>,
        key: Key,
        mut payload: Vec<u8>,
        hops: u32,
    ) {
        if hops >= self.cfg.max_hops || !self.routing.is_joined() {
            tracing::debug!(key = ?key, hops, "routed message dropped");
            return;
        }
        let me = self.me().id;
        let next = match self.routing.step(&key, 1) {
            Step::Root(nodes) | Step::Next(nodes) => nodes.into_iter().next(),
        };
        let Some(next) = next else { return };
        if next.id == me {
            match self.app.as_mut() {
                Some(app) => app.deliver(&key, payload, hops),
                None => ctx
                    .out
                    .push(Output::Event(Event::Delivered { key, payload, hops })),
            }
            return;
        }
        if let Some(app) = self.app.as_mut()
            && !app.forward(&key, &mut payload, &next)
        {
            return;
        }
        let body = Request::Route {
            key,
            payload: payload.clone(),
            hops: hops + 1,
        };
        self.request(ctx, next, body, Purpose::Route { key, payload, hops });
    }
}
