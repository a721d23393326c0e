//! The local record store of the DHT: versioned values and tombstones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{Key, NodeId};
use crate::time::Time;

/// Orders writes to one key: the later write wins, ties broken by the writer's id, so
/// every replica picks the same winner and a stale replica never overwrites a newer one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Version {
    /// The writer's clock when it wrote, in microseconds.
    pub time: u64,
    /// The writer.
    pub writer: NodeId,
}

impl Version {
    /// The version of a write made by `writer` at `now`.
    pub fn new(now: Time, writer: NodeId) -> Self {
        Version {
            time: now.0,
            writer,
        }
    }
}

/// One key's state on a replica: a value, or a tombstone left by `remove` so that an old
/// replica cannot bring the value back.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Record {
    /// The key.
    pub key: Key,
    /// Which write this is.
    pub version: Version,
    /// The value, or `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// Records held by one node, in key order (deterministic iteration).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Store {
    records: BTreeMap<Key, Record>,
    /// Keys written or dropped since the last [`Store::take_changes`], when tracking.
    changes: Option<std::collections::BTreeSet<Key>>,
}

impl Store {
    /// Stores `record` unless a newer or equal version is already held; returns whether it
    /// was stored.
    pub fn merge(&mut self, record: Record) -> bool {
        match self.records.get(&record.key) {
            Some(old) if old.version >= record.version => false,
            _ => {
                if let Some(c) = self.changes.as_mut() {
                    c.insert(record.key);
                }
                self.records.insert(record.key, record);
                true
            }
        }
    }

    /// The record for `key`, tombstones included.
    pub fn get(&self, key: &Key) -> Option<&Record> {
        self.records.get(key)
    }

    /// The version held for `key`.
    pub fn version(&self, key: &Key) -> Option<Version> {
        self.records.get(key).map(|r| r.version)
    }

    /// Drops `key` (after it was handed over).
    pub fn drop_key(&mut self, key: &Key) -> Option<Record> {
        let dropped = self.records.remove(key);
        if let (Some(c), Some(_)) = (self.changes.as_mut(), &dropped) {
            c.insert(*key);
        }
        dropped
    }

    /// Drops tombstones older than `before`, which every replica has seen by then.
    pub fn expire_tombstones(&mut self, before: Time) {
        let changes = &mut self.changes;
        self.records.retain(|key, r| {
            let keep = r.value.is_some() || r.version.time >= before.0;
            if let (false, Some(c)) = (keep, changes.as_mut()) {
                c.insert(*key);
            }
            keep
        });
    }

    /// Starts recording which keys change, for a driver that persists the store.
    pub fn track_changes(&mut self) {
        self.changes.get_or_insert_default();
    }

    /// The keys written or dropped since the last call (empty unless tracking).
    pub fn take_changes(&mut self) -> Vec<Key> {
        self.changes
            .as_mut()
            .map(|c| std::mem::take(c).into_iter().collect())
            .unwrap_or_default()
    }

    /// All records in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// Number of records (tombstones included).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Number of live values (tombstones excluded).
    pub fn live_values(&self) -> usize {
        self.records.values().filter(|r| r.value.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time: u64, writer: u8, value: Option<&str>) -> Record {
        Record {
            key: Key::hash("k"),
            version: Version {
                time,
                writer: Key([writer; 20]),
            },
            value: value.map(|v| v.as_bytes().to_vec()),
        }
    }

    #[test]
    fn stale_versions_never_overwrite_newer_ones() {
        let mut s = Store::default();
        assert!(s.merge(rec(10, 1, Some("new"))));
        assert!(!s.merge(rec(5, 9, Some("old"))));
        assert!(!s.merge(rec(10, 1, Some("same"))));
        assert_eq!(
            s.get(&Key::hash("k")).unwrap().value.as_deref(),
            Some(&b"new"[..])
        );
        // Same time: the larger writer id wins on every replica.
        assert!(s.merge(rec(10, 2, Some("tie"))));
    }

    #[test]
    fn tombstones_shadow_values_until_they_expire() {
        let mut s = Store::default();
        s.merge(rec(10, 1, Some("v")));
        assert!(s.merge(rec(20, 1, None)));
        assert!(!s.merge(rec(15, 1, Some("resurrect"))));
        assert_eq!(s.live_values(), 0);
        s.expire_tombstones(Time(21));
        assert!(s.is_empty());
    }
}
