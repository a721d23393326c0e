//! A bare driver for unit tests of one routing state machine: calls it with an [`Out`]
//! over a seeded generator and keeps the actions it emits for the test to inspect.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use std::time::Duration;

use crate::round_trips::RoundTrips;
use crate::routing::{Action, Out, Routing, RoutingOut};
use crate::time::Time;
use crate::{Contact, Key, NodeId};

/// A contact whose id is the byte `b` repeated and whose address is `b`: ids that order
/// as their bytes do, for placing nodes on the ring by hand.
pub fn contact(b: u8) -> Contact<u32> {
    Contact::new(Key([b; 20]), u32::from(b))
}

/// The actions routing algorithm `R` emits.
pub type RoutingAction<R> =
    Action<<R as Routing>::Addr, <R as Routing>::Msg, <R as Routing>::Timer>;

/// A driver that runs nothing: each [`Scratch::call`] hands the state machine an output
/// buffer at time zero, and the actions pile up in [`Scratch::actions`].
pub struct Scratch<R: Routing> {
    rng: Xoshiro256PlusPlus,
    next_id: u64,
    round_trips: RoundTrips,
    /// Every action emitted so far, oldest first.
    pub actions: Vec<RoutingAction<R>>,
}

impl<R: Routing> Scratch<R> {
    /// A driver whose generator is seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Scratch {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            next_id: 0,
            round_trips: RoundTrips::default(),
            actions: Vec::new(),
        }
    }

    /// Runs `f` with an output buffer feeding [`Scratch::actions`].
    pub fn call<T>(&mut self, f: impl FnOnce(&mut RoutingOut<'_, R>) -> T) -> T {
        let mut out = Out::new(Time(0), &mut self.rng, &mut self.actions, &mut self.next_id)
            .with_round_trips(&self.round_trips);
        f(&mut out)
    }

    /// Has the node answered by `peer` after `rtt`, as the node core notes every answer:
    /// [`Out::round_trip_us`] then knows it.
    pub fn heard_from(&mut self, peer: &NodeId, rtt: Duration) {
        self.round_trips.sample(peer, Time(0), Time::ZERO + rtt);
    }

    /// The recipients of the requests emitted so far whose message is `wanted`, oldest
    /// first.
    pub fn requested(&self, wanted: impl Fn(&R::Msg) -> bool) -> Vec<R::Addr> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Request { to, msg, .. } if wanted(msg) => Some(to.addr.clone()),
                _ => None,
            })
            .collect()
    }
}
