//! Nearby-node discovery before a join (Castro, Druschel, Hu and Rowstron, "Exploiting
//! network proximity in peer-to-peer overlay networks", 2002).
//!
//! Pastry's proximity neighbour selection assumes that a newcomer joins through a node
//! near it: the first row of its routing table comes from that node, and each later row
//! from a node further along the join route, each near the one before. Given any node
//! instead, the newcomer first looks for a near one: it asks the node for a deep row of
//! its routing table, measures the round trip to each node listed, moves to the nearest
//! and asks that one for the row above, and so on up to the top row, until the top row
//! names no nearer node. Deep rows sample the whole network (their entries share a long
//! prefix with the node asked, whatever their place); the higher rows of a node near the
//! newcomer hold nodes near both, the nearest of many candidates.

use overlay::{Contact, Key};

/// Row asked first. Below it, tables have entries only in networks of more than some
/// 65,000 nodes (with `b = 4`), where starting higher costs a little proximity.
pub(crate) const FIRST_ROW: u8 = 3;

/// Most rows asked: each costs a round trip plus one probe per entry.
const MAX_ROUNDS: usize = 8;

/// What the newcomer does once a round of discovery is over.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Next<A> {
    /// Ask `to` for row `row` of its routing table, then probe the nodes it lists.
    Ask {
        /// The nearest node found so far.
        to: Contact<A>,
        /// The row.
        row: u8,
    },
    /// Join through this node, the nearest found.
    Join(Contact<A>),
    /// No node answered: join through the bootstrap node as it is.
    GiveUp,
}

/// One discovery in progress.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Discovery<A> {
    /// The nearest node that answered, with its round-trip time in microseconds.
    nearest: Option<(Contact<A>, u32)>,
    /// The nearest when this round began.
    round_start: Option<Key>,
    /// The row this round asked for.
    row: u8,
    /// Requests of this round not yet answered or failed.
    waiting: usize,
    rounds: usize,
    /// Nodes probed already: each is measured once.
    probed: Vec<Key>,
}

impl<A: Clone> Discovery<A> {
    /// A discovery whose first round asks the bootstrap node for [`FIRST_ROW`] and probes
    /// the bootstrap node itself.
    pub(crate) fn new(bootstrap: &Key) -> Self {
        Discovery {
            nearest: None,
            round_start: None,
            row: FIRST_ROW,
            waiting: 0,
            rounds: 0,
            probed: vec![*bootstrap],
        }
    }

    /// A request of this round went out.
    pub(crate) fn sent(&mut self) {
        self.waiting += 1;
    }

    /// Whether `id` should be probed (not probed yet); marks it probed.
    pub(crate) fn should_probe(&mut self, id: &Key) -> bool {
        if self.probed.contains(id) {
            return false;
        }
        self.probed.push(*id);
        true
    }

    /// `c` answered a probe after `rtt` microseconds.
    pub(crate) fn measured(&mut self, c: &Contact<A>, rtt: u32) {
        if self.nearest.as_ref().is_none_or(|(_, best)| rtt < *best) {
            self.nearest = Some((c.clone(), rtt));
        }
    }

    /// A request of this round was answered or failed: once none is left, what to do next.
    pub(crate) fn settled(&mut self) -> Option<Next<A>> {
        self.waiting = self.waiting.saturating_sub(1);
        if self.waiting > 0 {
            return None;
        }
        self.rounds += 1;
        let Some((nearest, _)) = self.nearest.clone() else {
            return Some(Next::GiveUp);
        };
        let moved = self.round_start != Some(nearest.id);
        if (self.row == 0 && !moved) || self.rounds >= MAX_ROUNDS {
            return Some(Next::Join(nearest));
        }
        self.row = self.row.saturating_sub(1);
        self.round_start = Some(nearest.id);
        Some(Next::Ask {
            to: nearest,
            row: self.row,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u8) -> Contact<u32> {
        Contact::new(Key([id; 20]), u32::from(id))
    }

    #[test]
    fn climbs_the_rows_towards_the_nearest_node_then_joins_through_it() {
        let seed = node(1);
        let mut d = Discovery::new(&seed.id);
        // Round 1: the seed's ping and its row 3.
        d.sent();
        d.sent();
        d.measured(&seed, 900);
        assert_eq!(d.settled(), None);
        assert!(d.should_probe(&node(2).id));
        d.sent();
        assert_eq!(d.settled(), None);
        d.measured(&node(2), 300);
        assert_eq!(
            d.settled(),
            Some(Next::Ask {
                to: node(2),
                row: 2
            })
        );
        // Rows 2, 1 and 0 of node 2 name nobody nearer: the top row ends it.
        for row in [1, 0] {
            d.sent();
            assert_eq!(d.settled(), Some(Next::Ask { to: node(2), row }));
        }
        d.sent();
        assert_eq!(d.settled(), Some(Next::Join(node(2))));
    }

    #[test]
    fn a_nearer_node_in_the_top_row_is_asked_for_its_own_top_row() {
        let mut d = Discovery::new(&node(1).id);
        d.row = 0;
        d.round_start = Some(node(1).id);
        d.nearest = Some((node(1), 500));
        d.sent();
        d.measured(&node(3), 100);
        assert_eq!(
            d.settled(),
            Some(Next::Ask {
                to: node(3),
                row: 0
            })
        );
        d.sent();
        assert_eq!(d.settled(), Some(Next::Join(node(3))));
    }

    #[test]
    fn nobody_answering_gives_up() {
        let mut d = Discovery::<u32>::new(&node(1).id);
        d.sent();
        d.sent();
        assert_eq!(d.settled(), None);
        assert_eq!(d.settled(), Some(Next::GiveUp));
    }

    #[test]
    fn a_node_is_probed_once() {
        let mut d = Discovery::<u32>::new(&node(1).id);
        assert!(!d.should_probe(&node(1).id));
        assert!(d.should_probe(&node(2).id));
        assert!(!d.should_probe(&node(2).id));
    }
}
