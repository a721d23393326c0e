//! The node's timers on the tokio clock.

use std::task::{Context, Poll};
use std::time::Duration;

use tokio_util::time::DelayQueue;

/// Timers the node asked for, each handed back once its delay has passed.
pub(crate) struct Timers<T> {
    queue: DelayQueue<T>,
}

impl<T> Timers<T> {
    pub(crate) fn new() -> Self {
        Timers {
            queue: DelayQueue::new(),
        }
    }

    pub(crate) fn set(&mut self, after: Duration, timer: T) {
        self.queue.insert(timer, after);
    }

    /// The next timer that fired; `Ready(None)` while none is set (the queue wakes the task
    /// when one is).
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.queue
            .poll_expired(cx)
            .map(|expired| expired.map(|e| e.into_inner()))
    }
}
