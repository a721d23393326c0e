//! Distributed mutual exclusion over a group's view: each algorithm is a sans-IO state
//! machine for one member. Its user calls [`MutexAlgorithm::request`] and, once the
//! algorithm has said [`Action::Enter`], [`MutexAlgorithm::release`]; messages from peers and
//! new views go in, messages to peers come out.
//!
//! Every algorithm survives members joining, leaving and crashing (a crash reaches it as a
//! view without that member): a departed member's requests and votes are dropped, and what
//! it held (the lock, the token, the coordinator's queue) is recovered.

mod central;
mod fifo;
mod lamport;
mod maekawa;
mod quorum;
mod ricart_agrawala;
mod token_ring;

use std::fmt::Debug;

use crate::view::{MemberId, View};

pub use central::{Central, CentralMsg};
pub use fifo::Sequenced;
pub use lamport::{Lamport, LamportMsg};
pub use maekawa::{Maekawa, MaekawaKind, MaekawaMsg};
pub use quorum::{electors, grid_quorum, mean_other_voters, voting_set};
pub use ricart_agrawala::{RaMsg, RicartAgrawala};
pub use token_ring::{TokenEvent, TokenRing, TokenRingMsg};

/// What a mutual-exclusion algorithm asks of its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<P, M> {
    /// Send `msg` to member `to`.
    Send {
        /// Destination.
        to: P,
        /// The message.
        msg: M,
    },
    /// The member now holds the lock (the critical section may start).
    Enter,
}

/// Where a member is with respect to the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// Neither holding nor waiting.
    Idle,
    /// Requested, not yet granted.
    Wanted,
    /// In the critical section.
    Held,
}

/// A mutual-exclusion algorithm at one member.
pub trait MutexAlgorithm<P: MemberId>: Debug + Send {
    /// Its messages.
    type Msg: Clone + Debug + Send;

    /// Short name (`ricart-agrawala`).
    fn name(&self) -> &'static str;

    /// Called once when the member starts, in the group's first view or joining a running
    /// group (the token ring creates its first token here).
    fn start(&mut self, out: &mut Vec<Action<P, Self::Msg>>) {
        let _ = out;
    }

    /// Asks for the lock; [`Action::Enter`] follows, now or later. Ignored unless idle.
    fn request(&mut self, out: &mut Vec<Action<P, Self::Msg>>);

    /// Leaves the critical section. Ignored unless held.
    fn release(&mut self, out: &mut Vec<Action<P, Self::Msg>>);

    /// A message from member `from`.
    fn on_message(&mut self, from: P, msg: Self::Msg, out: &mut Vec<Action<P, Self::Msg>>);

    /// The group has a new view (members joined, left or crashed).
    fn on_view(&mut self, view: View<P>, out: &mut Vec<Action<P, Self::Msg>>);

    /// Where this member is.
    fn state(&self) -> LockState;
}
