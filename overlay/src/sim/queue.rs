//! The simulator's event queue: events ordered by (time, sequence number), so events at the
//! same time run in the order they were scheduled.
//!
//! It is a calendar queue: events fall into buckets one millisecond wide, kept in a
//! `BTreeMap`; only the bucket being run is sorted. Periodic timers far in the future cost
//! a push onto a vector instead of a walk down a heap of millions of entries.

use std::collections::BTreeMap;

use crate::time::Time;

/// Width of a bucket in microseconds.
const BUCKET_US: u64 = 1000;

/// A deterministic event queue. Events live in a slab; buckets hold small handles.
pub struct EventQueue<E> {
    /// Future buckets by index (`time / BUCKET_US`), in scheduling order within a bucket.
    buckets: BTreeMap<u64, Vec<(Time, u64, u32)>>,
    /// The bucket being run, sorted so the next event is last.
    current: Vec<(Time, u64, u32)>,
    /// Index of `current`.
    current_index: Option<u64>,
    /// Emptied bucket vectors, reused so buckets do not grow from nothing each time.
    spare: Vec<Vec<(Time, u64, u32)>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
    len: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            buckets: BTreeMap::new(),
            current: Vec::new(),
            current_index: None,
            spare: Vec::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            len: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: Time, event: E) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.seq += 1;
        self.len += 1;
        let entry = (time, self.seq, slot);
        let index = time.0 / BUCKET_US;
        match self.current_index {
            Some(c) if index <= c => {
                // Into the bucket being run: keep it sorted, next event last.
                let at = self
                    .current
                    .partition_point(|e| (e.0, e.1) > (entry.0, entry.1));
                self.current.insert(at, entry);
            }
            _ => self
                .buckets
                .entry(index)
                .or_insert_with(|| self.spare.pop().unwrap_or_default())
                .push(entry),
        }
    }

    /// Makes sure `current` holds the earliest events, if there are any.
    fn refill(&mut self) {
        if !self.current.is_empty() {
            return;
        }
        self.current_index = None;
        if let Some((index, mut bucket)) = self.buckets.pop_first() {
            bucket.sort_unstable_by_key(|e| std::cmp::Reverse((e.0, e.1)));
            let done = std::mem::replace(&mut self.current, bucket);
            if self.spare.len() < 64 && done.capacity() <= 1 << 16 {
                self.spare.push(done);
            }
            self.current_index = Some(index);
        }
    }

    /// The time of the next event.
    pub fn peek_time(&mut self) -> Option<Time> {
        self.refill();
        self.current.last().map(|e| e.0)
    }

    /// Removes and returns the next event.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.refill();
        let (time, _, slot) = self.current.pop()?;
        let event = self.slab[slot as usize]
            .take()
            .expect("every queued entry has its event");
        self.free.push(slot);
        self.len -= 1;
        Some((time, event))
    }

    /// Drops every scheduled event for which `keep` returns false.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        let slab = &mut self.slab;
        let free = &mut self.free;
        let mut dropped = 0;
        let mut filter = |list: &mut Vec<(Time, u64, u32)>| {
            list.retain(|&(_, _, slot)| {
                let kept = slab[slot as usize].as_ref().is_some_and(&mut keep);
                if !kept {
                    slab[slot as usize] = None;
                    free.push(slot);
                    dropped += 1;
                }
                kept
            });
        };
        filter(&mut self.current);
        for bucket in self.buckets.values_mut() {
            filter(bucket);
        }
        self.buckets.retain(|_, b| !b.is_empty());
        self.len -= dropped;
    }

    /// Number of scheduled events for which `f` returns true.
    pub fn count(&self, f: impl FnMut(&&E) -> bool) -> usize {
        self.slab.iter().flatten().filter(f).count()
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_keep_their_order() {
        let mut q = EventQueue::default();
        q.push(Time(5), "b");
        q.push(Time(1), "a");
        q.push(Time(5), "c");
        q.push(Time(9), "d");
        assert_eq!(q.pop().map(|(_, e)| e), Some("a"));
        // Scheduled while its bucket runs, before an event already queued later in it.
        q.push(Time(3), "a2");
        q.push(Time(5_000), "c2");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a2", "b", "c", "d", "c2"]);
        assert!(q.is_empty());
    }

    #[test]
    fn retain_drops_events_wherever_they_wait() {
        let mut q = EventQueue::default();
        for t in [1, 2, 3_000, 4_000, 9_000] {
            q.push(Time(t), t);
        }
        assert_eq!(q.pop(), Some((Time(1), 1)));
        q.retain(|t| *t != 2 && *t != 4_000);
        assert_eq!(q.len(), 2);
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, [3_000, 9_000]);
    }
}
