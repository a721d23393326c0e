//! What a driver hands a [`crate::Node`] and what the node hands back.

use std::time::Duration;

use rand::Rng;

use crate::contact::Contact;
use crate::error::{DhtError, LookupError};
use crate::id::Key;
use crate::routing::Routing;
use crate::time::Time;
use crate::wire::WireOf;

/// A request from the application or the operator to one node.
#[derive(Clone, Debug)]
pub enum Command<A> {
    /// Join through `bootstrap`, or start a new overlay.
    Join {
        /// A node already in the overlay.
        bootstrap: Option<Contact<A>>,
    },
    /// Hand all data over and leave.
    Leave,
    /// Find `key`'s root; answered by [`Event::LookupDone`] with the same `op`.
    Lookup {
        /// Caller's tag.
        op: u64,
        /// Key to look up.
        key: Key,
    },
    /// Store `value` under `key` on its replica set; answered by [`Event::PutDone`].
    Put {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
        /// Value.
        value: Vec<u8>,
    },
    /// Read `key`; answered by [`Event::GetDone`].
    Get {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
    },
    /// Remove `key` (writes a tombstone); answered by [`Event::PutDone`].
    Remove {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
    },
    /// Route `payload` to `key`'s root, hop by hop (the common API's `route`).
    Route {
        /// Destination key.
        key: Key,
        /// Application payload.
        payload: Vec<u8>,
    },
}

/// Something that happened at a node, for the application and the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<A> {
    /// The node finished joining.
    Joined,
    /// The node handed its data over and left; the driver may drop it.
    Left,
    /// A lookup finished.
    LookupDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// The root and its replica set, or why it failed.
        result: Result<Vec<Contact<A>>, LookupError>,
        /// Nodes queried that answered.
        hops: u32,
        /// The nodes that answered, in the order they were asked (the hop path).
        path: Vec<crate::id::NodeId>,
        /// Messages sent and received for the lookup.
        messages: u32,
        /// Time from start to finish.
        latency: Duration,
    },
    /// A put or remove finished.
    PutDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// Outcome.
        result: Result<(), DhtError>,
    },
    /// A get finished; `Ok(None)` when no replica holds a value.
    GetDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// The value, none, or the failure.
        result: Result<Option<Vec<u8>>, DhtError>,
        /// Hops of the lookup that found the root.
        hops: u32,
    },
    /// A routed message reached this node, its root (the `deliver` up-call, when no
    /// application is installed).
    Delivered {
        /// Destination key.
        key: Key,
        /// Payload.
        payload: Vec<u8>,
        /// Hops taken.
        hops: u32,
    },
    /// The neighbour set changed (the `update` up-call).
    NeighborUpdate {
        /// The neighbour.
        node: Contact<A>,
        /// Entered (true) or left (false).
        joined: bool,
    },
}

/// A timer of a node: the routing algorithm's, or one of the node's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeTimer<T> {
    /// The routing algorithm's timer.
    Routing(T),
    /// Time to fail the requests whose deadline has passed.
    RequestTimeouts,
    /// Periodic replica repair.
    Repair,
    /// Repair soon after a neighbour-set change.
    RepairSoon,
}

/// Input to [`crate::Node::handle`].
#[derive(Debug)]
pub enum Input<R: Routing> {
    /// A message from a peer.
    Message {
        /// Sender.
        from: Contact<R::Addr>,
        /// Message.
        msg: WireOf<R>,
    },
    /// A timer the node set fired.
    Timer(NodeTimer<R::Timer>),
    /// A command.
    Command(Command<R::Addr>),
}

/// Output of a [`crate::Node`], for its driver to carry out.
#[derive(Debug)]
pub enum Output<R: Routing> {
    /// Deliver `msg` to `to`.
    Send {
        /// Destination.
        to: Contact<R::Addr>,
        /// Message.
        msg: WireOf<R>,
    },
    /// Hand `timer` back after `after`.
    Timer {
        /// Delay.
        after: Duration,
        /// What fires.
        timer: NodeTimer<R::Timer>,
    },
    /// Report an event.
    Event(Event<R::Addr>),
}

/// The driver's side of one call into a node: the time, the seeded generator, and where
/// outputs go.
pub struct Ctx<'a, R: Routing> {
    /// Current time.
    pub now: Time,
    /// The driver's seeded generator.
    pub rng: &'a mut dyn Rng,
    /// Outputs are appended here.
    pub out: &'a mut Vec<Output<R>>,
}
