//! What a real node is started with.

use std::path::PathBuf;
use std::time::Duration;

use libp2p::Multiaddr;

use crate::config::NodeConfig;
use crate::dht::DhtConfig;

/// Parameters of one libp2p node hosting routing algorithm configuration `C`.
#[derive(Clone, Debug)]
pub struct NetConfig<C> {
    /// The routing algorithm's parameters.
    pub routing: C,
    /// The node's parameters (timeouts, limits).
    pub node: NodeConfig,
    /// The DHT's parameters (replication, repair).
    pub dht: DhtConfig,
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Nodes to join through (each ending in `/p2p/<peer id>`); tried in order.
    pub bootstrap: Vec<Multiaddr>,
    /// Whether to find peers on the LAN with mDNS (and join through them when no
    /// bootstrap is given).
    pub mdns: bool,
    /// How long a node without bootstrap listens for peers before starting an overlay.
    pub discovery_wait: Duration,
    /// Where the identity key and the records are kept; `None` keeps both in memory.
    pub data_dir: Option<PathBuf>,
    /// How long a connection no request has used stays open. Neighbours in the routing
    /// tables are asked every maintenance round, so this only closes connections made for a
    /// one-off exchange (a join's announcements, a probe, a lookup's far hop). Many nodes in
    /// one process (`p2p demo`) want it short: each open connection holds a file descriptor
    /// at both ends.
    pub idle_timeout: Duration,
    /// Microseconds added to the wall clock this node sees (negative: behind); 0 but in
    /// tests of clock skew.
    pub clock_offset_us: i64,
}

impl<C: Default> Default for NetConfig<C> {
    fn default() -> Self {
        NetConfig {
            routing: C::default(),
            node: NodeConfig {
                // Real networks are slower and burstier than the simulator's latency model.
                request_timeout: Duration::from_secs(3),
                ..NodeConfig::default()
            },
            dht: DhtConfig::default(),
            listen: vec!["/ip4/0.0.0.0/tcp/0".parse().expect("valid multiaddr")],
            bootstrap: Vec::new(),
            mdns: true,
            discovery_wait: Duration::from_secs(3),
            data_dir: None,
            idle_timeout: Duration::from_secs(120),
            clock_offset_us: 0,
        }
    }
}
