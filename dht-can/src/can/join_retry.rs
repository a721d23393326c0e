//! Joins whose answer came too late.
//!
//! The owner of a joining node's point splits its zone when the request arrives and
//! answers with the half it gave. If that answer reaches the joiner after its request
//! timed out, the node layer drops it: the owner and its neighbours take the half for the
//! joiner's, the joiner does not know it has it, and its next attempt (a fresh lookup of
//! its point, which now leads into the half nobody serves) joins somewhere else or not at
//! all. The half is then nobody's, and greedy routes toward it end in `NoRoute`.
//!
//! So a joiner whose request went unanswered asks the same node once more before looking
//! its point up again, and an owner asked again by a node it gave a zone to answers with
//! that zone. An owner that hears a node it gave a zone to show zones without it (that node
//! joined elsewhere) takes the zone back.

use overlay::{Address, Contact, Key, RoutingOut};

use super::{Can, takeover::overlap};
use crate::messages::{CanMsg, Peer};
use crate::zone::Zone;

/// How many times a joining node asks the same node for a zone before looking its point up
/// again: a lookup would now lead into the zone it may have been given.
const MAX_ASKS: u8 = 4;

/// Zones given to joiners not yet heard to hold them, at most this many (the oldest go).
const MAX_GIVEN: usize = 16;

/// The node a joining node last asked for a zone.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct JoinAsk<A> {
    to: Contact<A>,
    /// Asked to split its largest zone (after a uniform-partitioning redirect).
    split: bool,
    /// Times asked.
    tries: u8,
}

impl<A: Address> Can<A> {
    /// Asks `to` for a zone: the one holding our point, or with `split` its largest.
    pub(super) fn ask_for_zone(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        to: Contact<A>,
        split: bool,
        tries: u8,
    ) {
        let msg = if split {
            CanMsg::JoinSplit
        } else {
            CanMsg::JoinRequest
        };
        self.join_ask = Some(JoinAsk {
            to: to.clone(),
            split,
            tries,
        });
        self.send(out, to, msg);
    }

    /// The join retry timer fired: ask the last node again, up to [`MAX_ASKS`] times, else
    /// look our point up again through `bootstrap`.
    pub(super) fn retry_join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Contact<A>) {
        if self.joined {
            return;
        }
        match self.join_ask.take() {
            Some(ask) if ask.tries < MAX_ASKS => {
                self.ask_for_zone(out, ask.to, ask.split, ask.tries + 1)
            }
            _ => out.lookup(self.me.id, super::JOIN_TAG, Some(bootstrap)),
        }
    }

    /// Forgets the node last asked: it had no zone to give.
    pub(super) fn join_refused(&mut self) {
        self.join_ask = None;
    }

    /// The zone we gave `from` when it asked before, if we have not taken it back.
    pub(super) fn given_before(&mut self, from: &Key) -> Option<Zone> {
        let at = self.given.iter().position(|(k, _)| k == from)?;
        let zone = self.given[at].1;
        if overlap(&self.zones, &[zone]) {
            self.given.remove(at);
            return None;
        }
        Some(zone)
    }

    /// Records that `to` was given `zone`.
    pub(super) fn note_given(&mut self, to: Key, zone: Zone) {
        self.given.retain(|(k, _)| *k != to);
        if self.given.len() >= MAX_GIVEN {
            self.given.remove(0);
        }
        self.given.push((to, zone));
    }

    /// `from` showed its zones: the zone we gave it is confirmed if they hold part of it,
    /// and taken back if they hold none of it (it joined elsewhere).
    pub(super) fn settle_given(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: &[Zone],
    ) {
        let Some(at) = self.given.iter().position(|(k, _)| *k == from.id) else {
            return;
        };
        let (_, zone) = self.given.remove(at);
        if zones.is_empty() || overlap(zones, &[zone]) {
            return;
        }
        tracing::debug!(?zone, joiner = ?from.id, "a joiner never took the zone it was given: taken back");
        self.add_zone(zone);
        // Our view of it still has the zone: drop it there before our neighbours hear.
        self.note_peer(
            out,
            Peer {
                contact: from.clone(),
                zones: zones.iter().copied().collect(),
            },
        );
        self.zones_changed(out, &[]);
    }

    /// The answer to a joiner that asks again for the zone it was given.
    pub(super) fn accept_again(&self, zone: Zone) -> CanMsg<A> {
        let mut neighbours = self.neighbour_peers();
        neighbours.push(self.me_as_peer());
        CanMsg::JoinAccept { zone, neighbours }
    }
}
