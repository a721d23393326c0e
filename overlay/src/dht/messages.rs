//! The DHT's messages, timers, commands and events.

use serde::{Deserialize, Serialize};

use crate::error::{DhtError, InvalidMessage};
use crate::id::Key;
use crate::limits::Limits;
use crate::routing::Message;
use crate::store::{Record, Version};

/// What DHT nodes say to each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DhtMsg {
    /// A client's write to the key's root (`None` removes): the root gives it a version
    /// after every one it holds, stores it and copies it to the replica set.
    Write {
        /// The key.
        key: Key,
        /// The value, or `None` for a tombstone.
        value: Option<Vec<u8>>,
    },
    /// Store these versioned records (replication, repair, hand-over).
    Store {
        /// The records.
        records: Vec<Record>,
    },
    /// Return the record for `key`.
    Fetch {
        /// The key.
        key: Key,
    },
    /// Anti-entropy: "I hold these versions; which do you want?"
    Offer {
        /// Keys with the version the sender holds.
        entries: Vec<(Key, Version)>,
    },
    /// The answer to `Write`: stored with this version.
    Written {
        /// The version the root gave the write.
        version: Version,
    },
    /// The answer to `Store`.
    Stored,
    /// The answer to `Fetch`.
    Fetched(Option<Record>),
    /// The answer to `Offer`: the keys the receiver lacks or holds older.
    Want {
        /// Keys to send.
        keys: Vec<Key>,
    },
}

fn check_records(limits: &Limits, records: &[Record]) -> Result<(), InvalidMessage> {
    limits.list("records", records.len())?;
    let mut total = 0usize;
    for r in records {
        let len = r.value.as_ref().map_or(0, Vec::len);
        limits.value("value", len)?;
        total += len;
    }
    if total > limits.max_message_bytes {
        return Err(InvalidMessage::TooLarge {
            what: "records",
            len: total,
            max: limits.max_message_bytes,
        });
    }
    Ok(())
}

impl Message for DhtMsg {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            DhtMsg::Write { value, .. } => {
                limits.value("value", value.as_ref().map_or(0, Vec::len))
            }
            DhtMsg::Store { records } => check_records(limits, records),
            DhtMsg::Fetch { .. } | DhtMsg::Written { .. } | DhtMsg::Stored => Ok(()),
            DhtMsg::Offer { entries } => limits.list("offer", entries.len()),
            DhtMsg::Fetched(r) => check_records(limits, r.as_slice()),
            DhtMsg::Want { keys } => limits.list("want", keys.len()),
        }
    }
}

/// The DHT's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhtTimer {
    /// Periodic replica repair.
    Repair,
    /// Repair soon after a neighbour-set change.
    RepairSoon,
    /// Look the key of the read with this lookup tag up again.
    RetryRead(u64),
}

/// What a user asks of the DHT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhtCommand {
    /// Store `value` under `key` on its replica set; answered by [`DhtEvent::PutDone`].
    Put {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
        /// Value.
        value: Vec<u8>,
    },
    /// Read `key`; answered by [`DhtEvent::GetDone`].
    Get {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
    },
    /// Remove `key` (writes a tombstone); answered by [`DhtEvent::PutDone`].
    Remove {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
    },
}

/// What the DHT reports.
#[derive(Clone, Debug, PartialEq)]
pub enum DhtEvent {
    /// A put or remove finished.
    PutDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// Outcome.
        result: Result<(), DhtError>,
    },
    /// A get finished; `Ok(None)` when no replica holds a value.
    GetDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// The value, none, or the failure.
        result: Result<Option<Vec<u8>>, DhtError>,
        /// Hops of the lookup that found the root.
        hops: u32,
    },
}
