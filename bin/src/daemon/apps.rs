//! The applications `p2p node` hosts beside the DHT, and the routes they add to its local
//! API. An application crate is compiled in here alone: its type in [`Extra`], its state
//! in [`extra`], its routes in [`routes`] (merged into the API under their own paths); the
//! daemon's core does not change.

use axum::Router;
use coordination::service::{Coordination, CoordinationConfig};
use multicast::Scribe;
use overlay::net::{NetHandle, PeerAddr};

/// The applications hosted beside the DHT, as an `overlay::apps![..]` list.
pub type Extra = overlay::apps![Scribe<PeerAddr>, Coordination<PeerAddr>];

/// Their state on a new node: Scribe with its documented defaults, the coordination
/// service with `coordination`.
pub fn extra(coordination: CoordinationConfig) -> Extra {
    (Scribe::default(), (Coordination::new(coordination), ()))
}

/// The local-API routes they add, each reaching its application through `node`.
pub fn routes(node: &NetHandle<Extra>) -> Router {
    super::multicast::routes(node.clone()).merge(super::coordination::routes(node.clone()))
}
