//! Applications: sans-IO protocols hosted by a node beside its routing algorithm (the DHT,
//! Scribe, gossip, coordination), with the common API's up-calls.
//!
//! An [`Application`] is generic over the address type only: it sees the overlay through
//! [`OverlayView`] and acts through an [`AppCtx`], so it runs unchanged over every routing
//! algorithm and in both drivers. Several compose on one node as an [`crate::AppSet`].

use std::fmt::Debug;
use std::time::Duration;

use rand::Rng;

use crate::contact::{Address, Contact};
use crate::error::{LookupError, ProtocolError};
use crate::id::Key;
use crate::limits::Limits;
use crate::node::Phase;
use crate::routing::{Message, ReqId, Routing, Step};
use crate::time::Time;

/// Identifies a timer an application set, for [`AppCtx::cancel_timer`].
pub type TimerId = u64;

/// What the `forward` up-call decides for a routed message at one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forward<A> {
    /// Pass it on to the next hop the overlay chose (or deliver it, at the root).
    Continue,
    /// End it at this node (Scribe's join stops at the first node already in the tree).
    Stop,
    /// Send it to this node instead (naming the node itself delivers it here).
    To(Contact<A>),
}

/// A read-only view of the overlay, as the common API's down-calls give it.
pub trait OverlayView<A> {
    /// This node.
    fn me(&self) -> &Contact<A>;
    /// Whether the routing algorithm has joined.
    fn is_joined(&self) -> bool;
    /// `neighbor_set(num)`.
    fn neighbor_set(&self, num: usize) -> Vec<Contact<A>>;
    /// `replica_set(key, max_rank)`: the root first.
    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<A>>;
    /// `local_lookup(key, num, safe)`.
    fn local_lookup(&self, key: &Key, num: usize, safe: bool) -> Vec<Contact<A>>;
    /// Whether this node is `key`'s root as far as it knows.
    fn is_root(&self, key: &Key) -> bool;
    /// Whether this node is `key`'s root, another is, or (`None`) it cannot tell for now
    /// (see [`Routing::root_status`]).
    fn root_status(&self, key: &Key) -> Option<bool>;
    /// The routing decision for `key` at this node.
    fn step(&self, key: &Key, num: usize) -> Step<A>;
}

impl<R: Routing> OverlayView<R::Addr> for R {
    fn me(&self) -> &Contact<R::Addr> {
        Routing::me(self)
    }
    fn is_joined(&self) -> bool {
        Routing::is_joined(self)
    }
    fn neighbor_set(&self, num: usize) -> Vec<Contact<R::Addr>> {
        Routing::neighbor_set(self, num)
    }
    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<R::Addr>> {
        Routing::replica_set(self, key, max_rank)
    }
    fn local_lookup(&self, key: &Key, num: usize, safe: bool) -> Vec<Contact<R::Addr>> {
        Routing::local_lookup(self, key, num, safe)
    }
    fn is_root(&self, key: &Key) -> bool {
        Routing::is_root(self, key)
    }
    fn root_status(&self, key: &Key) -> Option<bool> {
        Routing::root_status(self, key)
    }
    fn step(&self, key: &Key, num: usize) -> Step<R::Addr> {
        Routing::step(self, key, num)
    }
}

/// Something an application asks its node to do. `app` is the application's index in its
/// node's [`crate::AppSet`], filled in as the action leaves the set.
#[derive(Debug)]
pub enum AppAction<A, M, T, E> {
    /// Send a request; its answer reaches [`Application::on_response`], or
    /// [`Application::on_request_failed`] is called.
    Request {
        /// Destination.
        to: Contact<A>,
        /// Correlates the answer.
        id: ReqId,
        /// The message.
        msg: M,
        /// Sending application.
        app: usize,
    },
    /// Answer a request received in [`Application::on_request`].
    Respond {
        /// The requester.
        to: Contact<A>,
        /// The request's id.
        id: ReqId,
        /// The message.
        msg: M,
    },
    /// Route `msg` towards `key`'s root, hop by hop, with the `forward` and `deliver`
    /// up-calls (the common API's `route`); the first hop goes to `hint` if given.
    Route {
        /// Destination key.
        key: Key,
        /// The message.
        msg: M,
        /// First hop to use instead of the overlay's choice.
        hint: Option<Contact<A>>,
    },
    /// Look `key` up iteratively; the result reaches [`Application::on_lookup_done`].
    Lookup {
        /// Key.
        key: Key,
        /// Handed back with the result.
        tag: u64,
        /// Starting application.
        app: usize,
    },
    /// Fire `timer` after `after`, unless cancelled.
    SetTimer {
        /// Id for cancelling.
        id: TimerId,
        /// Delay.
        after: Duration,
        /// What fires.
        timer: T,
    },
    /// Cancel a timer that has not fired.
    CancelTimer(TimerId),
    /// Report an event to the driver.
    Emit(E),
    /// This application has finished what it does before its node leaves.
    LeaveDone {
        /// The application.
        app: usize,
    },
}

impl<A, M, T, E> AppAction<A, M, T, E> {
    /// The same action in another set's types, with its application index moved by
    /// `shift` (a set's tail counts from one past its head).
    pub fn map<M2, T2, E2>(
        self,
        m: impl FnOnce(M) -> M2,
        t: impl FnOnce(T) -> T2,
        e: impl FnOnce(E) -> E2,
        shift: usize,
    ) -> AppAction<A, M2, T2, E2> {
        match self {
            AppAction::Request { to, id, msg, app } => AppAction::Request {
                to,
                id,
                msg: m(msg),
                app: app + shift,
            },
            AppAction::Respond { to, id, msg } => AppAction::Respond {
                to,
                id,
                msg: m(msg),
            },
            AppAction::Route { key, msg, hint } => AppAction::Route {
                key,
                msg: m(msg),
                hint,
            },
            AppAction::Lookup { key, tag, app } => AppAction::Lookup {
                key,
                tag,
                app: app + shift,
            },
            AppAction::SetTimer { id, after, timer } => AppAction::SetTimer {
                id,
                after,
                timer: t(timer),
            },
            AppAction::CancelTimer(id) => AppAction::CancelTimer(id),
            AppAction::Emit(ev) => AppAction::Emit(e(ev)),
            AppAction::LeaveDone { app } => AppAction::LeaveDone { app: app + shift },
        }
    }
}

/// Where an application's actions go.
pub trait ActionSink<A, M, T, E> {
    /// Takes one action.
    fn push(&mut self, action: AppAction<A, M, T, E>);
}

impl<A, M, T, E> ActionSink<A, M, T, E> for Vec<AppAction<A, M, T, E>> {
    fn push(&mut self, action: AppAction<A, M, T, E>) {
        Vec::push(self, action)
    }
}

/// Lifts a member's action into its set's types.
pub type Lift<A, M, T, E, M2, T2, E2> = fn(AppAction<A, M2, T2, E2>) -> AppAction<A, M, T, E>;

/// A member's sink inside its set's: each action is lifted into the set's types.
struct Lifted<'s, A, M, T, E, M2, T2, E2> {
    outer: &'s mut dyn ActionSink<A, M, T, E>,
    lift: Lift<A, M, T, E, M2, T2, E2>,
}

impl<A, M, T, E, M2, T2, E2> ActionSink<A, M2, T2, E2> for Lifted<'_, A, M, T, E, M2, T2, E2> {
    fn push(&mut self, action: AppAction<A, M2, T2, E2>) {
        self.outer.push((self.lift)(action));
    }
}

/// Everything an application handler gets: the time, the driver's seeded generator, a
/// read-only view of the overlay, and the actions it may take.
pub struct AppCtx<'a, A, M, T, E> {
    /// The current time (simulated or real).
    pub now: Time,
    /// The driver's seeded generator.
    pub rng: &'a mut dyn Rng,
    overlay: &'a dyn OverlayView<A>,
    phase: Phase,
    limits: &'a Limits,
    next_id: &'a mut u64,
    sink: &'a mut dyn ActionSink<A, M, T, E>,
}

/// The [`AppCtx`] of application `X` over addresses `A`.
pub type CtxOf<'a, A, X> = AppCtx<
    'a,
    A,
    <X as Application<A>>::Msg,
    <X as Application<A>>::Timer,
    <X as Application<A>>::Event,
>;

impl<'a, A, M, T, E> AppCtx<'a, A, M, T, E> {
    /// A context over `overlay` whose actions go to `sink`, with ids from `next_id`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        now: Time,
        rng: &'a mut dyn Rng,
        overlay: &'a dyn OverlayView<A>,
        phase: Phase,
        limits: &'a Limits,
        next_id: &'a mut u64,
        sink: &'a mut dyn ActionSink<A, M, T, E>,
    ) -> Self {
        AppCtx {
            now,
            rng,
            overlay,
            phase,
            limits,
            next_id,
            sink,
        }
    }

    /// Runs `body` with this context narrowed to one member of a set: the member's
    /// actions pass through `lift` into this context's sink.
    pub fn narrow<M2, T2, E2, Ret>(
        &mut self,
        lift: Lift<A, M, T, E, M2, T2, E2>,
        body: impl FnOnce(&mut AppCtx<'_, A, M2, T2, E2>) -> Ret,
    ) -> Ret {
        let mut sink = Lifted {
            outer: &mut *self.sink,
            lift,
        };
        let mut ctx = AppCtx {
            now: self.now,
            rng: &mut *self.rng,
            overlay: self.overlay,
            phase: self.phase,
            limits: self.limits,
            next_id: &mut *self.next_id,
            sink: &mut sink,
        };
        body(&mut ctx)
    }

    /// The overlay's down-calls.
    pub fn overlay(&self) -> &'a dyn OverlayView<A> {
        self.overlay
    }

    /// This node.
    pub fn me(&self) -> &'a Contact<A> {
        self.overlay.me()
    }

    /// Where the node is in its life cycle.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The node's bounds on messages (an application chunks its lists by them).
    pub fn limits(&self) -> &'a Limits {
        self.limits
    }

    fn fresh_id(&mut self) -> u64 {
        *self.next_id += 1;
        *self.next_id
    }

    /// Sends a request to `to` and returns its id.
    pub fn request(&mut self, to: Contact<A>, msg: M) -> ReqId {
        let id = self.fresh_id();
        self.sink.push(AppAction::Request {
            to,
            id,
            msg,
            app: 0,
        });
        id
    }

    /// Answers request `id` from `to`.
    pub fn respond(&mut self, to: Contact<A>, id: ReqId, msg: M) {
        self.sink.push(AppAction::Respond { to, id, msg });
    }

    /// Routes `msg` to `key`'s root (the common API's `route`); the first hop goes to
    /// `hint` when given.
    pub fn route(&mut self, key: Key, msg: M, hint: Option<Contact<A>>) {
        self.sink.push(AppAction::Route { key, msg, hint });
    }

    /// Starts an iterative lookup of `key`; returns the tag its result will carry.
    pub fn lookup(&mut self, key: Key) -> u64 {
        let tag = self.fresh_id();
        self.sink.push(AppAction::Lookup { key, tag, app: 0 });
        tag
    }

    /// Sets a timer; returns its id.
    pub fn set_timer(&mut self, after: Duration, timer: T) -> TimerId {
        let id = self.fresh_id();
        self.sink.push(AppAction::SetTimer { id, after, timer });
        id
    }

    /// Cancels a timer that has not fired yet (no effect on one that has).
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.sink.push(AppAction::CancelTimer(id));
    }

    /// Reports `event` to the driver (the benchmark, the test, the daemon).
    pub fn emit(&mut self, event: E) {
        self.sink.push(AppAction::Emit(event));
    }

    /// Says that the application has finished its work before the node leaves (after
    /// [`Application::on_leave`] returned `false`).
    pub fn leave_done(&mut self) {
        self.sink.push(AppAction::LeaveDone { app: 0 });
    }
}

/// An application protocol: a sans-IO state machine hosted by every node of an overlay.
///
/// Its messages travel under its own versioned protocol name (`<NAME>/<VERSION>`, inside
/// the overlay's `/p2p/<overlay>/1` stream) and reach only it; a message that fails
/// [`Message::validate`] is counted against its sender and reaches no handler.
pub trait Application<A: Address>: Debug + Send + 'static {
    /// Its messages, as requests and as responses.
    type Msg: Message;
    /// Its timers.
    type Timer: Clone + Debug + Send + 'static;
    /// Requests from its user (a benchmark, a test, the daemon's API).
    type Command: Debug + Send + 'static;
    /// What it reports.
    type Event: Clone + Debug + PartialEq + Send + 'static;
    /// Short lowercase name (`dht`), part of its protocol name.
    const NAME: &'static str;
    /// Protocol version, bumped when its messages change incompatibly.
    const VERSION: u32 = 1;

    /// Whether this application answers the request `msg` as soon as it arrives, asking
    /// no other peer first. Its round trip is then a network round trip, and where the
    /// node times such requests by round trips
    /// ([`crate::NodeConfig::prompt_timeout_floor`]) a crashed peer is found after a few
    /// of them rather than after the whole request timeout.
    fn answers_at_once(msg: &Self::Msg) -> bool {
        let _ = msg;
        false
    }

    /// A command from its user.
    fn on_command(&mut self, ctx: &mut CtxOf<'_, A, Self>, cmd: Self::Command);

    /// A request from a peer; answer with [`AppCtx::respond`] (now or later).
    fn on_request(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError>;

    /// The answer to request `id`.
    fn on_response(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        let _ = (ctx, from, id, msg);
        Ok(())
    }

    /// Request `id` to `to` got no answer: the peer timed out, is unreachable, or said it
    /// cannot serve (`unavailable`; then it is alive but not joined or leaving).
    fn on_request_failed(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        to: &Contact<A>,
        id: ReqId,
        unavailable: bool,
    ) {
        let _ = (ctx, to, id, unavailable);
    }

    /// A timer it set fired.
    fn on_timer(&mut self, ctx: &mut CtxOf<'_, A, Self>, timer: Self::Timer) {
        let _ = (ctx, timer);
    }

    /// A lookup it started finished: the root first, then its replica set.
    fn on_lookup_done(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        tag: u64,
        result: Result<Vec<Contact<A>>, LookupError>,
        hops: u32,
    ) {
        let _ = (ctx, tag, result, hops);
    }

    /// The `forward` up-call: a message routed to `key` is about to leave this node for
    /// `next` (`next` is this node itself at the root, before `deliver`). Called at every
    /// node that handles it, the source and the root included; `prev` is the hop it came
    /// from (`None` at the source). The message may be changed in place.
    fn forward(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        key: &Key,
        msg: &mut Self::Msg,
        prev: Option<&Contact<A>>,
        next: &Contact<A>,
    ) -> Forward<A> {
        let _ = (ctx, key, msg, prev, next);
        Forward::Continue
    }

    /// The `deliver` up-call: a message routed to `key` reached this node, its root,
    /// from `origin` after `hops` hops.
    fn deliver(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        key: &Key,
        msg: Self::Msg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        let _ = (ctx, key, msg, origin, hops);
    }

    /// The `update` up-call: `node` entered (`joined`) or left this node's neighbour set.
    fn update(&mut self, ctx: &mut CtxOf<'_, A, Self>, node: &Contact<A>, joined: bool) {
        let _ = (ctx, node, joined);
    }

    /// The node finished joining (or was built joined); periodic work starts here.
    fn on_joined(&mut self, ctx: &mut CtxOf<'_, A, Self>) {
        let _ = ctx;
    }

    /// The node is leaving gracefully. Return `true` if nothing needs to happen first;
    /// else return `false` and call [`AppCtx::leave_done`] when finished (the DHT hands
    /// its records over). The node leaves once every application is done.
    fn on_leave(&mut self, ctx: &mut CtxOf<'_, A, Self>) -> bool {
        let _ = ctx;
        true
    }
}
