//! What Scribe nodes say to each other, what their users ask, and what they report.

use overlay::{Contact, InvalidMessage, Key, Limits, NodeId};
use serde::{Deserialize, Serialize};

/// A group's id: a key (the SHA-1 of its name, [`GroupId::hash`]), whose root is the
/// root of the group's tree.
pub type GroupId = Key;

/// One message published to a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// The group.
    pub group: GroupId,
    /// Who published it.
    pub publisher: NodeId,
    /// The publisher's sequence number in this group, from 1.
    pub seq: u64,
    /// The application's bytes.
    pub payload: Vec<u8>,
}

/// An anycast on its way: routed towards the group id, then a depth-first search of the
/// tree from the first node on the route that is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnycastMsg<A> {
    /// The group.
    pub group: GroupId,
    /// The origin's id for it.
    pub id: u64,
    /// Who sent it (told where it ended).
    pub origin: Contact<A>,
    /// The application's bytes.
    pub payload: Vec<u8>,
    /// Tree nodes the search has been through.
    pub visited: Vec<NodeId>,
    /// Tree hops taken so far (bounds a search through a tree that has a loop for a
    /// moment).
    pub steps: u32,
}

/// Scribe's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScribeMsg<A> {
    /// Routed to the group id: `child` asks for a parent. The first node on the way that
    /// is in the tree adopts it and ends the join; a node not yet in it adopts it, becomes
    /// a forwarder and goes on as the child.
    Join {
        /// The group.
        group: GroupId,
        /// The node waiting for a parent.
        child: Contact<A>,
        /// The joiner and every forwarder that took the join over on the way: a node
        /// below any of them in the tree must not adopt it, which would close a loop.
        below: Vec<NodeId>,
    },
    /// Routed to the group id: its root creates the group.
    Create {
        /// The group.
        group: GroupId,
    },
    /// Routed to the group id: the root sends it down the tree.
    Publish(Publication),
    /// Routed to the group id until a tree node takes it; then passed from tree node to
    /// tree node as a request.
    Anycast(AnycastMsg<A>),
    /// To a new child: it has been adopted; `path` is the ids from the root to the parent,
    /// `rooted` whether the parent is connected to the root (its own join may still be on
    /// its way), `root` the root's contact as the parent knows it.
    Accepted {
        /// The group.
        group: GroupId,
        /// Root first, ending with the parent.
        path: Vec<NodeId>,
        /// Whether the parent reaches the root.
        rooted: bool,
        /// The root, for members to publish to directly.
        root: Option<Contact<A>>,
    },
    /// From a child to its parent: keep me.
    Refresh {
        /// The group.
        group: GroupId,
    },
    /// From a parent to a child it sent nothing else to lately, or at once when its path
    /// to the root changed; `path`, `rooted` and `root` as in `Accepted`.
    Heartbeat {
        /// The group.
        group: GroupId,
        /// Root first, ending with the parent.
        path: Vec<NodeId>,
        /// Whether the parent reaches the root.
        rooted: bool,
        /// The root, for members to publish to directly.
        root: Option<Contact<A>>,
    },
    /// A published message on its way down the tree.
    Data(Publication),
    /// From a child to its parent: drop me.
    Leave {
        /// The group.
        group: GroupId,
    },
    /// From a parent to a child: find another parent (the parent is leaving, or is over
    /// its child limit and names a sibling to ask, `to`).
    Rejoin {
        /// The group.
        group: GroupId,
        /// A node to ask for adoption first.
        to: Option<Contact<A>>,
    },
    /// To a node named in `Rejoin`: adopt me.
    Adopt {
        /// The group.
        group: GroupId,
    },
    /// To an anycast's origin: it was delivered at `by`, or (`None`) no member took it.
    AnycastResult {
        /// The group.
        group: GroupId,
        /// The origin's id for it.
        id: u64,
        /// The member that took it.
        by: Option<Contact<A>>,
    },
    /// Answer: done.
    Ok,
    /// Answer: the sender is not this node's parent or child (any more) in that group.
    NotInTree,
}

impl<A: overlay::Address> overlay::Message for ScribeMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            ScribeMsg::Publish(p) | ScribeMsg::Data(p) => limits.value("payload", p.payload.len()),
            ScribeMsg::Anycast(m) => {
                limits.value("payload", m.payload.len())?;
                limits.list("visited", m.visited.len())
            }
            ScribeMsg::Accepted { path, .. } | ScribeMsg::Heartbeat { path, .. } => {
                limits.list("path", path.len())
            }
            ScribeMsg::Join { below, .. } => limits.list("joiners below", below.len()),
            _ => Ok(()),
        }
    }
}

/// What a Scribe node's user asks of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScribeCommand {
    /// Create the group at its root.
    Create(GroupId),
    /// Become a member (join the tree).
    Subscribe(GroupId),
    /// Stop being a member (leaving the tree if no child needs this node).
    Unsubscribe(GroupId),
    /// Send `payload` to every member.
    Publish {
        /// The group.
        group: GroupId,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// Send `payload` to one member, the nearest the search finds.
    Anycast {
        /// The group.
        group: GroupId,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// Report this node's groups ([`ScribeEvent::Groups`]).
    Report,
}

/// One group as a node reports it (`p2p status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupReport<A> {
    /// The group.
    pub group: GroupId,
    /// Whether this node is a member.
    pub member: bool,
    /// Whether it is the tree's root.
    pub root: bool,
    /// Its parent (none at the root, or while it looks for one).
    pub parent: Option<Contact<A>>,
    /// Its children.
    pub children: Vec<Contact<A>>,
}

/// What a Scribe node reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScribeEvent<A> {
    /// This member is connected to the group's tree: it is the root, or its chain of
    /// parents reaches the root.
    Subscribed {
        /// The group.
        group: GroupId,
    },
    /// A published message, delivered to this member in its publisher's order.
    Delivered(Publication),
    /// This node's publish left with sequence number `seq`.
    Published {
        /// The group.
        group: GroupId,
        /// Its sequence number.
        seq: u64,
    },
    /// An anycast was delivered to this member.
    AnycastReceived {
        /// The group.
        group: GroupId,
        /// The origin's id for it.
        id: u64,
        /// Who sent it.
        origin: Contact<A>,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// This node's anycast reached member `by`, or (`None`) no member took it.
    AnycastDone {
        /// The group.
        group: GroupId,
        /// Its id.
        id: u64,
        /// The member.
        by: Option<Contact<A>>,
    },
    /// This node's groups, answering [`ScribeCommand::Report`].
    Groups(Vec<GroupReport<A>>),
    /// A command was refused (a payload over the limit, too many groups).
    Refused {
        /// The group.
        group: GroupId,
        /// Why.
        reason: String,
    },
}
