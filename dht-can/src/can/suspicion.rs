//! A neighbour whose request went unanswered is suspected before it is taken for failed.
//!
//! The node reports a crash on the first timeout of any request, lookups' included. On a
//! loaded host a live neighbour's answer can be that late, and claiming its zones then
//! gives them two owners, whose settling costs updates that are themselves late: in the
//! simulator with round trips of up to 1.2 s against a 1 s timeout, zones came to cover
//! 1.5 times the space. The paper takes a neighbour for failed after a prolonged absence
//! of its updates; here a suspect is asked once more for its zones, and only a second
//! request unanswered starts the takeover. A crash costs one more timeout before its
//! zones are claimed: a full request timeout on real nodes, a few round trips in the
//! simulator, where updates are timed by round trips ([`overlay::Routing::answers_at_once`]).

use overlay::{Address, Contact, Key, RoutingOut};

use super::{Can, Pending};
use crate::messages::CanMsg;

impl<A: Address> Can<A> {
    /// A request to `peer` went unanswered: a neighbour leaves the table, so that routes
    /// go around it, and is asked for its zones.
    pub(super) fn suspect(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        let Some(gone) = self.drop_neighbour(out, &peer.id) else {
            return;
        };
        let probe = CanMsg::Update {
            zones: self.zones.clone(),
            neighbours: Vec::new(),
            unchanged: true,
        };
        let id = out.request(peer.clone(), probe);
        self.pending.insert(id, Pending::Probe);
        self.suspects.push(gone);
    }

    /// A suspect did not answer the probe either: it failed, and its zones are claimed.
    pub(super) fn probe_unanswered(&mut self, out: &mut RoutingOut<'_, Self>, to: &Contact<A>) {
        if let Some(at) = self
            .suspects
            .iter()
            .position(|n| n.peer.contact.id == to.id)
        {
            let gone = self.suspects.swap_remove(at);
            self.start_claim(out, gone);
        }
    }

    /// `id` is no longer a suspect: it was heard from, or another node claimed its zones.
    pub(super) fn clear_suspect(&mut self, id: &Key) {
        self.suspects.retain(|n| n.peer.contact.id != *id);
    }
}
