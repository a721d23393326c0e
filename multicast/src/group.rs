//! One node's state in one group's tree.

use std::collections::BTreeMap;

use overlay::{Contact, NodeId, Time};

use crate::order::Inbox;

/// A child in a group's tree, as its parent keeps it.
#[derive(Clone, Debug)]
pub struct Child<A> {
    /// The child.
    pub contact: Contact<A>,
    /// When it last refreshed its subscription (or was adopted).
    pub refreshed: Time,
    /// When this node last sent it anything (data or heartbeat).
    pub last_sent: Time,
    /// When this node last took it in: a refusal of a request sent before then is stale.
    pub admitted: Time,
}

/// A node's state in one group: member or not, its parent, its children.
#[derive(Clone, Debug)]
pub struct Group<A> {
    pub(crate) member: bool,
    /// Created here by a `Create` (kept at the root without members).
    pub(crate) created: bool,
    pub(crate) root: bool,
    pub(crate) parent: Option<Contact<A>>,
    /// Ids from the root down to this node (this node last), as its parent last said;
    /// a join from a node on it would close a loop.
    pub(crate) path: Vec<NodeId>,
    /// The root's contact, as the parent last said (this node's own at the root).
    pub(crate) root_contact: Option<Contact<A>>,
    /// Whether its chain of parents reaches the root, as its parent last said.
    pub(crate) rooted: bool,
    pub(crate) children: BTreeMap<NodeId, Child<A>>,
    /// When the parent was last heard from, or the current join started.
    pub(crate) heard_parent: Time,
    pub(crate) refreshed_parent: Time,
    /// Whether `Subscribed` was reported for the current membership.
    pub(crate) announced: bool,
    pub(crate) inboxes: BTreeMap<NodeId, Inbox>,
}

impl<A: Clone + PartialEq> Group<A> {
    pub(crate) fn new(now: Time) -> Self {
        Group {
            member: false,
            created: false,
            root: false,
            parent: None,
            path: Vec::new(),
            root_contact: None,
            rooted: false,
            children: BTreeMap::new(),
            heard_parent: now,
            refreshed_parent: now,
            announced: false,
            inboxes: BTreeMap::new(),
        }
    }

    /// Whether this node is a member (subscribed).
    pub fn is_member(&self) -> bool {
        self.member
    }

    /// Whether this node is the tree's root.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// Its parent in the tree (`None` at the root and while it looks for one).
    pub fn parent(&self) -> Option<&Contact<A>> {
        self.parent.as_ref()
    }

    /// Its children.
    pub fn children(&self) -> impl Iterator<Item = &Contact<A>> {
        self.children.values().map(|c| &c.contact)
    }

    /// Whether it lists `id` as a child (data goes down to it).
    pub fn has_child(&self, id: &NodeId) -> bool {
        self.children.contains_key(id)
    }

    /// How many children it has.
    pub fn child_count(&self) -> usize {
        self.children.len()
    }

    /// The ids from the root to this node, as far as it knows.
    pub fn path(&self) -> &[NodeId] {
        &self.path
    }

    /// The root's contact, as far as it knows.
    pub fn root_contact(&self) -> Option<&Contact<A>> {
        self.root_contact.as_ref()
    }

    /// Whether its chain of parents reaches the root (as far as its parent said).
    pub fn is_rooted(&self) -> bool {
        self.root || (self.parent.is_some() && self.rooted)
    }

    /// Whether it is attached: the root, or a node with a parent.
    pub fn is_attached(&self) -> bool {
        self.root || self.parent.is_some()
    }

    /// Whether the node keeps no state worth keeping: no member, no child, not created.
    pub(crate) fn is_idle(&self) -> bool {
        !self.member && !self.created && self.children.is_empty()
    }

    /// Whether `from` is its parent.
    pub(crate) fn is_parent(&self, from: &Contact<A>) -> bool {
        self.parent.as_ref() == Some(from)
    }
}
