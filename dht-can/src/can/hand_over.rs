//! A graceful leave's hand-over: the leaving node's zones go to one neighbour (the taker)
//! and every neighbour is told which. Two neighbours that leave at once may each name one
//! that is leaving too, which refuses; the other neighbours, told it took the zones, drop
//! it when it goes, and the zones would be nobody's: a hole no lookup gets through. So a
//! leaving node that is handed zones passes them on to its own taker, and a leaving node
//! whose taker does not answer names another.

use overlay::{Address, Contact, Key, RoutingOut};

use super::{Can, volume};
use crate::messages::{CanMsg, Peer};
use crate::zone::Zones;

/// What a leaving node is handing over, and to whom.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HandOver<A> {
    /// Its zones, and any it was handed while leaving.
    zones: Zones,
    /// Its neighbours when it left, and those of the nodes that handed it zones.
    neighbours: Vec<Peer<A>>,
    /// The neighbour named to take the zones.
    taker: Option<Contact<A>>,
    /// Neighbours that did not take them.
    refused: Vec<Key>,
}

impl<A: Address> HandOver<A> {
    pub(crate) fn new(zones: Zones, neighbours: Vec<Peer<A>>) -> Self {
        HandOver {
            zones,
            neighbours,
            taker: None,
            refused: Vec::new(),
        }
    }

    /// The taker: a neighbour whose zone merges with one of ours, else the smallest, of
    /// those that have not refused.
    fn pick_taker(&self) -> Option<Contact<A>> {
        let open = || {
            self.neighbours
                .iter()
                .filter(|p| !self.refused.contains(&p.contact.id))
        };
        let sibling = open().find(|p| {
            self.zones
                .iter()
                .any(|z| z.sibling().is_some_and(|s| p.zones.contains(&s)))
        });
        sibling
            .or_else(|| {
                open().min_by(|a, b| {
                    volume(&a.zones)
                        .partial_cmp(&volume(&b.zones))
                        .expect("volumes are finite")
                        .then_with(|| a.contact.id.cmp(&b.contact.id))
                })
            })
            .map(|p| p.contact.clone())
    }

    /// Takes in zones handed to this node, and the neighbours they came with.
    fn absorb(&mut self, me: &Key, zones: Zones, neighbours: Vec<Peer<A>>) {
        self.zones.extend(zones);
        for p in neighbours {
            let known = self.neighbours.iter().any(|n| n.contact.id == p.contact.id);
            if p.contact.id != *me && !known {
                self.neighbours.push(p);
            }
        }
    }
}

impl<A: Address> Can<A> {
    /// Names a taker among the neighbours that have not refused and tells each of them.
    pub(super) fn hand_over(&mut self, out: &mut RoutingOut<'_, Self>) {
        let Some(h) = self.handing_over.as_mut() else {
            return;
        };
        let Some(taker) = h.pick_taker() else {
            tracing::debug!(zones = h.zones.len(), "no neighbour left to take the zones");
            return;
        };
        h.taker = Some(taker.clone());
        let h = h.clone();
        let open = h
            .neighbours
            .iter()
            .filter(|p| !h.refused.contains(&p.contact.id));
        for n in open {
            let msg = CanMsg::Leaving {
                zones: h.zones.clone(),
                neighbours: h.neighbours.clone(),
                taker: (n.contact.id != taker.id).then(|| taker.clone()),
            };
            self.send(out, n.contact.clone(), msg);
        }
    }

    /// The hand-over to `to` got no answer: if it was the taker, another is named.
    pub(super) fn taker_failed(&mut self, out: &mut RoutingOut<'_, Self>, to: &Contact<A>) {
        let Some(h) = self.handing_over.as_mut() else {
            return;
        };
        if h.taker.as_ref().is_some_and(|t| t.id == to.id) {
            tracing::debug!(taker = ?to.id, "the taker did not take the zones: naming another");
            h.refused.push(to.id);
            self.hand_over(out);
        }
    }

    /// `from` handed its zones to this node, which is leaving too: they go on to this
    /// node's taker, and `true` says so. When each named the other, the smaller id names
    /// a new taker for both nodes' zones (it holds the other's, however the two hand-overs
    /// crossed), and the other refuses (`false`), so the smaller one names another.
    pub(super) fn pass_hand_over_on(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: Zones,
        neighbours: Vec<Peer<A>>,
    ) -> bool {
        let me = self.me.id;
        let Some(h) = self.handing_over.as_mut() else {
            return false;
        };
        let mutual = h.taker.as_ref().is_some_and(|t| t.id == from.id);
        tracing::debug!(from = ?from.id, mutual, "handed zones while leaving");
        if mutual && me > from.id {
            return false;
        }
        let passed: Vec<Peer<A>> = neighbours
            .iter()
            .filter(|p| p.contact.id != me)
            .cloned()
            .collect();
        h.absorb(&me, zones.clone(), neighbours);
        if mutual {
            h.refused.push(from.id);
            self.hand_over(out);
            return true;
        }
        if let Some(taker) = h.taker.clone() {
            let msg = CanMsg::Leaving {
                zones,
                neighbours: passed,
                taker: None,
            };
            self.send(out, taker, msg);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CanConfig;
    use crate::zone::Zone;
    use overlay::conformance::scratch::{Scratch, contact as node};
    use overlay::{Action, ReqId, Routing};

    /// The `q`th quarter of a two-dimensional space (0 and 1 are siblings, 2 and 3 too).
    fn quarter(q: u128) -> Zone {
        Zone::from_path(q << 126, 2)
    }

    fn peer(b: u8, q: u128) -> Peer<u32> {
        Peer {
            contact: node(b),
            zones: vec![quarter(q)].into(),
        }
    }

    fn leaving(
        b: u8,
        q: u128,
        neighbours: Vec<Peer<u32>>,
        driver: &mut Scratch<Can<u32>>,
    ) -> Can<u32> {
        let mut can = Can::from_tables(node(b), CanConfig::default(), vec![quarter(q)], neighbours);
        driver.call(|out| can.leave(out));
        can
    }

    /// The hand-overs sent so far: (to, zones, whether it names another taker).
    fn hand_overs(driver: &Scratch<Can<u32>>) -> Vec<(u32, Zones, bool)> {
        driver
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Request {
                    to,
                    msg: CanMsg::Leaving { zones, taker, .. },
                    ..
                } => Some((to.addr, zones.clone(), taker.is_some())),
                _ => None,
            })
            .collect()
    }

    fn answer(driver: &Scratch<Can<u32>>, id: ReqId) -> Option<CanMsg<u32>> {
        driver.actions.iter().find_map(|a| match a {
            Action::Respond { id: i, msg, .. } if *i == id => Some(msg.clone()),
            _ => None,
        })
    }

    fn handed(from: u8, q: u128, neighbours: Vec<Peer<u32>>) -> (Contact<u32>, CanMsg<u32>) {
        let msg = CanMsg::Leaving {
            zones: vec![quarter(q)].into(),
            neighbours,
            taker: None,
        };
        (node(from), msg)
    }

    #[test]
    fn a_taker_that_is_leaving_passes_the_zones_on_to_its_own() {
        // 20 leaves to 30; then 10 leaves and names 20, which passes 10's quarter on.
        let mut driver = Scratch::new(1);
        let mut t = leaving(20, 1, vec![peer(30, 2)], &mut driver);
        let (from, msg) = handed(10, 0, vec![peer(20, 1), peer(40, 3)]);
        driver
            .call(|out| t.on_request(out, &from, 7, msg))
            .expect("taken");
        assert!(matches!(answer(&driver, 7), Some(CanMsg::Ack)));
        let passed = hand_overs(&driver).pop().expect("passed on");
        assert_eq!(passed, (30, vec![quarter(0)].into(), false));
    }

    #[test]
    fn two_nodes_that_name_each_other_leave_both_zones_to_a_third() {
        // 10 and 20 hold sibling quarters and leave at once, each naming the other.
        let (mut d10, mut d20) = (Scratch::new(1), Scratch::new(2));
        let mut a = leaving(10, 0, vec![peer(20, 1), peer(40, 2)], &mut d10);
        let mut b = leaving(20, 1, vec![peer(10, 0), peer(40, 2)], &mut d20);
        let (from, msg) = handed(10, 0, vec![peer(20, 1), peer(40, 2)]);
        d20.call(|out| b.on_request(out, &from, 7, msg))
            .expect("answered");
        assert!(
            matches!(answer(&d20, 7), Some(CanMsg::Zones { .. })),
            "the larger id refuses"
        );
        assert_eq!(hand_overs(&d20).len(), 2, "and hands nothing more over");

        let (from, msg) = handed(20, 1, vec![peer(10, 0), peer(40, 2)]);
        d10.call(|out| a.on_request(out, &from, 8, msg))
            .expect("answered");
        assert!(matches!(answer(&d10, 8), Some(CanMsg::Ack)));
        let to_40: Vec<_> = hand_overs(&d10).into_iter().filter(|h| h.0 == 40).collect();
        let last = to_40.last().expect("a hand-over to 40");
        assert_eq!(last.1.len(), 2, "both quarters: {last:?}");
        assert!(!last.2, "40 takes them");
    }

    #[test]
    fn a_taker_that_does_not_answer_is_replaced() {
        let mut driver = Scratch::new(1);
        let mut a = leaving(10, 0, vec![peer(20, 1), peer(40, 2)], &mut driver);
        let id = driver
            .actions
            .iter()
            .find_map(|a| match a {
                Action::Request {
                    to,
                    id,
                    msg: CanMsg::Leaving { taker: None, .. },
                } if to.addr == 20 => Some(*id),
                _ => None,
            })
            .expect("20 named the taker");
        driver.call(|out| a.on_request_failed(out, &node(20), id));
        let last = hand_overs(&driver).into_iter().rfind(|h| !h.2);
        assert_eq!(last.map(|h| h.0), Some(40));
    }
}
