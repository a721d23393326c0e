//! Finding neighbours missed while joining.
//!
//! A joining node learns its neighbours from the listing of the node that split for it,
//! and they learn of it from its first update. When neighbours split at the same moment,
//! each listing shows zones about to shrink: the new node asks the old owner, which no
//! longer abuts it, and the node that now holds the part next to it never hears of it.
//! In two dimensions the pair may have no neighbour in common to introduce them later,
//! and greedy routes dead-end beside the missing link: in the simulator, 128 nodes
//! joining together over 1–20 ms links left up to 14 such pairs, and up to a fifth of
//! lookups failed.
//!
//! So once a period each node checks that the zones it knows cover the faces of its own
//! ([`crate::face::uncovered_face`]), and looks up a point in the first part left
//! uncovered: its owner is asked for its zones, and the two take each other in.

use overlay::{Address, Contact, RoutingOut};

use super::{Can, MISSED_NEIGHBOUR_TAG};
use crate::face::uncovered_face;
use crate::zone::Zone;

impl<A: Address> Can<A> {
    /// Looks up a point in the first uncovered part of each of our zones' faces.
    pub(super) fn look_for_missed_neighbours(&mut self, out: &mut RoutingOut<'_, Self>) {
        let d = self.d();
        // Suspects' zones count as known: their owners are being asked already.
        let known: Vec<Zone> = self
            .zones
            .iter()
            .chain(self.neighbours.iter().flat_map(|n| &n.peer.zones))
            .chain(self.suspects.iter().flat_map(|n| &n.peer.zones))
            .copied()
            .collect();
        for zone in &self.zones {
            if let Some(gap) = uncovered_face(zone, d, &known) {
                out.lookup(gap.inner_key(), MISSED_NEIGHBOUR_TAG, None);
            }
        }
    }

    /// A lookup for an uncovered face found `owner`: asked for its zones with our listing,
    /// it takes us in if we abut, and its answer shows us its zones.
    pub(super) fn found_missed(&mut self, out: &mut RoutingOut<'_, Self>, owner: &Contact<A>) {
        if owner.id == self.me.id || self.asked_for_zones.contains(&owner.id) {
            return;
        }
        self.asked_for_zones.push(owner.id);
        self.send_updates(out, vec![owner.clone()]);
    }
}
