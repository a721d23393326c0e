//! The DHT's messages, timers, commands and events.

use serde::{Deserialize, Serialize};

use crate::dht::sets::{MAX_MEMBER_BYTES, Member};
use crate::error::{DhtError, InvalidMessage};
use crate::id::Key;
use crate::limits::Limits;
use crate::routing::Message;
use crate::store::{Record, Version};
use std::time::Duration;

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
    /// Add a member to `key`'s set, at the key's root; answered by `Announced`.
    Announce {
        /// The key.
        key: Key,
        /// The member and its time to live.
        member: Member,
    },
    /// Copies of `key`'s members (replication, repair, hand-over); answered by `Stored`.
    StoreMembers {
        /// The key.
        key: Key,
        /// Its members.
        members: Vec<Member>,
    },
    /// Return `key`'s live members; answered by `Members`.
    FetchMembers {
        /// The key.
        key: Key,
    },
    /// The answer to `Announce`: held.
    Announced,
    /// The answer to `FetchMembers`.
    Members(Vec<Member>),
}

fn check_members(limits: &Limits, members: &[Member]) -> Result<(), InvalidMessage> {
    limits.list("members", members.len())?;
    let mut total = 0usize;
    for m in members {
        check_member(m)?;
        total += m.value.len();
    }
    if total > limits.max_message_bytes {
        return Err(InvalidMessage::TooLarge {
            what: "members",
            len: total,
            max: limits.max_message_bytes,
        });
    }
    Ok(())
}

fn check_member(m: &Member) -> Result<(), InvalidMessage> {
    if m.value.len() > MAX_MEMBER_BYTES {
        return Err(InvalidMessage::TooLarge {
            what: "member",
            len: m.value.len(),
            max: MAX_MEMBER_BYTES,
        });
    }
    Ok(())
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
            DhtMsg::Announce { member, .. } => check_member(member),
            DhtMsg::StoreMembers { members, .. } | DhtMsg::Members(members) => {
                check_members(limits, members)
            }
            DhtMsg::FetchMembers { .. } | DhtMsg::Announced => Ok(()),
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
    /// Acknowledge this write with the copies made so far.
    AckWrite(u64),
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
    /// Add `member` to `key`'s set for `ttl` (or extend it): announce it again before then
    /// to keep it; answered by [`DhtEvent::AnnounceDone`].
    Announce {
        /// Caller's tag.
        op: u64,
        /// Key.
        key: Key,
        /// The member, at most [`crate::dht::MAX_MEMBER_BYTES`].
        member: Vec<u8>,
        /// How long it lives unless announced again (at most [`crate::dht::MAX_TTL`]).
        ttl: Duration,
    },
    /// Read `key`'s live members; answered by [`DhtEvent::MembersDone`].
    Members {
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
    /// An announcement finished.
    AnnounceDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// Outcome.
        result: Result<(), DhtError>,
    },
    /// A read of a set finished: its live members, most time left first (empty when no
    /// replica holds any).
    MembersDone {
        /// Caller's tag.
        op: u64,
        /// The key.
        key: Key,
        /// The members, or the failure.
        result: Result<Vec<Vec<u8>>, DhtError>,
    },
}
