//! What a driver hands a [`crate::Node`] and what the node hands back.

use std::time::Duration;

use rand::Rng;

use crate::app::TimerId;
use crate::apps::{AppSet, Pick};
use crate::config::LookupMode;
use crate::contact::Contact;
use crate::error::LookupError;
use crate::id::Key;
use crate::routing::Routing;
use crate::time::Time;
use crate::wire::WireOf;

/// A request from the operator or the application's user to one node.
#[derive(Clone, Debug)]
pub enum Command<A, C> {
    /// Join through `bootstrap`, or start a new overlay.
    Join {
        /// A node already in the overlay.
        bootstrap: Option<Contact<A>>,
    },
    /// Let every application finish (the DHT hands its data over), then leave.
    Leave,
    /// Find `key`'s root; answered by [`Event::LookupDone`] with the same `op`.
    Lookup {
        /// Caller's tag.
        op: u64,
        /// Key to look up.
        key: Key,
        /// How it travels; `None` for the node's [`crate::NodeConfig::lookup_mode`].
        mode: Option<LookupMode>,
    },
    /// A command for one of the node's applications.
    App(C),
}

impl<A, C> Command<A, C> {
    /// A lookup of `key` tagged `op`, in the node's own lookup mode.
    pub fn lookup(op: u64, key: Key) -> Self {
        Command::Lookup {
            op,
            key,
            mode: None,
        }
    }

    /// A command for the application whose command type is `X` (its position in the set
    /// is inferred).
    pub fn app<X, I>(cmd: X) -> Self
    where
        C: Pick<X, I>,
    {
        Command::App(C::inject(cmd))
    }
}

/// Something that happened at a node, for the driver and the application's user.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<A, E> {
    /// The node finished joining.
    Joined,
    /// Every application finished and the node left; the driver may drop it.
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
    /// The neighbour set changed (the `update` up-call), when
    /// [`crate::NodeConfig::report_updates`] asks for it.
    NeighborUpdate {
        /// The neighbour.
        node: Contact<A>,
        /// Entered (true) or left (false).
        joined: bool,
    },
    /// An application's event.
    App(E),
}

impl<A, E> Event<A, E> {
    /// The event of the application whose event type is `X`, if this is one.
    pub fn app<X, I>(&self) -> Option<&X>
    where
        E: Pick<X, I>,
    {
        match self {
            Event::App(e) => e.project(),
            _ => None,
        }
    }
}

/// A timer of a node: the routing algorithm's, an application's, or the node's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeTimer<T, U> {
    /// The routing algorithm's timer.
    Routing(T),
    /// An application's timer, dropped if it was cancelled.
    App {
        /// Its id.
        id: TimerId,
        /// What fires.
        timer: U,
    },
    /// Time to fail the requests whose deadline has passed.
    RequestTimeouts {
        /// The deadline it was armed for.
        at: Time,
    },
    /// A recursive lookup (by its tag) has had no answer in time: it goes on iteratively.
    LookupFallback(u64),
}

impl<T, U> NodeTimer<T, U> {
    /// Whether the node's own bookkeeping set it (request timeouts, lookup fallbacks):
    /// such timers fire even where maintenance is switched off.
    pub fn is_bookkeeping(&self) -> bool {
        matches!(
            self,
            NodeTimer::RequestTimeouts { .. } | NodeTimer::LookupFallback(_)
        )
    }
}

/// The timer type of a node of `R` hosting `S`.
pub type TimerOf<R, S> =
    NodeTimer<<R as Routing>::Timer, <S as AppSet<<R as Routing>::Addr>>::Timer>;
/// The command type of a node of `R` hosting `S`.
pub type CommandOf<R, S> =
    Command<<R as Routing>::Addr, <S as AppSet<<R as Routing>::Addr>>::Command>;
/// The event type of a node of `R` hosting `S`.
pub type EventOf<R, S> = Event<<R as Routing>::Addr, <S as AppSet<<R as Routing>::Addr>>::Event>;

/// Input to [`crate::Node::handle`].
#[derive(Debug)]
pub enum Input<R: Routing, S: AppSet<R::Addr>> {
    /// A message from a peer.
    Message {
        /// Sender.
        from: Contact<R::Addr>,
        /// Message.
        msg: WireOf<R, S>,
    },
    /// A timer the node set fired.
    Timer(TimerOf<R, S>),
    /// A command.
    Command(CommandOf<R, S>),
}

/// Output of a [`crate::Node`], for its driver to carry out.
#[derive(Debug)]
pub enum Output<R: Routing, S: AppSet<R::Addr>> {
    /// Deliver `msg` to `to`.
    Send {
        /// Destination.
        to: Contact<R::Addr>,
        /// Message.
        msg: WireOf<R, S>,
    },
    /// Hand `timer` back after `after`.
    Timer {
        /// Delay.
        after: Duration,
        /// What fires.
        timer: TimerOf<R, S>,
    },
    /// Report an event.
    Event(EventOf<R, S>),
}

/// The driver's side of one call into a node: the time, the seeded generator, and where
/// outputs go.
pub struct Ctx<'a, R: Routing, S: AppSet<R::Addr>> {
    /// Current time.
    pub now: Time,
    /// The driver's seeded generator.
    pub rng: &'a mut dyn Rng,
    /// Outputs are appended here.
    pub out: &'a mut Vec<Output<R, S>>,
}
