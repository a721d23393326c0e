//! Leader election over a group's view: each algorithm is a sans-IO state machine at one
//! member. Both elect the highest live member, which is also the central-server
//! algorithm's coordinator. A member starts an election when the view loses the leader it
//! knows (several may start at once) and when it joins with an id above the leader's.
//!
//! The view is the failure detector: an answer or a message lost to a crash shows up as a
//! view without that member, and the algorithm moves on without timers.

mod bully;
mod ring;

use std::fmt::Debug;

use crate::view::{MemberId, View};

pub use bully::{Bully, BullyMsg};
pub use ring::{RingElection, RingMsg};

/// What an election algorithm asks of its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElectionAction<P, M> {
    /// Send `msg` to member `to`.
    Send {
        /// Destination.
        to: P,
        /// The message.
        msg: M,
    },
    /// This member now takes `leader` as the group's leader.
    Leader(P),
}

/// An election algorithm at one member.
pub trait ElectionAlgorithm<P: MemberId>: Debug + Send {
    /// Its messages.
    type Msg: Clone + Debug + Send;

    /// Short name (`bully`).
    fn name(&self) -> &'static str;

    /// Called once when the member starts; a member joining a running group with an id
    /// above the leader's starts an election here.
    fn start(&mut self, out: &mut Vec<ElectionAction<P, Self::Msg>>);

    /// Starts an election (the driver's user suspects the leader).
    fn elect(&mut self, out: &mut Vec<ElectionAction<P, Self::Msg>>);

    /// A message from member `from`.
    fn on_message(&mut self, from: P, msg: Self::Msg, out: &mut Vec<ElectionAction<P, Self::Msg>>);

    /// The group has a new view.
    fn on_view(&mut self, view: View<P>, out: &mut Vec<ElectionAction<P, Self::Msg>>);

    /// The leader this member knows, if any.
    fn leader(&self) -> Option<P>;
}
