//! The swarm settings a node runs with, shared by the benchmarks' libp2p baselines so that
//! both sides of a comparison stand on the same transport.

use std::time::Duration;

use libp2p::core::upgrade;
use libp2p::swarm;

/// `config` with connections closed after `idle` unused, and substreams negotiated with
/// multistream-select's 0-RTT `V1Lazy`.
///
/// Each request opens a substream offering one protocol, which the peer speaks: sending
/// the request together with the protocol's name saves the round trip of waiting for the
/// name to be confirmed first (a peer that does not speak it still refuses the stream).
pub fn swarm_settings(config: swarm::Config, idle: Duration) -> swarm::Config {
    config
        .with_idle_connection_timeout(idle)
        .with_substream_upgrade_protocol_override(upgrade::Version::V1Lazy)
}
