//! What `bench net-multicast` saw: when each message was published, by whom, to how many
//! members, and when each member received it. Both protocols' nodes report into one tally,
//! on the same clock.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

/// The payload of message `id`: its id (8 bytes, big-endian), padded to `size` bytes.
pub fn payload(id: u64, size: usize) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.resize(size.max(8), 0);
    p
}

/// The message id a payload carries, if it is one of ours.
fn id_of(payload: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(payload.get(..8)?.try_into().ok()?))
}

struct Sent {
    at: Instant,
    from: usize,
    expected: usize,
    /// Members (other than the publisher) that received it, and after how many ms.
    got: HashMap<usize, f64>,
}

#[derive(Default)]
struct Inner {
    sent: HashMap<u64, Sent>,
    attached: HashSet<usize>,
}

/// Publications and deliveries, shared by every node of one network.
#[derive(Default)]
pub struct Tally {
    inner: Mutex<Inner>,
}

/// Deliveries of a range of messages.
pub struct Delivered {
    /// Deliveries expected: every live member but the publisher, per message.
    pub expected: usize,
    /// Deliveries made (each member counted once per message).
    pub delivered: usize,
    /// Publisher-to-member latency of each delivery, milliseconds, sorted.
    pub latency_ms: Vec<f64>,
}

impl Tally {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking recorder cannot leave the maps half-updated: each update is one insert.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Message `id` is being published by node `from`, to `expected` other members.
    pub fn published(&self, id: u64, from: usize, expected: usize) {
        self.lock().sent.insert(
            id,
            Sent {
                at: Instant::now(),
                from,
                expected,
                got: HashMap::new(),
            },
        );
    }

    /// Node `node` received `payload`. Copies, the publisher's own and unknown payloads are
    /// not deliveries.
    pub fn received(&self, node: usize, payload: &[u8]) {
        let Some(id) = id_of(payload) else { return };
        let mut inner = self.lock();
        if let Some(sent) = inner.sent.get_mut(&id)
            && sent.from != node
        {
            let ms = sent.at.elapsed().as_secs_f64() * 1e3;
            sent.got.entry(node).or_insert(ms);
        }
    }

    /// Node `node` is attached to the group (Scribe: subscribed; gossipsub: has a mesh).
    pub fn attached(&self, node: usize) {
        self.lock().attached.insert(node);
    }

    /// How many nodes are attached.
    pub fn attached_count(&self) -> usize {
        self.lock().attached.len()
    }

    /// Whether every message of `ids` reached all the members it was sent to.
    pub fn complete(&self, ids: std::ops::Range<u64>) -> bool {
        let inner = self.lock();
        ids.filter_map(|id| inner.sent.get(&id))
            .all(|s| s.got.len() >= s.expected)
    }

    /// The deliveries of messages `ids`.
    pub fn delivered(&self, ids: std::ops::Range<u64>) -> Delivered {
        let inner = self.lock();
        let mut out = Delivered {
            expected: 0,
            delivered: 0,
            latency_ms: Vec::new(),
        };
        for s in ids.filter_map(|id| inner.sent.get(&id)) {
            out.expected += s.expected;
            out.delivered += s.got.len();
            out.latency_ms.extend(s.got.values());
        }
        out.latency_ms.sort_by(f64::total_cmp);
        out
    }
}
