//! Announcements and reads of set-valued records: an announcement goes to the key's root,
//! which copies the member to the replica set; a read gathers the members the root and
//! its replicas hold (a root that just took over may not have them all yet); every repair
//! pass pushes each set to its replica set, and a node no longer in it hands it on.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::contact::{Address, Contact};
use crate::dht::app::{Cx, Dht, Sent};
use crate::dht::messages::{DhtEvent, DhtMsg};
use crate::dht::sets::{MAX_MEMBER_BYTES, Member};
use crate::error::{DhtError, LookupError, ProtocolError};
use crate::id::Key;

/// An announcement or a read of members in progress.
#[derive(Clone, Debug)]
pub(crate) struct SetOp<A> {
    op: u64,
    key: Key,
    /// The member to announce; `None` for a read.
    announce: Option<Member>,
    /// The root first, then the rest of the replica set; tried in order.
    candidates: Vec<Contact<A>>,
    /// Replicas that answered a read.
    answered: usize,
    /// The members they hold, with the most time left any of them gave.
    found: BTreeMap<Vec<u8>, u64>,
}

impl<A: Address> Dht<A> {
    /// Starts announcing `member` under `key` for `ttl` (`Some`), or reading its members.
    pub(crate) fn start_set_op(
        &mut self,
        ctx: Cx<'_, '_, A>,
        op: u64,
        key: Key,
        announce: Option<(Vec<u8>, Duration)>,
    ) {
        if let Some((value, _)) = &announce
            && value.len() > MAX_MEMBER_BYTES
        {
            let err = DhtError::TooLarge {
                len: value.len(),
                max: MAX_MEMBER_BYTES,
            };
            ctx.emit(DhtEvent::AnnounceDone {
                op,
                key,
                result: Err(err),
            });
            return;
        }
        let tag = ctx.lookup(key);
        let announce = announce.map(|(value, ttl)| Member {
            value,
            ttl_ms: ttl.as_millis().min(u64::MAX as u128) as u64,
        });
        self.set_ops.insert(
            tag,
            SetOp {
                op,
                key,
                announce,
                candidates: Vec::new(),
                answered: 0,
                found: BTreeMap::new(),
            },
        );
    }

    /// Whether lookup `tag` is a set operation's.
    pub(crate) fn is_set_op(&self, tag: u64) -> bool {
        self.set_ops.get(&tag).is_some()
    }

    /// The key's root and replicas were found (or not).
    pub(crate) fn set_lookup_done(
        &mut self,
        ctx: Cx<'_, '_, A>,
        tag: u64,
        result: Result<Vec<Contact<A>>, LookupError>,
    ) {
        let Some(op) = self.set_ops.get_mut(&tag) else {
            return;
        };
        match result {
            Ok(mut nodes) => {
                nodes.truncate(self.cfg.replication.max(1) + 2);
                op.candidates = nodes;
                self.set_next(ctx, tag);
            }
            Err(e) => self.finish_set_op(ctx, tag, Err(DhtError::Lookup(e))),
        }
    }

    /// Asks the next candidate, or serves the operation here, or finishes it.
    pub(crate) fn set_next(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        let me = ctx.me().id;
        let enough = self.cfg.replication.max(1);
        loop {
            let Some(op) = self.set_ops.get_mut(&tag) else {
                return;
            };
            let reading = op.announce.is_none();
            if reading && op.answered >= enough {
                self.finish_set_op(ctx, tag, Ok(()));
                return;
            }
            if op.candidates.is_empty() {
                let result = if reading && op.answered > 0 {
                    Ok(())
                } else {
                    Err(DhtError::Unreachable)
                };
                self.finish_set_op(ctx, tag, result);
                return;
            }
            let to = op.candidates.remove(0);
            if to.id != me {
                let msg = match &op.announce {
                    Some(member) => DhtMsg::Announce {
                        key: op.key,
                        member: member.clone(),
                    },
                    None => DhtMsg::FetchMembers { key: op.key },
                };
                let id = ctx.request(to, msg);
                self.sent.insert(id, Sent::SetOp(tag));
                return;
            }
            // This node is the candidate: serve it here.
            let key = op.key;
            match op.announce.clone() {
                Some(member) => {
                    self.announce_as_root(ctx, key, member);
                    self.finish_set_op(ctx, tag, Ok(()));
                    return;
                }
                None => {
                    let held = self.sets.members(&key, ctx.now);
                    let op = self.set_ops.get_mut(&tag).expect("present");
                    op.answered += 1;
                    merge_found(&mut op.found, held);
                }
            }
        }
    }

    /// A candidate answered.
    pub(crate) fn set_answer(
        &mut self,
        ctx: Cx<'_, '_, A>,
        tag: u64,
        msg: DhtMsg,
    ) -> Result<(), ProtocolError> {
        let Some(op) = self.set_ops.get_mut(&tag) else {
            return Ok(());
        };
        match (op.announce.is_some(), msg) {
            (true, DhtMsg::Announced) => self.finish_set_op(ctx, tag, Ok(())),
            (false, DhtMsg::Members(members)) => {
                op.answered += 1;
                merge_found(&mut op.found, members);
                self.set_next(ctx, tag);
            }
            (_, other) => {
                self.set_next(ctx, tag);
                return Err(ProtocolError::Unexpected(format!(
                    "{other:?} does not answer a set operation"
                )));
            }
        }
        Ok(())
    }

    fn finish_set_op(&mut self, ctx: Cx<'_, '_, A>, tag: u64, result: Result<(), DhtError>) {
        let Some(op) = self.set_ops.remove(&tag) else {
            return;
        };
        let event = match op.announce {
            Some(_) => DhtEvent::AnnounceDone {
                op: op.op,
                key: op.key,
                result,
            },
            None => {
                let mut found: Vec<(Vec<u8>, u64)> = op.found.into_iter().collect();
                found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                DhtEvent::MembersDone {
                    op: op.op,
                    key: op.key,
                    result: result.map(|()| found.into_iter().map(|(m, _)| m).collect()),
                }
            }
        };
        ctx.emit(event);
    }

    /// An announcement reached its root (or the replica standing in for it): held here and
    /// copied to the replica set.
    pub(crate) fn announce_as_root(&mut self, ctx: Cx<'_, '_, A>, key: Key, member: Member) {
        let ttl = Duration::from_millis(member.ttl_ms);
        if !self.sets.add(key, member.value.clone(), ttl, ctx.now) {
            return;
        }
        let me = ctx.me().id;
        for c in ctx.overlay().replica_set(&key, self.cfg.replication) {
            if c.id != me {
                let msg = DhtMsg::StoreMembers {
                    key,
                    members: vec![member.clone()],
                };
                let id = ctx.request(c, msg);
                self.sent.insert(id, Sent::Replicate);
            }
        }
    }

    /// Copies of members arrived.
    pub(crate) fn store_members(&mut self, ctx: Cx<'_, '_, A>, key: Key, members: Vec<Member>) {
        for m in members {
            self.sets
                .add(key, m.value, Duration::from_millis(m.ttl_ms), ctx.now);
        }
    }

    /// Leaving: copies every set to its replica set one rank deeper, as the records are.
    /// Returns whether nothing had to be sent.
    pub(crate) fn hand_over_sets(&mut self, ctx: Cx<'_, '_, A>) -> bool {
        self.sets.expire(ctx.now);
        let me = ctx.me().id;
        let keys: Vec<Key> = self.sets.keys().copied().collect();
        let mut none = true;
        for key in keys {
            let members = self.sets.members(&key, ctx.now);
            for c in ctx.overlay().replica_set(&key, self.cfg.replication + 1) {
                if c.id != me && self.push_set(ctx, &c, key, &members, Sent::Handover) > 0 {
                    none = false;
                }
            }
        }
        none
    }

    /// Every repair pass: expired members go; each set is pushed to the other members of
    /// its replica set, and dropped here once this node is no longer one of them and they
    /// all acknowledged it.
    pub(crate) fn repair_sets(&mut self, ctx: Cx<'_, '_, A>) {
        self.sets.expire(ctx.now);
        self.set_handoff.clear();
        let me = ctx.me().id;
        let keys: Vec<Key> = self.sets.keys().copied().collect();
        for key in keys {
            let members = self.sets.members(&key, ctx.now);
            let set = ctx.overlay().replica_set(&key, self.cfg.replication);
            let replica = set.iter().any(|c| c.id == me);
            let sent = if replica {
                Sent::Replicate
            } else {
                Sent::SetHandoff(key)
            };
            let mut pushes = 0;
            for c in set.iter().filter(|c| c.id != me) {
                pushes += self.push_set(ctx, c, key, &members, sent.clone());
            }
            if !replica && pushes > 0 {
                // Not a replica any more: kept until every push is acknowledged, since
                // this node's view of the replica set may be older than the set's.
                self.set_handoff.insert(key, pushes);
            }
        }
    }

    /// Sends `members` of `key` to `to`, in requests of at most a list's worth, each
    /// remembered as `sent`; how many requests went.
    fn push_set(
        &mut self,
        ctx: Cx<'_, '_, A>,
        to: &Contact<A>,
        key: Key,
        members: &[Member],
        sent: Sent,
    ) -> usize {
        let chunks = members.chunks(ctx.limits().max_list);
        let n = chunks.len();
        for chunk in chunks {
            let msg = DhtMsg::StoreMembers {
                key,
                members: chunk.to_vec(),
            };
            let id = ctx.request(to.clone(), msg);
            self.sent.insert(id, sent.clone());
        }
        n
    }

    /// A push of a set this node no longer replicates was acknowledged: dropped once all
    /// were.
    pub(crate) fn set_handed_off(&mut self, key: Key) {
        if let Some(left) = self.set_handoff.get_mut(&key) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.set_handoff.remove(&key);
                self.sets.drop_key(&key);
            }
        }
    }
}

/// Adds `members` to `found`, keeping each one's longest time to live.
fn merge_found(found: &mut BTreeMap<Vec<u8>, u64>, members: Vec<Member>) {
    for m in members {
        let ttl = found.entry(m.value).or_default();
        *ttl = (*ttl).max(m.ttl_ms);
    }
}
