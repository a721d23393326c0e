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

    /// The next timer that fired; pending while none has (also while none is set).
    pub(crate) async fn next(&mut self) -> T {
        std::future::poll_fn(|cx: &mut Context<'_>| match self.queue.poll_expired(cx) {
            Poll::Ready(Some(expired)) => Poll::Ready(expired.into_inner()),
            _ => Poll::Pending,
        })
        .await
    }
}
