//! Through which node a newcomer joins while the simulator grows an overlay.

/// How [`crate::sim::Simulator::grow`] picks the node each newcomer joins through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bootstrap {
    /// A node that has joined, chosen uniformly.
    #[default]
    Random,
    /// The joined node nearest the newcomer by the router topology's delay
    /// ([`crate::sim::LatencyModel::Underlay`]; uniform on other latency models).
    ///
    /// Pastry's join assumes the newcomer knows "a nearby node" (Rowstron and Druschel
    /// 2001), and proximity neighbour selection starts from that node's rows: the
    /// locality of every table in the overlay rests on it. A deployment finds such a node
    /// by nearby-node discovery (Castro et al. 2002; Pastry's `discover_nearby`) or from
    /// its LAN. Every joined node is compared for every join, so it suits networks of
    /// thousands of nodes, not millions.
    Nearest,
}
