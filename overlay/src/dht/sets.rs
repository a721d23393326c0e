//! Set-valued, expiring records: many members under one key (the peers sharing a file,
//! say), each added by its announcer with a time to live and gone once that runs out unless
//! announced again. Soft state, like a tracker's: replicas keep members alive between
//! refreshes, and a member nobody refreshes disappears on its own.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::Key;
use crate::time::Time;

/// Largest member, in bytes.
pub const MAX_MEMBER_BYTES: usize = 1024;
/// Most members one key holds; a new member then takes the place of the one that expires
/// soonest, if it outlives it.
pub const MAX_MEMBERS: usize = 512;
/// Longest time to live a member may ask for.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most keys with members one node holds, so that announcements cannot exhaust its memory.
pub const MAX_SET_KEYS: usize = 1 << 16;

/// A member as it travels: its bytes and the milliseconds it has left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's bytes.
    pub value: Vec<u8>,
    /// Milliseconds until it expires.
    pub ttl_ms: u64,
}

/// The members this node holds, by key, each with the time it expires at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetStore {
    sets: BTreeMap<Key, BTreeMap<Vec<u8>, Time>>,
}

impl SetStore {
    /// Adds `member` to `key`'s set until `now + ttl` (capped at [`MAX_TTL`]), or extends
    /// it; returns whether it is held.
    pub fn add(&mut self, key: Key, member: Vec<u8>, ttl: Duration, now: Time) -> bool {
        if member.len() > MAX_MEMBER_BYTES || ttl.is_zero() {
            return false;
        }
        if !self.sets.contains_key(&key) && self.sets.len() >= MAX_SET_KEYS {
            return false;
        }
        let expires = now + ttl.min(MAX_TTL);
        let set = self.sets.entry(key).or_default();
        if let Some(at) = set.get_mut(&member) {
            *at = (*at).max(expires);
            return true;
        }
        if set.len() >= MAX_MEMBERS {
            let (soonest, at) = set
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(m, at)| (m.clone(), *at))
                .expect("a full set has members");
            if at >= expires {
                return false;
            }
            set.remove(&soonest);
        }
        set.insert(member, expires);
        true
    }

    /// The live members of `key`, those with the most time left first.
    pub fn members(&self, key: &Key, now: Time) -> Vec<Member> {
        let Some(set) = self.sets.get(key) else {
            return Vec::new();
        };
        let mut live: Vec<Member> = set
            .iter()
            .filter(|(_, at)| **at > now)
            .map(|(value, at)| Member {
                value: value.clone(),
                ttl_ms: at.since(now).as_millis() as u64,
            })
            .collect();
        live.sort_by(|a, b| b.ttl_ms.cmp(&a.ttl_ms).then_with(|| a.value.cmp(&b.value)));
        live
    }

    /// Forgets every member whose time is up, and keys left empty.
    pub fn expire(&mut self, now: Time) {
        self.sets.retain(|_, set| {
            set.retain(|_, at| *at > now);
            !set.is_empty()
        });
    }

    /// Drops `key`'s set (handed to its replicas).
    pub fn drop_key(&mut self, key: &Key) {
        self.sets.remove(key);
    }

    /// The keys with members.
    pub fn keys(&self) -> impl Iterator<Item = &Key> + '_ {
        self.sets.keys()
    }

    /// Whether no key has members.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Key {
        Key::hash([n])
    }

    #[test]
    fn members_expire_unless_announced_again() {
        let mut s = SetStore::default();
        let t0 = Time::ZERO;
        assert!(s.add(key(1), b"a".to_vec(), Duration::from_secs(10), t0));
        assert!(s.add(key(1), b"b".to_vec(), Duration::from_secs(20), t0));
        let at = |secs| Time::ZERO + Duration::from_secs(secs);
        assert_eq!(s.members(&key(1), at(5)).len(), 2);
        // b has the most time left, so it comes first.
        assert_eq!(s.members(&key(1), at(5))[0].value, b"b");
        assert_eq!(s.members(&key(1), at(15)).len(), 1);
        // Announced again: a lives on.
        assert!(s.add(key(1), b"a".to_vec(), Duration::from_secs(10), at(8)));
        assert_eq!(s.members(&key(1), at(15)).len(), 2);
        s.expire(at(30));
        assert!(s.is_empty());
    }

    #[test]
    fn a_full_set_keeps_the_members_that_live_longest() {
        let mut s = SetStore::default();
        let t0 = Time::ZERO;
        for i in 0..MAX_MEMBERS as u32 {
            assert!(s.add(
                key(2),
                i.to_be_bytes().to_vec(),
                Duration::from_secs(100),
                t0
            ));
        }
        // Shorter-lived than all: refused. Longer-lived: takes a place.
        assert!(!s.add(key(2), b"short".to_vec(), Duration::from_secs(50), t0));
        assert!(s.add(key(2), b"long".to_vec(), Duration::from_secs(200), t0));
        let m = s.members(&key(2), t0);
        assert_eq!(m.len(), MAX_MEMBERS);
        assert_eq!(m[0].value, b"long");
    }

    #[test]
    fn oversized_members_and_zero_lifetimes_are_refused_and_lifetimes_capped() {
        let mut s = SetStore::default();
        assert!(!s.add(
            key(3),
            vec![0; MAX_MEMBER_BYTES + 1],
            Duration::from_secs(1),
            Time::ZERO
        ));
        assert!(!s.add(key(3), b"x".to_vec(), Duration::ZERO, Time::ZERO));
        assert!(s.add(
            key(3),
            b"x".to_vec(),
            Duration::from_secs(u64::MAX / 4),
            Time::ZERO
        ));
        let ttl = s.members(&key(3), Time::ZERO)[0].ttl_ms;
        assert_eq!(ttl, MAX_TTL.as_millis() as u64);
    }
}
