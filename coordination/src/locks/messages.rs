//! What the lock service sends, takes from its user and reports.

use overlay::{InvalidMessage, Limits, Message};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::membership::{MembershipEvent, MembershipMsg, MembershipTimer};

/// The lock service's messages: its group membership's, and the algorithm's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "A: Serialize, M: Serialize",
    deserialize = "A: DeserializeOwned, M: DeserializeOwned"
))]
pub enum LocksMsg<A, M> {
    /// Group membership.
    Membership(MembershipMsg<A>),
    /// The mutual-exclusion algorithm, between members.
    Mutex(M),
    /// The answer to an algorithm's message.
    Ack,
}

impl<A, M> Message for LocksMsg<A, M>
where
    A: overlay::Address,
    M: Clone + std::fmt::Debug + Send + Serialize + DeserializeOwned + 'static,
{
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            LocksMsg::Membership(m) => m.validate(limits),
            _ => Ok(()),
        }
    }
}

/// The lock service's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocksTimer {
    /// Group membership's.
    Membership(MembershipTimer),
}

/// What a node's user asks of the lock service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocksCommand {
    /// Take the group's lock ([`LocksEvent::Acquired`] follows).
    Acquire,
    /// Give it back.
    Release,
}

/// What the lock service reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocksEvent<A> {
    /// This node holds the lock.
    Acquired,
    /// Group membership's news (a new view).
    Membership(MembershipEvent<A>),
}
