//! What the group membership application sends, takes from its user and reports.

use std::time::Duration;

use overlay::{Contact, InvalidMessage, Key, Limits, Message, NodeId};
use serde::{Deserialize, Serialize};

/// Timers and bounds of group membership.
#[derive(Clone, Debug)]
pub struct MembershipConfig {
    /// How often a member tells the group key's root that it is in the group.
    pub refresh_interval: Duration,
    /// A member not heard from for this long is taken to have crashed.
    pub member_timeout: Duration,
    /// How long a node that has just become a group's root collects refreshes before it
    /// sends its first view (so that it does not announce the few it has heard from).
    pub grace: Duration,
    /// Most members of one group.
    pub max_members: usize,
    /// Most groups this node is a member of.
    pub max_groups: usize,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        MembershipConfig {
            refresh_interval: Duration::from_secs(5),
            member_timeout: Duration::from_secs(16),
            grace: Duration::from_secs(8),
            max_members: 1024,
            max_groups: 64,
        }
    }
}

/// Group membership's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipMsg<A> {
    /// Routed to the group key's root: `member` is in the group and has seen view `epoch`
    /// (0 when joining).
    Refresh {
        /// The group's key.
        group: Key,
        /// The member.
        member: Contact<A>,
        /// The newest view it has.
        epoch: u64,
    },
    /// Routed to the group key's root: `member` leaves the group.
    Leave {
        /// The group's key.
        group: Key,
        /// The member.
        member: NodeId,
    },
    /// From the root to a member: the group's view.
    View {
        /// The group's key.
        group: Key,
        /// The view's number.
        epoch: u64,
        /// The members, in identifier order.
        members: Vec<Contact<A>>,
    },
    /// The answer to a view.
    Ack,
}

impl<A: overlay::Address> Message for MembershipMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            MembershipMsg::View { members, .. } => limits.list("members", members.len()),
            _ => Ok(()),
        }
    }
}

/// What a node's user asks of group membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipCommand {
    /// Join the group with this key.
    Join(Key),
    /// Leave it.
    Leave(Key),
}

/// What group membership reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipEvent<A> {
    /// A new view of a group this node is in.
    View {
        /// The group's key.
        group: Key,
        /// The view's number.
        epoch: u64,
        /// The members, in identifier order.
        members: Vec<Contact<A>>,
    },
    /// A join was refused (too many groups).
    Refused {
        /// The group's key.
        group: Key,
        /// Why.
        reason: String,
    },
}
