//! Taking over the zones of failed nodes: the paper's contest among a failed node's
//! neighbours (the smallest volume claims first, and a neighbour that hears a claim before
//! making its own gives up what the claim covers), the settling of two claims that were
//! both made (one rule on both sides, whichever way each heard of the other), and claims on
//! a region whose every neighbour failed too.
//!
//! That last case is the paper's "expanding ring search" done with the state nodes already
//! hold: every node keeps its neighbours' last listings (their neighbours with zones), so
//! the taker of a failed node knows the zones of that node's neighbours. A notice to one of
//! them that goes unanswered names a failed node that nobody may claim first-hand; the
//! taker claims it second-hand, after one more takeover delay's grace for any live
//! neighbour of it, and only the parts of it that no node it knows holds. A live neighbour
//! of it that claims it later settles with the claimant by the same rule as any two
//! claims; a whole period's grace left the region unowned, and greedy routes into it stuck,
//! for seconds after every first-hand claim was made.

use smallvec::smallvec;
use std::time::Duration;

use overlay::{Address, Contact, Key, RoutingOut};

use super::{Can, Neighbour, any_abut, volume};
use crate::messages::{CanMsg, CanTimer, Peer};
use crate::zone::{Bounds, Zone, Zones, subtract};

/// A takeover of a failed node's zones, pending or done.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Claim<A> {
    pub(super) failed: Key,
    zones: Zones,
    /// The failed node's neighbours (with their zones as last listed), who must hear the
    /// claim.
    notify: Vec<Peer<A>>,
    pub(super) claimed: bool,
    /// Made from a listing, not from the failed node's own updates: its zones may be
    /// stale, and nodes we know may hold parts of them.
    second_hand: bool,
}

/// Whether a zone of `a` overlaps a zone of `b`.
pub(super) fn overlap(a: &[Zone], b: &[Zone]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.covers(y) || y.covers(x)))
}

/// A listing's rows (one per zone, a node's rows together) as peers.
fn listed_peers<A>(rows: Vec<(Contact<A>, Zone)>) -> Vec<Peer<A>> {
    let mut peers: Vec<Peer<A>> = Vec::new();
    for (contact, zone) in rows {
        match peers.last_mut() {
            Some(p) if p.contact.id == contact.id => p.zones.push(zone),
            _ => peers.push(Peer {
                contact,
                zones: smallvec![zone],
            }),
        }
    }
    peers
}

impl<A: Address> Can<A> {
    /// A neighbour failed: arm the takeover timer, scaled by our volume against its.
    pub(super) fn start_claim(&mut self, out: &mut RoutingOut<'_, Self>, gone: Neighbour<A>) {
        let theirs = listed_peers(gone.theirs);
        self.arm_claim(out, gone.peer, theirs, Duration::ZERO, false);
    }

    /// A takeover notice to `to` went unanswered: if it was one of a failed node's
    /// neighbours that we do not know first-hand, it failed too, and its neighbours may all
    /// have failed with it. Claim it second-hand, a takeover delay later than its live
    /// neighbours (if any) would.
    pub(super) fn notice_unanswered(&mut self, out: &mut RoutingOut<'_, Self>, to: &Contact<A>) {
        let Some(at) = self.beyond.iter().position(|p| p.contact.id == to.id) else {
            return;
        };
        let peer = self.beyond.swap_remove(at);
        let known = self.is_neighbour(&to.id)
            || self.suspects.iter().any(|n| n.peer.contact.id == to.id)
            || self.claims.iter().any(|c| c.failed == to.id);
        if !self.joined || known || !self.abuts_me(&peer.zones) {
            return;
        }
        let grace = self.cfg.takeover_delay;
        self.arm_claim(out, peer, Vec::new(), grace, true);
    }

    /// A takeover notice was answered: its receiver is alive.
    pub(super) fn notice_answered(&mut self, from: &Contact<A>) {
        self.beyond.retain(|p| p.contact.id != from.id);
    }

    fn arm_claim(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        failed: Peer<A>,
        theirs: Vec<Peer<A>>,
        grace: Duration,
        second_hand: bool,
    ) {
        if self.claims.iter().any(|c| c.failed == failed.contact.id) || failed.zones.is_empty() {
            return;
        }
        let d = self.d();
        let mut notify = theirs;
        let failed_bounds: Vec<Bounds> = failed.zones.iter().map(|z| z.bounds(d)).collect();
        for n in &self.neighbours {
            let abuts = any_abut(&failed_bounds, &n.peer.zones, d);
            if abuts && !notify.iter().any(|p| p.contact.id == n.peer.contact.id) {
                notify.push(n.peer.clone());
            }
        }
        notify.retain(|p| p.contact.id != self.me.id && p.contact.id != failed.contact.id);
        let mine = volume(&self.zones);
        let ratio = (mine / volume(&failed.zones)).clamp(0.125, 8.0);
        out.timer(
            self.cfg.takeover_delay.mul_f64(ratio) + grace,
            CanTimer::Takeover(failed.contact.id),
        );
        self.claims.push(Claim {
            failed: failed.contact.id,
            zones: failed.zones,
            notify,
            claimed: false,
            second_hand,
        });
    }

    /// The zones of a second-hand claim on `failed` that neither we, a neighbour nor a
    /// node our neighbours list hold, of those not known or thought failed. The claim
    /// comes from a listing that may predate a split: the half another node holds is
    /// that node's, and if it is not our neighbour, a claim on it would give it two
    /// owners for good (it holds it uncontested, so it never yields).
    fn unheld(&self, zones: &[Zone], failed: &Key) -> Vec<Zone> {
        let gone = |id: &Key| {
            *id == *failed
                || *id == self.me.id
                || self.claims.iter().any(|c| c.failed == *id)
                || self.beyond.iter().any(|p| p.contact.id == *id)
                || self.suspects.iter().any(|n| n.peer.contact.id == *id)
        };
        let listed = self
            .neighbours
            .iter()
            .flat_map(|n| n.theirs.iter())
            .filter(|(c, _)| !gone(&c.id))
            .map(|(_, z)| z);
        let held = self
            .zones
            .iter()
            .chain(self.neighbours.iter().flat_map(|n| n.peer.zones.iter()))
            .chain(listed);
        subtract(zones, held)
    }

    pub(super) fn claim(&mut self, out: &mut RoutingOut<'_, Self>, failed: Key) {
        let Some(at) = self
            .claims
            .iter()
            .position(|c| c.failed == failed && !c.claimed)
        else {
            return;
        };
        let mut zones = self.claims[at].zones.clone();
        if self.claims[at].second_hand {
            zones = self.unheld(&zones, &failed).into();
            if zones.is_empty() {
                self.claims.swap_remove(at);
                return;
            }
        }
        let c = &mut self.claims[at];
        c.claimed = true;
        c.zones = zones.clone();
        let notify = c.notify.clone();
        self.contested.extend(zones.iter().copied());
        self.taken_from.extend(zones.iter().map(|z| (*z, failed)));
        for z in &zones {
            if !self.zones.iter().any(|m| m.covers(z)) {
                self.zones.push(*z);
            }
        }
        let msg = CanMsg::Takeover {
            failed,
            zones: self.zones.clone(),
        };
        for to in notify.iter() {
            let known = self.is_neighbour(&to.contact.id);
            if !known && !to.zones.is_empty() {
                self.beyond.push(to.clone());
            }
            self.send(out, to.contact.clone(), msg.clone());
        }
        let tell: Vec<Contact<A>> = self
            .neighbours
            .iter()
            .map(|n| n.peer.contact.clone())
            .filter(|c| !notify.iter().any(|x| x.contact.id == c.id))
            .collect();
        self.send_updates(out, tell);
    }

    /// `from` shows a zone overlapping one we took over after a crash: both of us claimed
    /// it, and at least one of us did without hearing of the other. Of two equal claims the
    /// larger id gives it up; of nested ones the coarser gives up the finer part (a listing
    /// a period stale shows a zone before its last split, never after). Both apply the same
    /// rule, whether they learn of each other by updates or by takeover notices, so exactly
    /// one owner is left (and never without a zone). If `from` must give up a zone we
    /// keep, it is told at once rather than at our next periodic update. If `from` is the
    /// node we took the zone from, it did not fail (a real network's answers can be late
    /// enough to look like a crash): it keeps what it shows, whatever the rule says, or
    /// the zone would have two owners for good, since it holds its own zone uncontested.
    pub(super) fn settle_contested(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        theirs: &[Zone],
    ) {
        self.forget_settled();
        if self.contested.is_empty() {
            return;
        }
        let mut kept = self.zones.clone();
        let (mut changed, mut rival_yields) = (false, false);
        for t in theirs {
            let mut next = Vec::with_capacity(kept.len());
            for z in kept {
                let contested = self.contested.contains(&z);
                let owner_alive = contested && self.taken_from(&z) == Some(from.id);
                if owner_alive && t.covers(&z) {
                    tracing::debug!(zone = ?z, owner = ?from.id, "a node thought failed shows its zone: it gets it back");
                    changed = true;
                    continue;
                }
                let ours_wins = z == *t && self.me.id < from.id && !owner_alive;
                if !contested || !z.covers(t) || ours_wins {
                    rival_yields |= contested && t.covers(&z);
                    next.push(z);
                    continue;
                }
                changed = true;
                let rest = z.minus(t);
                self.contested.extend(rest.iter().copied());
                next.extend(rest);
            }
            kept = next.into();
        }
        if rival_yields {
            // `from` holds a zone we keep by the rule: it gives it up once it sees ours,
            // now rather than at our next periodic update.
            self.send_updates(out, vec![from.clone()]);
        }
        if !changed || kept.is_empty() {
            return;
        }
        self.zones = kept;
        self.forget_settled();
        self.zones_changed(out, &[]);
    }

    /// Drops what we no longer hold from the contested zones and their origins.
    fn forget_settled(&mut self) {
        let zones = &self.zones;
        self.contested.retain(|z| zones.contains(z));
        let contested = &self.contested;
        self.taken_from
            .retain(|(t, _)| contested.iter().any(|z| t.covers(z)));
    }

    /// The node a contested zone of ours was taken from.
    fn taken_from(&self, zone: &Zone) -> Option<Key> {
        self.taken_from
            .iter()
            .find(|(t, _)| t.covers(zone))
            .map(|(_, owner)| *owner)
    }

    /// Another neighbour shows a zone overlapping one `from` now shows: two nodes claimed it
    /// after a crash without hearing of each other. Our listing introduces them, and they
    /// settle it between them ([`Can::settle_contested`]).
    pub(super) fn introduce_rivals(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: &[Zone],
    ) {
        // Once per update period for each: an introduction answered by more updates must
        // not start a storm while the rivals settle.
        let introduced = &self.introduced;
        if introduced.contains(&from.id) {
            return;
        }
        let mut rivals: Vec<Contact<A>> = self
            .neighbours
            .iter()
            .filter(|n| n.peer.contact.id != from.id && !introduced.contains(&n.peer.contact.id))
            .filter(|n| overlap(&n.peer.zones, zones))
            .map(|n| n.peer.contact.clone())
            .collect();
        if !rivals.is_empty() {
            rivals.push(from.clone());
            self.introduced.extend(rivals.iter().map(|c| c.id));
            self.send_updates(out, rivals);
        }
    }

    /// `from` showed its zones: a neighbour of a rival claimant is introduced to it, and
    /// it is recorded (a neighbour exactly when they abut ours).
    pub(super) fn hear_zones(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: Zones,
    ) {
        self.clear_suspect(&from.id);
        self.settle_given(out, from, &zones);
        self.introduce_rivals(out, from, &zones);
        self.note_peer(
            out,
            Peer {
                contact: from.clone(),
                zones,
            },
        );
    }

    /// Gives up a claim that a node rejected: it keeps the zones it showed.
    ///
    /// Only what the winner's zones cover is given up: claims made from listings may
    /// differ, and a part nobody else claimed must keep an owner.
    pub(super) fn yield_claim(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        failed: &Key,
        winner: &[Zone],
    ) {
        let Some(at) = self.claims.iter().position(|c| c.failed == *failed) else {
            return;
        };
        let c = self.claims.swap_remove(at);
        if !c.claimed {
            return;
        }
        let (claimed, mut kept): (Vec<Zone>, Vec<Zone>) =
            self.zones.iter().partition(|z| c.zones.contains(z));
        let rest = subtract(&claimed, winner);
        if rest == claimed {
            return;
        }
        self.contested.extend(rest.iter().copied());
        kept.extend(rest);
        self.zones = kept.into();
        self.zones_changed(out, &[]);
    }

    pub(super) fn on_takeover(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        failed: Key,
        zones: Zones,
    ) -> CanMsg<A> {
        // The sender's timer fired before ours: our pending claim keeps only what its
        // claim leaves out. Once both claims are made, the paper's comparison of volumes
        // would be a second rule beside `settle_contested`'s, and the two can each make one
        // side yield (leaving the zone to no one): claims made are settled by one rule.
        if let Some(at) = self
            .claims
            .iter()
            .position(|c| c.failed == failed && !c.claimed)
        {
            let rest = subtract(&self.claims[at].zones, &zones);
            if rest.is_empty() {
                self.claims.swap_remove(at);
            } else {
                self.claims[at].zones = rest.into();
            }
        }
        self.settle_contested(out, from, &zones);
        if self.owns_any_of(&zones) {
            return CanMsg::TakeoverReject {
                zones: self.zones.clone(),
            };
        }
        self.drop_neighbour(out, &failed);
        self.clear_suspect(&failed);
        self.hear_zones(out, from, zones);
        CanMsg::Zones {
            zones: self.zones.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CanConfig;
    use overlay::conformance::scratch::{Scratch, contact as node};

    /// The failed node whose zone two neighbours claim.
    const FAILED: Key = Key([99; 20]);

    /// A node holding `zones`, of which it claimed `taken` after `FAILED` crashed.
    fn claimant(b: u8, zones: Vec<Zone>, taken: Zone) -> Can<u32> {
        let mut can = Can::from_tables(node(b), CanConfig::default(), zones, Vec::new());
        can.contested.push(taken);
        can.taken_from.push((taken, FAILED));
        can.claims.push(Claim {
            failed: FAILED,
            zones: smallvec![taken],
            notify: Vec::new(),
            claimed: true,
            second_hand: false,
        });
        can
    }

    fn updates_sent(driver: &Scratch<Can<u32>>) -> Vec<u32> {
        driver.requested(|msg| matches!(msg, CanMsg::Update { .. }))
    }

    #[test]
    fn the_keeper_of_a_zone_claimed_twice_tells_the_other_claimant_at_once() {
        // 10 and 20 both took over the quarter `taken` after a crash; the smaller id keeps it.
        let taken = Zone::from_path(1 << 126, 2);
        let mut keeper = claimant(10, vec![Zone::from_path(0, 2), taken], taken);
        let mut driver = Scratch::<Can<u32>>::new(1);
        driver.call(|out| keeper.settle_contested(out, &node(20), &[taken]));
        assert!(keeper.zones.contains(&taken));
        assert_eq!(updates_sent(&driver), vec![20]);

        // Told so, the other gives the quarter up, and has nothing to answer.
        let mut other = claimant(20, vec![Zone::from_path(2 << 126, 2), taken], taken);
        let mut driver = Scratch::<Can<u32>>::new(1);
        driver.call(|out| other.settle_contested(out, &node(10), &[taken]));
        assert!(!other.zones.contains(&taken));
        assert!(updates_sent(&driver).is_empty());
    }

    #[test]
    fn a_node_thought_failed_that_shows_its_zone_gets_it_back() {
        // 10 took over `taken` from 99, whose answers were only late; 99 still holds it,
        // uncontested. The smaller id would keep a zone two claimants took: not this one.
        let taken = Zone::from_path(1 << 126, 2);
        let mut taker = claimant(10, vec![Zone::from_path(0, 2), taken], taken);
        let mut driver = Scratch::<Can<u32>>::new(1);
        driver.call(|out| taker.settle_contested(out, &node(99), &[taken]));
        assert_eq!(taker.zones.to_vec(), vec![Zone::from_path(0, 2)]);
        assert!(taker.contested.is_empty() && taker.taken_from.is_empty());
    }

    #[test]
    fn an_update_and_a_takeover_that_cross_leave_the_zone_to_one_claimant() {
        // 20 (the smaller zone) and 10 both claimed `taken`. 20 hears 10's update first and
        // yields it by id; 10 then hears 20's takeover, and must not yield it by volume.
        let taken = Zone::from_path(1 << 126, 2);
        let mut big = claimant(10, vec![Zone::from_path(0, 2), taken], taken);
        let small_zone = Zone::from_path(2 << 126, 4);
        let mut small = claimant(20, vec![small_zone, taken], taken);
        let (big_zones, small_zones) = (big.zones.clone(), small.zones.clone());

        let mut driver = Scratch::<Can<u32>>::new(1);
        driver.call(|out| small.settle_contested(out, &node(10), &big_zones));
        let answer = driver.call(|out| big.on_takeover(out, &node(20), FAILED, small_zones));
        assert!(matches!(answer, CanMsg::TakeoverReject { .. }));
        assert!(big.zones.contains(&taken));
        assert!(!small.zones.contains(&taken));
    }

    #[test]
    fn a_pending_claim_keeps_only_what_an_earlier_claim_leaves() {
        // 10's timer has not fired for the failed node's two zones; 20 claims one of them.
        let (claimed, left) = (Zone::from_path(1 << 126, 2), Zone::from_path(3 << 126, 2));
        let mut waiting = Can::from_tables(
            node(10),
            CanConfig::default(),
            vec![Zone::from_path(0, 2)],
            Vec::new(),
        );
        waiting.claims.push(Claim {
            failed: FAILED,
            zones: smallvec![claimed, left],
            notify: Vec::new(),
            claimed: false,
            second_hand: false,
        });
        let mut driver = Scratch::<Can<u32>>::new(1);
        let zones = smallvec![Zone::from_path(2 << 126, 2), claimed];
        let answer = driver.call(|out| waiting.on_takeover(out, &node(20), FAILED, zones));
        assert!(matches!(answer, CanMsg::Zones { .. }));
        assert_eq!(waiting.claims[0].zones.as_slice(), &[left]);
    }
}
