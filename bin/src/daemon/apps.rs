//! The applications `p2p node` hosts beside the DHT, and the routes they add to its local
//! API. An application crate is compiled in here alone: its type in [`Extra`], its state
//! in [`extra`], its routes in [`routes`] (merged into the API under their own paths); the
//! daemon's core does not change. None is compiled in yet: the DHT is the only one.

use axum::Router;
use overlay::net::NetHandle;

/// The applications hosted beside the DHT, as an `overlay::apps![..]` list.
pub type Extra = ();

/// Their state on a new node.
pub fn extra() -> Extra {}

/// The local-API routes they add, each reaching its application through `node`.
pub fn routes(node: &NetHandle<Extra>) -> Router {
    let _ = node;
    Router::new()
}
