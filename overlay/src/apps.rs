//! Several applications on one node, composed statically as a list: `()` hosts none,
//! `(X, S)` hosts application `X` in front of the set `S` (write `apps![Dht<A>, Scribe<A>]`
//! for `(Dht<A>, (Scribe<A>, ()))`). Each message, timer, command and event of the set is a
//! [`Layer`] that says which member it belongs to, so the node dispatches it to that member
//! alone; [`Pick`] reaches a member's own type without spelling the layers out.

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::app::{AppCtx, Application, Forward};
use crate::contact::{Address, Contact};
use crate::error::{InvalidMessage, LookupError, ProtocolError};
use crate::id::Key;
use crate::limits::Limits;
use crate::routing::{Message, ReqId};

/// The [`AppCtx`] of a whole set.
pub type SetCtx<'a, A, S> =
    AppCtx<'a, A, <S as AppSet<A>>::Msg, <S as AppSet<A>>::Timer, <S as AppSet<A>>::Event>;

/// A member's item (`Head`) or an item of the members behind it (`Tail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layer<H, T> {
    /// The first member's.
    Head(H),
    /// One of the other members'.
    Tail(T),
}

/// The empty set's items: there are none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Nothing {}

impl Message for Nothing {
    fn validate(&self, _: &Limits) -> Result<(), InvalidMessage> {
        match *self {}
    }
}

impl<H: Message, T: Message> Message for Layer<H, T> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            Layer::Head(m) => m.validate(limits),
            Layer::Tail(m) => m.validate(limits),
        }
    }
}

/// The applications of one node, composed statically.
pub trait AppSet<A: Address>: Debug + Send + 'static {
    /// Every member's messages.
    type Msg: Message;
    /// Every member's timers.
    type Timer: Clone + Debug + Send + 'static;
    /// Every member's commands.
    type Command: Debug + Send + 'static;
    /// Every member's events.
    type Event: Clone + Debug + PartialEq + Send + 'static;
    /// Number of members.
    const LEN: usize;

    /// The protocol name (`dht/1`) of the member `msg` belongs to.
    fn protocol_of(msg: &Self::Msg) -> String;
    /// Every member's protocol name, in order.
    fn protocols() -> Vec<String>;
    /// The index of the member `msg` belongs to.
    fn index_of(msg: &Self::Msg) -> usize;
    /// Whether its member answers the request `msg` at once
    /// ([`Application::answers_at_once`]).
    fn answers_at_once(msg: &Self::Msg) -> bool;

    /// Hands `cmd` to its member.
    fn on_command(&mut self, ctx: &mut SetCtx<'_, A, Self>, cmd: Self::Command);
    /// Hands a request to its member.
    fn on_request(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError>;
    /// Hands a response to its member.
    fn on_response(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError>;
    /// Tells member `app` that its request failed.
    fn on_request_failed(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        app: usize,
        to: &Contact<A>,
        id: ReqId,
        unavailable: bool,
    );
    /// Hands a timer to its member.
    fn on_timer(&mut self, ctx: &mut SetCtx<'_, A, Self>, timer: Self::Timer);
    /// Hands member `app` its lookup's result.
    fn on_lookup_done(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        app: usize,
        tag: u64,
        result: Result<Vec<Contact<A>>, LookupError>,
        hops: u32,
    );
    /// The `forward` up-call, to the member the message belongs to.
    fn forward(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        key: &Key,
        msg: &mut Self::Msg,
        prev: Option<&Contact<A>>,
        next: &Contact<A>,
    ) -> Forward<A>;
    /// The `deliver` up-call, to the member the message belongs to.
    fn deliver(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        key: &Key,
        msg: Self::Msg,
        origin: &Contact<A>,
        hops: u32,
    );
    /// The `update` up-call, to every member.
    fn update(&mut self, ctx: &mut SetCtx<'_, A, Self>, node: &Contact<A>, joined: bool);
    /// The node joined: told to every member.
    fn on_joined(&mut self, ctx: &mut SetCtx<'_, A, Self>);
    /// The node is leaving: told to every member. Returns a bit per member that still has
    /// work to finish (bit `i` for member `i`).
    fn on_leave(&mut self, ctx: &mut SetCtx<'_, A, Self>) -> u64;
}

impl<A: Address> AppSet<A> for () {
    type Msg = Nothing;
    type Timer = Nothing;
    type Command = Nothing;
    type Event = Nothing;
    const LEN: usize = 0;

    fn protocol_of(msg: &Nothing) -> String {
        match *msg {}
    }
    fn protocols() -> Vec<String> {
        Vec::new()
    }
    fn index_of(msg: &Nothing) -> usize {
        match *msg {}
    }
    fn answers_at_once(msg: &Nothing) -> bool {
        match *msg {}
    }
    fn on_command(&mut self, _: &mut SetCtx<'_, A, Self>, cmd: Nothing) {
        match cmd {}
    }
    fn on_request(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: &Contact<A>,
        _: ReqId,
        msg: Nothing,
    ) -> Result<(), ProtocolError> {
        match msg {}
    }
    fn on_response(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: &Contact<A>,
        _: ReqId,
        msg: Nothing,
    ) -> Result<(), ProtocolError> {
        match msg {}
    }
    fn on_request_failed(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: usize,
        _: &Contact<A>,
        _: ReqId,
        _: bool,
    ) {
    }
    fn on_timer(&mut self, _: &mut SetCtx<'_, A, Self>, timer: Nothing) {
        match timer {}
    }
    fn on_lookup_done(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: usize,
        _: u64,
        _: Result<Vec<Contact<A>>, LookupError>,
        _: u32,
    ) {
    }
    fn forward(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: &Key,
        msg: &mut Nothing,
        _: Option<&Contact<A>>,
        _: &Contact<A>,
    ) -> Forward<A> {
        match *msg {}
    }
    fn deliver(
        &mut self,
        _: &mut SetCtx<'_, A, Self>,
        _: &Key,
        msg: Nothing,
        _: &Contact<A>,
        _: u32,
    ) {
        match msg {}
    }
    fn update(&mut self, _: &mut SetCtx<'_, A, Self>, _: &Contact<A>, _: bool) {}
    fn on_joined(&mut self, _: &mut SetCtx<'_, A, Self>) {}
    fn on_leave(&mut self, _: &mut SetCtx<'_, A, Self>) -> u64 {
        0
    }
}

/// Runs `$body` with `$c`, the set's context narrowed to its first member (whose actions
/// become `Head` items).
macro_rules! head {
    ($ctx:ident, $c:ident, $body:expr) => {
        $ctx.narrow(
            |a| a.map(Layer::Head, Layer::Head, Layer::Head, 0),
            |$c| $body,
        )
    };
}

/// Runs `$body` with `$c`, the set's context narrowed to the members behind the first
/// (whose actions become `Tail` items, their indices counted from one).
macro_rules! tail {
    ($ctx:ident, $c:ident, $body:expr) => {
        $ctx.narrow(
            |a| a.map(Layer::Tail, Layer::Tail, Layer::Tail, 1),
            |$c| $body,
        )
    };
}

impl<A: Address, X: Application<A>, S: AppSet<A>> AppSet<A> for (X, S) {
    type Msg = Layer<X::Msg, S::Msg>;
    type Timer = Layer<X::Timer, S::Timer>;
    type Command = Layer<X::Command, S::Command>;
    type Event = Layer<X::Event, S::Event>;
    const LEN: usize = 1 + S::LEN;

    fn protocol_of(msg: &Self::Msg) -> String {
        match msg {
            Layer::Head(_) => format!("{}/{}", X::NAME, X::VERSION),
            Layer::Tail(m) => S::protocol_of(m),
        }
    }

    fn protocols() -> Vec<String> {
        let mut names = vec![format!("{}/{}", X::NAME, X::VERSION)];
        names.extend(S::protocols());
        names
    }

    fn index_of(msg: &Self::Msg) -> usize {
        match msg {
            Layer::Head(_) => 0,
            Layer::Tail(m) => 1 + S::index_of(m),
        }
    }

    fn answers_at_once(msg: &Self::Msg) -> bool {
        match msg {
            Layer::Head(m) => X::answers_at_once(m),
            Layer::Tail(m) => S::answers_at_once(m),
        }
    }

    fn on_command(&mut self, ctx: &mut SetCtx<'_, A, Self>, cmd: Self::Command) {
        match cmd {
            Layer::Head(c) => head!(ctx, cx, self.0.on_command(cx, c)),
            Layer::Tail(c) => tail!(ctx, cx, self.1.on_command(cx, c)),
        }
    }

    fn on_request(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        match msg {
            Layer::Head(m) => head!(ctx, cx, self.0.on_request(cx, from, id, m)),
            Layer::Tail(m) => tail!(ctx, cx, self.1.on_request(cx, from, id, m)),
        }
    }

    fn on_response(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError> {
        match msg {
            Layer::Head(m) => head!(ctx, cx, self.0.on_response(cx, from, id, m)),
            Layer::Tail(m) => tail!(ctx, cx, self.1.on_response(cx, from, id, m)),
        }
    }

    fn on_request_failed(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        app: usize,
        to: &Contact<A>,
        id: ReqId,
        unavailable: bool,
    ) {
        match app {
            0 => head!(ctx, cx, self.0.on_request_failed(cx, to, id, unavailable)),
            n => tail!(
                ctx,
                cx,
                self.1.on_request_failed(cx, n - 1, to, id, unavailable)
            ),
        }
    }

    fn on_timer(&mut self, ctx: &mut SetCtx<'_, A, Self>, timer: Self::Timer) {
        match timer {
            Layer::Head(t) => head!(ctx, cx, self.0.on_timer(cx, t)),
            Layer::Tail(t) => tail!(ctx, cx, self.1.on_timer(cx, t)),
        }
    }

    fn on_lookup_done(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        app: usize,
        tag: u64,
        result: Result<Vec<Contact<A>>, LookupError>,
        hops: u32,
    ) {
        match app {
            0 => head!(ctx, cx, self.0.on_lookup_done(cx, tag, result, hops)),
            n => tail!(ctx, cx, self.1.on_lookup_done(cx, n - 1, tag, result, hops)),
        }
    }

    fn forward(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        key: &Key,
        msg: &mut Self::Msg,
        prev: Option<&Contact<A>>,
        next: &Contact<A>,
    ) -> Forward<A> {
        match msg {
            Layer::Head(m) => head!(ctx, cx, self.0.forward(cx, key, m, prev, next)),
            Layer::Tail(m) => tail!(ctx, cx, self.1.forward(cx, key, m, prev, next)),
        }
    }

    fn deliver(
        &mut self,
        ctx: &mut SetCtx<'_, A, Self>,
        key: &Key,
        msg: Self::Msg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        match msg {
            Layer::Head(m) => head!(ctx, cx, self.0.deliver(cx, key, m, origin, hops)),
            Layer::Tail(m) => tail!(ctx, cx, self.1.deliver(cx, key, m, origin, hops)),
        }
    }

    fn update(&mut self, ctx: &mut SetCtx<'_, A, Self>, node: &Contact<A>, joined: bool) {
        head!(ctx, cx, self.0.update(cx, node, joined));
        tail!(ctx, cx, self.1.update(cx, node, joined));
    }

    fn on_joined(&mut self, ctx: &mut SetCtx<'_, A, Self>) {
        head!(ctx, cx, self.0.on_joined(cx));
        tail!(ctx, cx, self.1.on_joined(cx));
    }

    fn on_leave(&mut self, ctx: &mut SetCtx<'_, A, Self>) -> u64 {
        let head_busy = !head!(ctx, cx, self.0.on_leave(cx));
        let tail_busy = tail!(ctx, cx, self.1.on_leave(cx));
        u64::from(head_busy) | (tail_busy << 1)
    }
}

/// Finds the member `X` of a set at position `I` (inferred: write `Pick<DhtCommand, _>`).
pub trait Pick<X, I> {
    /// Wraps a member's item as the set's.
    fn inject(item: X) -> Self;
    /// The member's item, if this is one.
    fn project(&self) -> Option<&X>;
}

/// Position: the first member.
pub struct Here;
/// Position: behind the first member, at `I` in the rest.
pub struct There<I>(PhantomData<I>);

impl<H, T> Pick<H, Here> for Layer<H, T> {
    fn inject(item: H) -> Self {
        Layer::Head(item)
    }
    fn project(&self) -> Option<&H> {
        match self {
            Layer::Head(h) => Some(h),
            Layer::Tail(_) => None,
        }
    }
}

impl<H, T: Pick<X, I>, X, I> Pick<X, There<I>> for Layer<H, T> {
    fn inject(item: X) -> Self {
        Layer::Tail(T::inject(item))
    }
    fn project(&self) -> Option<&X> {
        match self {
            Layer::Head(_) => None,
            Layer::Tail(t) => t.project(),
        }
    }
}

/// The set type of a list of applications: `apps![A, B]` is `(A, (B, ()))`.
#[macro_export]
macro_rules! apps {
    () => { () };
    ($head:ty $(, $rest:ty)* $(,)?) => { ($head, $crate::apps![$($rest),*]) };
}

/// Reaches the member `X` of a set at position `I` (inferred), as a driver that serves
/// one application specially does (the libp2p driver persists the DHT's records).
pub trait Member<X, I> {
    /// The member.
    fn member(&self) -> &X;
    /// The member, mutably.
    fn member_mut(&mut self) -> &mut X;
}

impl<X, S> Member<X, Here> for (X, S) {
    fn member(&self) -> &X {
        &self.0
    }
    fn member_mut(&mut self) -> &mut X {
        &mut self.0
    }
}

impl<H, S: Member<X, I>, X, I> Member<X, There<I>> for (H, S) {
    fn member(&self) -> &X {
        self.1.member()
    }
    fn member_mut(&mut self) -> &mut X {
        self.1.member_mut()
    }
}
