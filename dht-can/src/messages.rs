//! CAN's own wire messages; lookups use the overlay's generic `FindNext`.

use overlay::{Contact, InvalidMessage, Key, Limits, Message};
use serde::{Deserialize, Serialize};

use crate::zone::{Zone, Zones};

/// A node with the zones it owns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Peer<A> {
    /// The node.
    pub contact: Contact<A>,
    /// Its zones.
    pub zones: Zones,
}

/// A CAN message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CanMsg<A> {
    /// A joining node asks the owner of its point (its id's point) for half of the zone.
    JoinRequest,
    /// The zone handed to the joining node, and the neighbours it may have.
    JoinAccept {
        /// The new node's zone.
        zone: Zone,
        /// The old owner (with its remaining zones) and its neighbours.
        neighbours: Vec<Peer<A>>,
    },
    /// The point is no longer in the receiver's zones: look it up again.
    JoinRedirect,
    /// Uniform partitioning: a neighbour of the owner holds a larger zone; ask it with
    /// `JoinSplit` instead.
    JoinRedirectTo {
        /// The neighbour with the larger zone.
        peer: Contact<A>,
    },
    /// After `JoinRedirectTo`: "split your largest zone for me", whether or not it holds
    /// the joining node's point.
    JoinSplit,
    /// The sender's zones and neighbours: sent periodically, and at once when they change.
    Update {
        /// The sender's zones.
        zones: Zones,
        /// The sender's neighbours with their zones; empty when `unchanged`.
        neighbours: Vec<Peer<A>>,
        /// The neighbour list is the one the sender last sent (periodic updates leave it
        /// out unless it changed: with many dimensions it is most of the traffic).
        unchanged: bool,
    },
    /// The receiver's zones, in answer to `Update` and `Takeover`.
    Zones {
        /// The receiver's zones.
        zones: Zones,
    },
    /// The sender leaves gracefully. Sent to the taker (`taker` is `None`) with the zones to
    /// take over, and to the other neighbours naming the taker.
    Leaving {
        /// The leaving node's zones.
        zones: Zones,
        /// The leaving node's neighbours with their zones.
        neighbours: Vec<Peer<A>>,
        /// Who takes the zones over.
        taker: Option<Contact<A>>,
    },
    /// The sender claims the zones of the failed node `failed`.
    Takeover {
        /// The failed node.
        failed: Key,
        /// All the sender's zones, the claimed ones included.
        zones: Zones,
    },
    /// The receiver keeps zones the claim overlaps (it claimed them too and keeps them by
    /// the rule that settles two claims, or owns them): give up the claim, as far as its
    /// zones cover it.
    TakeoverReject {
        /// The rejecting node's zones.
        zones: Zones,
    },
    /// Acknowledges `Leaving`.
    Ack,
    /// "Which zones are yours?", asked of the owner a lookup ended at (answered with
    /// `Zones`).
    AskZones,
}

fn zones_ok(limits: &Limits, what: &'static str, zones: &[Zone]) -> Result<(), InvalidMessage> {
    limits.list(what, zones.len())?;
    zones.iter().try_for_each(Zone::validate)
}

fn peers_ok<A>(limits: &Limits, peers: &[Peer<A>]) -> Result<(), InvalidMessage> {
    limits.list("neighbour list", peers.len())?;
    peers
        .iter()
        .try_for_each(|p| zones_ok(limits, "neighbour's zones", &p.zones))
}

impl<A: overlay::Address> Message for CanMsg<A> {
    fn validate(&self, limits: &Limits) -> Result<(), InvalidMessage> {
        match self {
            CanMsg::JoinAccept { zone, neighbours } => {
                zone.validate()?;
                peers_ok(limits, neighbours)
            }
            CanMsg::Update {
                zones, neighbours, ..
            }
            | CanMsg::Leaving {
                zones, neighbours, ..
            } => {
                zones_ok(limits, "zone list", zones)?;
                peers_ok(limits, neighbours)
            }
            CanMsg::Zones { zones }
            | CanMsg::TakeoverReject { zones }
            | CanMsg::Takeover { zones, .. } => zones_ok(limits, "zone list", zones),
            CanMsg::JoinRequest
            | CanMsg::JoinRedirect
            | CanMsg::JoinRedirectTo { .. }
            | CanMsg::JoinSplit
            | CanMsg::Ack
            | CanMsg::AskZones => Ok(()),
        }
    }
}

/// CAN's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CanTimer<A> {
    /// Send updates to the neighbours.
    Update,
    /// Claim the zones of this failed neighbour unless a better-placed node did.
    Takeover(Key),
    /// Retry joining through this node.
    RetryJoin(Contact<A>),
}
