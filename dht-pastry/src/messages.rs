//! Pastry's own wire messages; lookups use the overlay's generic `FindNext`.

use overlay::{Contact, InvalidMessage, Key, Limits, Message, Step};
use serde::{Deserialize, Serialize};

/// A Pastry message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PastryMsg<A> {
    /// A joining node walks the route to its own id: "your state, and your next hop
    /// towards `key`".
    JoinQuery {
        /// The joining node's id.
        key: Key,
    },
    /// Answer to `JoinQuery`.
    JoinState {
        /// The responder's routing-table entries and neighbourhood set.
        table: Vec<Contact<A>>,
        /// The responder's leaf set.
        leaf: Vec<Contact<A>>,
        /// The responder's routing step for the key.
        step: Step<A>,
        /// Nodes that asked the responder on their own join routes lately and belong in
        /// the joiner's leaf set: the joiner takes them in and announces itself to them
        /// once joined.
        #[serde(default = "Vec::new")]
        joiners: Vec<Contact<A>>,
    },
    /// A node finished joining and tells the nodes in its tables.
    Announce,
    /// "Send me your leaf set" (maintenance and repair).
    GetLeafSet,
    /// The sender's leaf set, itself included.
    LeafSet {
        /// The leaf set.
        nodes: Vec<Contact<A>>,
    },
    /// "Send me row `row` of your routing table" (table maintenance and repair).
    GetRow {
        /// The row.
        row: u8,
    },
    /// A routing-table row.
    Row {
        /// Its entries.
        nodes: Vec<Contact<A>>,
    },
    /// Liveness and round-trip probe.
    Ping,
    /// Answer to `Ping`, `Announce` and `Leaving`.
    Ack,
    /// The sender leaves gracefully; its leaf set lets the receiver repair at once.
    Leaving {
        /// The leaving node's leaf set.
        leaf: Vec<Contact<A>>,
    },
}

impl<A: overlay::Address> Message for PastryMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            PastryMsg::JoinState {
                table,
                leaf,
                step,
                joiners,
            } => {
                limits.list("routing table", table.len())?;
                limits.list("leaf set", leaf.len())?;
                limits.list("joiners", joiners.len())?;
                limits.list("routing step", step.contacts().len())
            }
            PastryMsg::LeafSet { nodes } | PastryMsg::Leaving { leaf: nodes } => {
                limits.list("leaf set", nodes.len())
            }
            PastryMsg::Row { nodes } => limits.list("routing-table row", nodes.len()),
            PastryMsg::JoinQuery { .. }
            | PastryMsg::Announce
            | PastryMsg::GetLeafSet
            | PastryMsg::GetRow { .. }
            | PastryMsg::Ping
            | PastryMsg::Ack => Ok(()),
        }
    }
}

/// Pastry's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PastryTimer<A> {
    /// Exchange leaf sets with the nearest leaf on each side.
    LeafMaintenance,
    /// Exchange one row of the routing table per non-empty row.
    TableMaintenance,
    /// Retry joining through this node.
    RetryJoin(Contact<A>),
}
