//! The event queue of the seeded clusters: simulated time, events in time order (ties in
//! the order they were scheduled), and the seeded generator every random choice comes from.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Pending events of type `E` in simulated time.
pub(crate) struct Schedule<E> {
    now: Duration,
    rng: Xoshiro256PlusPlus,
    queue: BinaryHeap<Reverse<(Duration, u64)>>,
    events: BTreeMap<u64, E>,
    next: u64,
}

impl<E> Schedule<E> {
    /// An empty schedule at time zero.
    pub(crate) fn new(seed: u64) -> Self {
        Schedule {
            now: Duration::ZERO,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            next: 0,
        }
    }

    /// The current simulated time.
    pub(crate) fn now(&self) -> Duration {
        self.now
    }

    /// Schedules `event` `after` from now.
    pub(crate) fn at(&mut self, after: Duration, event: E) {
        let n = self.next;
        self.next += 1;
        self.events.insert(n, event);
        self.queue.push(Reverse((self.now + after, n)));
    }

    /// The next event, unless it falls after `limit`; the clock moves to it.
    pub(crate) fn pop(&mut self, limit: Duration) -> Option<E> {
        let Reverse((at, n)) = self.queue.pop()?;
        if at > limit {
            return None;
        }
        self.now = at;
        self.events.remove(&n)
    }

    /// A duration drawn uniformly from `lo..=hi`.
    pub(crate) fn pick(&mut self, (lo, hi): (Duration, Duration)) -> Duration {
        if hi <= lo {
            return lo;
        }
        let nanos = self
            .rng
            .random_range(lo.as_nanos() as u64..=hi.as_nanos() as u64);
        Duration::from_nanos(nanos)
    }

    /// A number drawn uniformly from `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        self.rng.random_range(0..n)
    }
}
