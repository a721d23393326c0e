//! What the coordination service sends, takes from its user and reports.

use std::sync::Arc;
use std::time::Duration;

use overlay::time::Time;
use overlay::{InvalidMessage, Key, Limits, Message, NodeId};
use serde::{Deserialize, Serialize};

use crate::choice::{AnyElectionMsg, AnyMutexMsg, ElectionKind, MutexKind};
use crate::clock::vector::VectorClock;
use crate::membership::{MembershipConfig, MembershipEvent, MembershipMsg, MembershipTimer};
use crate::mutex::LockState;
use crate::sync::BerkeleyMsg;

/// Reads this node's clock, in seconds, at the driver's time (the system clock on a real
/// node; a drifting clock in the simulator).
pub type ClockSource = Arc<dyn Fn(Time) -> f64 + Send + Sync>;

/// How a node runs the coordination service. Every member of a group must choose the same
/// algorithms: a message of another algorithm is dropped.
#[derive(Clone)]
pub struct CoordinationConfig {
    /// Groups joined as soon as the node is in the overlay (`default`).
    pub groups: Vec<String>,
    /// The mutual-exclusion algorithm of every lock.
    pub mutex: MutexKind,
    /// The election algorithm of every group.
    pub election: ElectionKind,
    /// How often the leader runs a round of the Berkeley algorithm.
    pub sync_period: Duration,
    /// Offsets further than this from the median are left out of the Berkeley average.
    pub sync_tolerance: Duration,
    /// The node's clock.
    pub clock: ClockSource,
    /// Group membership's timers and bounds.
    pub membership: Arc<MembershipConfig>,
    /// Most lock requests waiting at this node.
    pub max_waiting: usize,
}

impl std::fmt::Debug for CoordinationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoordinationConfig")
            .field("groups", &self.groups)
            .field("mutex", &self.mutex)
            .field("election", &self.election)
            .field("sync_period", &self.sync_period)
            .finish()
    }
}

impl Default for CoordinationConfig {
    /// The group `default`, the central server, the bully algorithm, a Berkeley round
    /// every 10 s with a 1 s tolerance, the driver's time as the clock.
    fn default() -> Self {
        CoordinationConfig {
            groups: vec!["default".into()],
            mutex: MutexKind::Central,
            election: ElectionKind::Bully,
            sync_period: Duration::from_secs(10),
            sync_tolerance: Duration::from_secs(1),
            clock: Arc::new(|t: Time| t.as_secs_f64()),
            membership: Arc::new(MembershipConfig::default()),
            max_waiting: 1024,
        }
    }
}

/// The logical time a message carries: its sender's Lamport and vector clocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Lamport time of the send.
    pub lamport: u64,
    /// Vector time of the send.
    pub vector: VectorClock<NodeId>,
}

/// What one algorithm of the service sends to a member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Protocol {
    /// The mutual exclusion of the lock with this key.
    Mutex(Key, AnyMutexMsg<NodeId>),
    /// The election of the group with this key.
    Election(Key, AnyElectionMsg<NodeId>),
    /// The clock synchronisation of the group with this key.
    Sync(Key, BerkeleyMsg),
    /// To the leader of the group with this key: the sender uses these of its locks. Under
    /// the central server the leader joins them, so that it is their coordinator.
    Locks(Key, Vec<String>),
}

/// The coordination service's messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CoordinationMsg<A> {
    /// Group membership.
    Membership(MembershipMsg<A>),
    /// An algorithm's message between members, with the sender's logical time.
    Member(Stamp, Protocol),
    /// The answer to a member's message.
    Ack,
}

impl<A: overlay::Address> Message for CoordinationMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            CoordinationMsg::Membership(m) => m.validate(limits),
            CoordinationMsg::Member(stamp, p) => {
                limits.list("vector clock", stamp.vector.len())?;
                match p {
                    Protocol::Locks(_, names) => limits.list("lock names", names.len()),
                    _ => Ok(()),
                }
            }
            CoordinationMsg::Ack => Ok(()),
        }
    }
}

/// The coordination service's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinationTimer {
    /// Group membership's.
    Membership(MembershipTimer),
    /// A round of clock synchronisation in the groups this node leads.
    Sync,
    /// Send again the messages whose requests failed.
    Retry,
}

/// What a node's user asks of the coordination service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordinationCommand {
    /// Join a group (by name).
    Join(String),
    /// Take lock `lock` of `group` for the holder `ticket` (a number the user picks, unique
    /// at this node): [`CoordinationEvent::Acquired`] follows.
    Acquire {
        /// The group's name.
        group: String,
        /// The lock's name.
        lock: String,
        /// Who at this node wants it.
        ticket: u64,
    },
    /// The holder `ticket` gives its lock back, or stops waiting for it.
    Release(u64),
    /// Report this node's state ([`CoordinationEvent::Report`]).
    Report,
}

/// What the coordination service reports.
#[derive(Clone, Debug, PartialEq)]
pub enum CoordinationEvent<A> {
    /// The holder `ticket` has the lock.
    Acquired(u64),
    /// The holder `ticket` cannot have the lock.
    Refused {
        /// Who asked.
        ticket: u64,
        /// Why.
        reason: String,
    },
    /// This node takes `leader` as `group`'s leader.
    Leader {
        /// The group's name.
        group: String,
        /// Its leader.
        leader: NodeId,
    },
    /// This node's state.
    Report(CoordinationReport),
    /// Group membership's news.
    Membership(MembershipEvent<A>),
}

/// A node's coordination state, as `p2p leader`, `p2p clock` and `p2p status` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordinationReport {
    /// The node's id.
    #[serde(with = "super::hex::one")]
    pub me: NodeId,
    /// The node's Lamport clock.
    pub lamport: u64,
    /// The node's vector clock.
    #[serde(with = "super::hex::counts")]
    pub vector: Vec<(NodeId, u64)>,
    /// The node's clock now, in seconds.
    pub clock: f64,
    /// The groups it is in.
    pub groups: Vec<GroupReport>,
    /// The locks it has used.
    pub locks: Vec<LockReport>,
}

/// One group in a [`CoordinationReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// Its name.
    pub name: String,
    /// The number of this node's view (0 before the first).
    pub epoch: u64,
    /// The members in that view.
    #[serde(with = "super::hex::list")]
    pub members: Vec<NodeId>,
    /// The leader this node knows.
    #[serde(with = "super::hex::option")]
    pub leader: Option<NodeId>,
    /// The election algorithm.
    pub election: String,
    /// This node's clock minus the group's time (seconds), as the last Berkeley round
    /// estimated it.
    pub offset: Option<f64>,
    /// That estimate's error bound (seconds).
    pub offset_bound: Option<f64>,
    /// Seconds since that estimate.
    pub offset_age: Option<f64>,
}

/// One lock in a [`CoordinationReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockReport {
    /// Its group's name.
    pub group: String,
    /// Its name.
    pub name: String,
    /// The algorithm.
    pub algorithm: String,
    /// Where this node is with respect to it.
    pub state: String,
    /// Holders at this node waiting for it.
    pub waiting: usize,
    /// The members taking part in the current view.
    pub members: usize,
}

/// The key of group `name`'s membership.
pub fn group_key(name: &str) -> Key {
    Key::hash(name)
}

/// The key of the membership of lock `lock` of group `group`: a lock's members are the
/// group's nodes that have used it.
pub fn lock_key(group: &str, lock: &str) -> Key {
    Key::hash(format!("{group}/lock/{lock}"))
}

/// A lock state as reports spell it.
pub(crate) fn state_name(s: LockState) -> &'static str {
    match s {
        LockState::Idle => "idle",
        LockState::Wanted => "waiting",
        LockState::Held => "held",
    }
}
