//! Chord's own wire messages (maintenance); lookups use the overlay's generic `FindNext`.

use overlay::{Contact, InvalidMessage, Limits, Message};
use serde::{Deserialize, Serialize};

/// A Chord maintenance message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChordMsg<A> {
    /// `stabilize`: "who are your predecessor and successors?"
    GetNeighbors,
    /// Answer to `GetNeighbors`.
    Neighbors {
        /// The responder's predecessor.
        pred: Option<Contact<A>>,
        /// The responder's successor list.
        succ: Vec<Contact<A>>,
        /// Other nodes that notified the responder lately: after concurrent joins, the
        /// nodes in the gap before it, so that the asker can close the gap in one round
        /// instead of one node per round.
        notifiers: Vec<Contact<A>>,
    },
    /// `notify`: the sender thinks it might be the receiver's predecessor.
    Notify,
    /// `check_predecessor` and other liveness probes.
    Ping,
    /// Answer to `Notify`, `Ping` and `Leaving`.
    Ack,
    /// The sender leaves gracefully; here are its neighbours, so the receiver can bridge
    /// the gap at once.
    Leaving {
        /// The leaving node's predecessor.
        pred: Option<Contact<A>>,
        /// The leaving node's successor list.
        succ: Vec<Contact<A>>,
    },
}

impl<A: overlay::Address> Message for ChordMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            ChordMsg::Neighbors {
                succ, notifiers, ..
            } => {
                limits.list("successor list", succ.len())?;
                limits.list("notifier list", notifiers.len())
            }
            ChordMsg::Leaving { succ, .. } => limits.list("successor list", succ.len()),
            ChordMsg::GetNeighbors | ChordMsg::Notify | ChordMsg::Ping | ChordMsg::Ack => Ok(()),
        }
    }
}

/// Chord's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChordTimer<A> {
    /// Run `stabilize`.
    Stabilize,
    /// Start a `fix_fingers` sweep.
    FixFingers,
    /// Run `check_predecessor`.
    CheckPredecessor,
    /// Retry joining through this node.
    RetryJoin(Contact<A>),
}
