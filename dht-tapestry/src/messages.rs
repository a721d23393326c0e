//! Tapestry's own wire messages; lookups use the overlay's generic `FindNext`.

use overlay::{Address, Contact, InvalidMessage, Key, Limits, Message, Step};
use serde::{Deserialize, Serialize};

/// A Tapestry message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TapestryMsg<A> {
    /// A joining node walks the route to its own id: "your neighbours, and your next hop
    /// towards `key`".
    JoinQuery {
        /// The joining node's id.
        key: Key,
    },
    /// Answer to `JoinQuery`.
    JoinState {
        /// The responder's neighbour map.
        nodes: Vec<Contact<A>>,
        /// The responder's routing step for the key.
        step: Step<A>,
    },
    /// Sent by a joining node to its surrogate root: "insert me", which starts the
    /// acknowledged multicast to every node sharing the prefix the two have in common.
    Attach,
    /// Answer to `Attach`: the root took the new node in and starts the multicast.
    Attached {
        /// The nodes that answer knows took the new node in (the root itself).
        reached: Vec<Contact<A>>,
    },
    /// The acknowledged multicast: add `joiner`, and forward to the closest node of every
    /// entry from `level` down.
    Multicast {
        /// The new node.
        joiner: Contact<A>,
        /// The first level this receiver covers.
        level: u8,
    },
    /// Answer to `Multicast` on receipt.
    MulticastAck {
        /// The receiver.
        reached: Vec<Contact<A>>,
    },
    /// A node finished joining and tells the closest nodes of its map's entries (which
    /// then hold it as a backpointer, and may take it into their own maps).
    Announce,
    /// "Send me level `row` of your neighbour map" (maintenance and repair).
    GetRow {
        /// The level.
        row: u8,
    },
    /// A level of a neighbour map.
    Row {
        /// Its nodes.
        nodes: Vec<Contact<A>>,
    },
    /// "My neighbour map holds you now" (`held`) or "no longer": the receiver keeps the
    /// sender among its backpointers while it is held. With `held` it is also the
    /// heartbeat to an entry's node, so backpointers lost or never told (an oracle-built
    /// network starts without them) are learned again.
    Backpointer {
        /// Whether the sender's map holds the receiver.
        held: bool,
    },
    /// Liveness and round-trip probe of a node the map may not hold (a candidate, or a
    /// backpointer).
    Ping,
    /// Answer to `Ping`, `Announce`, `Backpointer` and `Leaving`.
    Ack,
    /// The sender leaves gracefully; its neighbours are candidates to replace it.
    Leaving {
        /// The leaving node's neighbour map.
        nodes: Vec<Contact<A>>,
    },
    /// Leave a pointer `object → server` here, and name the next hop towards the object's
    /// root.
    Publish {
        /// The (salted) object key.
        object: Key,
        /// The node that serves the object.
        server: Contact<A>,
    },
    /// "Do you hold a pointer for `object`? Else, your next hop towards its root."
    Locate {
        /// The (salted) object key.
        object: Key,
    },
    /// The servers of the object asked for.
    Located {
        /// The servers the pointers name.
        servers: Vec<Contact<A>>,
    },
    /// Answer to `Publish` and an unsuccessful `Locate`: the responder's routing step.
    Hop {
        /// The step.
        step: Step<A>,
    },
}

impl<A: Address> Message for TapestryMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            TapestryMsg::JoinState { nodes, step } => {
                limits.list("neighbour map", nodes.len())?;
                limits.list("routing step", step.contacts().len())
            }
            TapestryMsg::Hop { step } => limits.list("routing step", step.contacts().len()),
            TapestryMsg::Attached { reached } | TapestryMsg::MulticastAck { reached } => {
                limits.list("multicast reach", reached.len())
            }
            TapestryMsg::Row { nodes } | TapestryMsg::Leaving { nodes } => {
                limits.list("neighbours", nodes.len())
            }
            TapestryMsg::Located { servers } => limits.list("servers", servers.len()),
            TapestryMsg::JoinQuery { .. }
            | TapestryMsg::Attach
            | TapestryMsg::Multicast { .. }
            | TapestryMsg::Announce
            | TapestryMsg::GetRow { .. }
            | TapestryMsg::Backpointer { .. }
            | TapestryMsg::Ping
            | TapestryMsg::Ack
            | TapestryMsg::Publish { .. }
            | TapestryMsg::Locate { .. } => Ok(()),
        }
    }
}

/// Tapestry's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapestryTimer<A> {
    /// Probe the closest node of every entry.
    Heartbeat,
    /// Exchange one level of the neighbour map per level; drop expired pointers.
    TableMaintenance,
    /// Publish this node's objects again.
    Republish,
    /// Tell the nodes our map took in or dropped lately.
    MapNotices,
    /// Retry joining through this node.
    RetryJoin(Contact<A>),
}
