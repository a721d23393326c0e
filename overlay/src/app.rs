//! The up-calls of the common API, for applications built on `route`.

use crate::contact::Contact;
use crate::id::Key;

/// An application above the overlay (Scribe, gossip, coordination): receives the common
/// API's `forward`, `deliver` and `update` up-calls.
pub trait Application<A>: Send {
    /// A routed message for `key` is about to go to `next`. The application may change the
    /// payload, or return `false` to stop the message here (Scribe's tree building does).
    fn forward(&mut self, key: &Key, payload: &mut Vec<u8>, next: &Contact<A>) -> bool {
        let _ = (key, payload, next);
        true
    }

    /// A routed message reached this node, the root of `key`, after `hops` hops.
    fn deliver(&mut self, key: &Key, payload: Vec<u8>, hops: u32);

    /// `node` entered (`joined`) or left this node's neighbour set.
    fn update(&mut self, node: &Contact<A>, joined: bool) {
        let _ = (node, joined);
    }
}
