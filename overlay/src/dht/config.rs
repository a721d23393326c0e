//! Parameters of the DHT.

use std::time::Duration;

/// DHT parameters.
#[derive(Clone, Debug)]
pub struct DhtConfig {
    /// Replication factor `r`: copies of each key, on `replica_set(key, r)`.
    pub replication: usize,
    /// Period of replica repair (anti-entropy with the replica set).
    pub repair_interval: Duration,
    /// Delay of the extra repair pass after the neighbour set changed.
    pub repair_after_change: Duration,
    /// How long a tombstone is kept so old replicas cannot resurrect a removed value.
    pub tombstone_ttl: Duration,
    /// How far ahead of this node's clock a version from a peer may lie. A record whose
    /// version is further in the future is refused: a peer with a clock far ahead (or a
    /// hostile one) would otherwise freeze the key, as no later write could outrank it.
    pub max_clock_ahead: Duration,
    /// A read whose lookup failed, and whose value none of the nodes this node knows near
    /// the key holds, is looked up again after this long, then after twice as long, and
    /// so on `read_retries` times: the routing tables route around nodes that just left
    /// or failed within a few maintenance rounds.
    pub read_retry_after: Duration,
    /// How many times such a read is looked up again before it fails.
    pub read_retries: u32,
    /// A read that finds nothing while this node's neighbourhood is still changing (its
    /// neighbour set changed, or it joined, less than `unsettled_after_change` ago) is
    /// looked up again, after `read_retry_after` and then twice as long, up to this many
    /// times: while the overlay converges, the reader's lookup may end at another node
    /// than the writer's did a moment before.
    pub miss_retries: u32,
    /// How long after a change of its neighbour set a node counts its neighbourhood as
    /// still changing.
    pub unsettled_after_change: Duration,
    /// A root acknowledges a write once a majority of the replica set holds it, or once
    /// every copy was answered; at the latest after this long, with the copies made so far
    /// (anti-entropy repair makes the rest).
    pub write_ack_wait: Duration,
}

impl DhtConfig {
    /// The default parameters with reads paced by the overlay's maintenance `round`: a
    /// read that misses looks again one round later, and a neighbourhood counts as
    /// changing for five rounds after each change, as long as tables take to settle.
    pub fn paced_by(round: Duration) -> Self {
        DhtConfig {
            read_retry_after: round,
            unsettled_after_change: round * 5,
            ..DhtConfig::default()
        }
    }
}

impl Default for DhtConfig {
    fn default() -> Self {
        DhtConfig {
            replication: 3,
            repair_interval: Duration::from_secs(30),
            repair_after_change: Duration::from_secs(1),
            tombstone_ttl: Duration::from_secs(24 * 3600),
            max_clock_ahead: Duration::from_secs(300),
            read_retry_after: Duration::from_secs(1),
            read_retries: 5,
            miss_retries: 2,
            unsettled_after_change: Duration::from_secs(5),
            write_ack_wait: Duration::from_millis(500),
        }
    }
}
