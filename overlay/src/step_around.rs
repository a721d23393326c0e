//! The next hops every forwarding path takes (iterative answers, recursive lookups,
//! routed messages): the algorithm's step with the nodes a message found failed left out.

use crate::apps::AppSet;
use crate::id::{Key, NodeId};
use crate::node::Node;
use crate::routing::{Routing, Step};

impl<R: Routing, S: AppSet<R::Addr>> Node<R, S> {
    /// Up to `width` next hops toward `key`, none of them in `avoid`. The algorithm's
    /// `step_avoiding` routes around `avoid` where it knows how; one that keeps the default
    /// (or lists a node in more than one place) may still offer an avoided node, so it is
    /// asked for enough candidates that leaving those out still leaves `width`.
    pub(crate) fn step_around(&self, key: &Key, width: usize, avoid: &[NodeId]) -> Step<R::Addr> {
        if avoid.is_empty() {
            return self.routing.step(key, width);
        }
        match self.routing.step_avoiding(key, width + avoid.len(), avoid) {
            Step::Next(next) => Step::Next(
                next.into_iter()
                    .filter(|c| !avoid.contains(&c.id))
                    .take(width)
                    .collect(),
            ),
            Step::Root(mut root) => {
                root.truncate(width.max(1));
                Step::Root(root)
            }
        }
    }
}
