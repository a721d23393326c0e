//! The key-based-routing trait every routing algorithm implements.
//!
//! It follows the common API of Dabek et al. ("Towards a Common API for Structured
//! Peer-to-Peer Overlays", IPTPS 2003): the down-calls `local_lookup`, `neighbor_set`,
//! `replica_set` and `range` (here [`Routing::is_root`]) are methods; `route` with its
//! `forward`/`deliver` up-calls and the iterative lookup are built once, in [`crate::Node`],
//! on top of [`Routing::step`], so every algorithm gets them unchanged. The `update` up-call
//! is the [`Action::Update`] a routing algorithm emits when its neighbour set changes.
//!
//! A routing algorithm is a sans-IO state machine: it reads `now` and randomness from the
//! [`Out`] it is handed and writes what it wants done into it.

use std::fmt::Debug;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::contact::{Address, Contact};
use crate::error::{InvalidMessage, LookupError, ProtocolError};
use crate::id::{Key, NodeId};
use crate::limits::Limits;
use crate::round_trips::RoundTrips;
use crate::time::Time;

/// Identifies one request and its response, unique per node.
pub type ReqId = u64;

/// One routing decision at one node for one key (the answer to "where next?").
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Step<A> {
    /// `0` is the key's root as far as this node knows; the nodes after it are where the
    /// key's replicas live, in order, and serve as fallbacks if the root does not answer.
    Root(Vec<Contact<A>>),
    /// Nodes closer to the key, best first; the later ones are fallbacks.
    Next(Vec<Contact<A>>),
}

impl<A> Step<A> {
    /// The contacts the step names, best first.
    pub fn contacts(&self) -> &[Contact<A>] {
        match self {
            Step::Root(v) | Step::Next(v) => v,
        }
    }
}

/// A wire message of a routing algorithm: serializable and checkable against [`Limits`].
pub trait Message: Clone + Debug + Send + Serialize + DeserializeOwned + 'static {
    /// Checks bounds (list lengths, sizes) before the message reaches any state.
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage>;
}

/// Something a routing algorithm asks its node to do.
#[derive(Debug)]
pub enum Action<A, M, T> {
    /// Send a request; the answer arrives at [`Routing::on_response`] with the same id, or
    /// [`Routing::on_request_failed`] is called when the peer does not answer in time.
    Request {
        /// Destination.
        to: Contact<A>,
        /// Correlates the response.
        id: ReqId,
        /// The routing message.
        msg: M,
    },
    /// Answer a request received in [`Routing::on_request`].
    Respond {
        /// The requester.
        to: Contact<A>,
        /// The request's id.
        id: ReqId,
        /// The routing message.
        msg: M,
    },
    /// Call [`Routing::on_timer`] with `timer` after `after`.
    Timer {
        /// Delay.
        after: Duration,
        /// What fires.
        timer: T,
    },
    /// Run an iterative lookup for `key` (starting at `via` if given, else at this node) and
    /// report to [`Routing::on_lookup_done`] with `tag`.
    Lookup {
        /// Key to resolve.
        key: Key,
        /// Handed back with the result.
        tag: u64,
        /// First node to ask (a bootstrap node while joining).
        via: Option<Contact<A>>,
    },
    /// The `update` up-call: `node` entered (`joined`) or left this node's neighbour set.
    Update {
        /// The neighbour.
        node: Contact<A>,
        /// Entered (true) or left (false).
        joined: bool,
    },
    /// The join finished: this node now routes and is responsible for its range.
    Joined,
}

/// The buffer a routing algorithm writes its [`Action`]s into, with the driver's clock and
/// random generator.
pub struct Out<'a, A, M, T> {
    /// The current time (simulated or real).
    pub now: Time,
    /// The driver's seeded generator.
    pub rng: &'a mut dyn Rng,
    actions: &'a mut Vec<Action<A, M, T>>,
    next_id: &'a mut u64,
    round_trips: Option<&'a RoundTrips>,
}

/// The [`Out`] of routing algorithm `R`.
pub type RoutingOut<'a, R> =
    Out<'a, <R as Routing>::Addr, <R as Routing>::Msg, <R as Routing>::Timer>;

impl<'a, A, M, T> Out<'a, A, M, T> {
    /// An output buffer over `actions`, allocating request ids from `next_id`.
    pub fn new(
        now: Time,
        rng: &'a mut dyn Rng,
        actions: &'a mut Vec<Action<A, M, T>>,
        next_id: &'a mut u64,
    ) -> Self {
        Out {
            now,
            rng,
            actions,
            next_id,
            round_trips: None,
        }
    }

    /// The same buffer, answering [`Out::round_trip_us`] from `round_trips`.
    pub(crate) fn with_round_trips(mut self, round_trips: &'a RoundTrips) -> Self {
        self.round_trips = Some(round_trips);
        self
    }

    /// The shortest round trip this node has seen to `peer`, in microseconds (saturating),
    /// over every request of its that `peer` answered: a proximity estimate that costs no
    /// probe. `None` for a peer the node has not heard from among its 128 most recently
    /// answered ones. A peer that has failed to answer since is still given: on a loaded
    /// host a live peer's answer can come after the timeout, and forgetting it would have
    /// it probed again and again, adding to the load that made it late.
    pub fn round_trip_us(&self, peer: &NodeId) -> Option<u32> {
        self.round_trips.and_then(|rt| rt.shortest_us(peer))
    }

    /// Sends a request and returns its id.
    pub fn request(&mut self, to: Contact<A>, msg: M) -> ReqId {
        *self.next_id += 1;
        let id = *self.next_id;
        self.actions.push(Action::Request { to, id, msg });
        id
    }

    /// Answers request `id` from `to`.
    pub fn respond(&mut self, to: Contact<A>, id: ReqId, msg: M) {
        self.actions.push(Action::Respond { to, id, msg });
    }

    /// Sets a timer.
    pub fn timer(&mut self, after: Duration, timer: T) {
        self.actions.push(Action::Timer { after, timer });
    }

    /// Starts an iterative lookup; the result comes back tagged `tag`.
    pub fn lookup(&mut self, key: Key, tag: u64, via: Option<Contact<A>>) {
        self.actions.push(Action::Lookup { key, tag, via });
    }

    /// Reports a neighbour-set change (the `update` up-call).
    pub fn update(&mut self, node: Contact<A>, joined: bool) {
        self.actions.push(Action::Update { node, joined });
    }

    /// Reports that the join finished.
    pub fn joined(&mut self) {
        self.actions.push(Action::Joined);
    }
}

/// A key-based-routing algorithm (Chord, Pastry, Tapestry, CAN) as a sans-IO state machine.
///
/// Everything a DHT, a multicast tree or a coordination protocol needs from an overlay goes
/// through this trait, so they run unchanged over every algorithm.
pub trait Routing: Sized + Debug + Send + 'static {
    /// How the driver reaches a node.
    type Addr: Address;
    /// The algorithm's own wire messages (maintenance: stabilize, join, repair, ...).
    type Msg: Message;
    /// The algorithm's timers (stabilize, fix fingers, ...).
    type Timer: Clone + Debug + Send + 'static;
    /// Tunable parameters with the paper's defaults.
    type Config: Clone + Debug + Default + Send + Sync + 'static;

    /// Short lowercase name (`chord`), also the protocol name on the wire.
    const NAME: &'static str;

    /// A node that knows nobody yet.
    fn new(me: Contact<Self::Addr>, config: &Self::Config) -> Self;

    /// This node.
    fn me(&self) -> &Contact<Self::Addr>;

    /// Starts the node: joins through `bootstrap`, or creates a new overlay if `None`.
    /// Must emit [`Action::Joined`] once the node routes, and arm its maintenance timers.
    fn join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Option<Contact<Self::Addr>>);

    /// Leaves gracefully: tells the neighbours so they repair at once. The node's data is
    /// handed over by the layer above before this is called.
    fn leave(&mut self, out: &mut RoutingOut<'_, Self>);

    /// Whether the join has finished.
    fn is_joined(&self) -> bool;

    /// A request from a peer.
    fn on_request(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<Self::Addr>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError>;

    /// The response to a request this algorithm sent.
    fn on_response(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<Self::Addr>,
        id: ReqId,
        msg: Self::Msg,
    ) -> Result<(), ProtocolError>;

    /// A request this algorithm sent got no answer in time. The node has already called
    /// [`Routing::peer_failed`] for `to`.
    fn on_request_failed(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        to: &Contact<Self::Addr>,
        id: ReqId,
    );

    /// A timer this algorithm set fired.
    fn on_timer(&mut self, out: &mut RoutingOut<'_, Self>, timer: Self::Timer);

    /// Whether the algorithm answers request `msg` on receipt, without asking another
    /// peer first. With [`crate::NodeConfig::prompt_timeout_floor`] set, such a request
    /// waits a few round trips to its peer rather than the full request timeout, so a
    /// crashed neighbour is found sooner. An algorithm opts in where one false timeout is
    /// cheap (it asks again before acting on it); the default keeps the full timeout.
    fn answers_at_once(msg: &Self::Msg) -> bool {
        let _ = msg;
        false
    }

    /// A lookup this algorithm started finished: the root first, then its replica set.
    fn on_lookup_done(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        tag: u64,
        result: Result<&[Contact<Self::Addr>], LookupError>,
    );

    /// A lookup this node made, for whatever purpose, ended at `root` as `key`'s root: the
    /// algorithm may keep it as a shortcut for later routes (a hint, which the next hop
    /// checks as it checks any other). The default ignores it.
    fn root_found(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        key: &Key,
        root: &Contact<Self::Addr>,
    ) {
        let _ = (out, key, root);
    }

    /// Some layer found `peer` unreachable: drop it from every table.
    fn peer_failed(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<Self::Addr>);

    /// The routing decision for `key` at this node, with up to `num` contacts.
    ///
    /// `Root` names the root (this node itself when it is the root) and its replica set;
    /// `Next` names nodes closer to the key. Lookups and `route` are built on this alone.
    fn step(&self, key: &Key, num: usize) -> Step<Self::Addr>;

    /// [`Routing::step`] as if the nodes in `avoid` had failed. An iterative lookup names
    /// the nodes that did not answer it, so the node asked can route around a failure its
    /// own probes have not noticed yet (else it would keep sending the lookup back into
    /// the dead entry). Algorithms whose fallbacks already cover this keep the default.
    fn step_avoiding(&self, key: &Key, num: usize, avoid: &[Key]) -> Step<Self::Addr> {
        let _ = avoid;
        self.step(key, num)
    }

    /// `local_lookup(key, num, safe)`: up to `num` next-hop candidates for `key`, best first.
    /// `safe` asks for candidates chosen so that an adversary cannot steer the choice; an
    /// algorithm without such a mode returns the same as unsafe.
    fn local_lookup(&self, key: &Key, num: usize, safe: bool) -> Vec<Contact<Self::Addr>>;

    /// `neighbor_set(num)`: up to `num` nodes this node exchanges maintenance with.
    fn neighbor_set(&self, num: usize) -> Vec<Contact<Self::Addr>>;

    /// `replica_set(key, max_rank)`: up to `max_rank` nodes that should hold `key`, root
    /// first, as far as this node can tell.
    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<Self::Addr>>;

    /// `range`: whether this node is the root of `key` as far as it knows.
    fn is_root(&self, key: &Key) -> bool;

    /// Whether this node is `key`'s root (`Some(true)`), another node is (`Some(false)`),
    /// or this node cannot tell for now (`None`: a Chord node whose predecessor failed, until
    /// its new predecessor notifies it). State kept by a key's root (a multicast tree's
    /// root, a group's membership desk) should move only on `Some(false)`.
    fn root_status(&self, key: &Key) -> Option<bool> {
        Some(self.is_root(key))
    }

    /// A node a routed message (the common API's `route`) may go straight to as `key`'s
    /// root, named from state that can lag behind joins (a Chord node's successor list),
    /// where `step` would pass the message on first. The node named delivers only after
    /// checking its own range (`nearer_root`); a lookup, which ends at the first root
    /// named, takes `step` alone. `None`, the default: route by `step`.
    fn root_shortcut(&self, key: &Key, avoid: &[Key]) -> Option<Contact<Self::Addr>> {
        let _ = (key, avoid);
        None
    }

    /// A routed message reached this node because the previous hop named it `key`'s root,
    /// but this node knows a nearer root: the node to pass it to, named root in turn (a
    /// Chord node's newer predecessor, which the previous hop's successor list had not
    /// heard of yet). `None`, the default: deliver here, as the previous hop said.
    fn nearer_root(&self, key: &Key) -> Option<Contact<Self::Addr>> {
        let _ = key;
        None
    }

    /// A short human-readable summary of the routing state (for `status` and logs).
    fn summary(&self) -> String;
}
