//! The command line of real nodes: `p2p node`, the client commands that talk to a running
//! node through its local API, and `p2p demo`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use libp2p::Multiaddr;

use coordination::choice::{ElectionKind, MutexKind};

use crate::cli::{LookupModeArg, OverlayArg, RoutingArgs};

/// Where the local API of `p2p node` listens unless told otherwise.
pub const DEFAULT_API: &str = "127.0.0.1:4080";

/// `p2p node`.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Routing algorithm (every node of one overlay must use the same).
    #[arg(long, value_enum, default_value = "chord")]
    pub overlay: OverlayArg,
    /// Address to listen on (repeat for several).
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/4001")]
    pub listen: Vec<Multiaddr>,
    /// A node to join through, as printed by that node at start: a multiaddress ending in
    /// /p2p/<peer id>; a host name works too (/dns4/seed.example.org/tcp/4001/p2p/...,
    /// resolved at start). Repeat for fallbacks: they are tried in order and the join goes
    /// through the first one reached. Without it, the node looks for an overlay on the LAN
    /// with mDNS and starts a new one if it finds none.
    #[arg(long)]
    pub bootstrap: Vec<Multiaddr>,
    /// Do not use mDNS (no LAN discovery; without --bootstrap the node starts a new overlay).
    #[arg(long)]
    pub no_mdns: bool,
    /// Directory for the identity key and the stored records; a restart from it keeps the
    /// node's id and data. Without it both live in memory only.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where the local HTTP API listens (used by `p2p put/get/...`). On loopback it refuses
    /// requests from web pages; beyond loopback it also requires the token it keeps in
    /// --data-dir (clients give it with --token-file).
    #[arg(long, default_value = DEFAULT_API)]
    pub api: SocketAddr,
    /// Require the token on loopback too (it is kept in --data-dir as `api-token`).
    #[arg(long)]
    pub api_token: bool,
    /// Copies of each key (replication factor r).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub replication: u16,
    /// Seconds between maintenance rounds (stabilize, heartbeats, replica repair).
    #[arg(long, default_value_t = 5.0, value_parser = crate::cli::positive_seconds)]
    pub maintenance: f64,
    /// How this node's lookups (its own, and those of `p2p get`, `put`, ...) travel.
    #[arg(long, value_enum, default_value = "recursive")]
    pub lookup_mode: LookupModeArg,
    /// Seconds to wait for the join (through --bootstrap) before giving up with an error;
    /// 0 waits forever.
    #[arg(long, default_value_t = 60.0, value_parser = crate::cli::non_negative_seconds)]
    pub join_timeout: f64,
    /// Seconds to listen for peers on the LAN before starting a new overlay.
    #[arg(long, default_value_t = 3.0, value_parser = crate::cli::positive_seconds)]
    pub discovery_wait: f64,
    /// The routing algorithms' parameters.
    #[command(flatten)]
    pub routing: RoutingArgs,
    /// Coordination: groups, locks, election.
    #[command(flatten)]
    pub coordination: CoordinationArgs,
}

/// `p2p node`'s coordination options (every node of a group must choose the same
/// algorithms).
#[derive(Args, Debug, Clone)]
pub struct CoordinationArgs {
    /// A coordination group to join at start besides `default` (repeat for several).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// Mutual-exclusion algorithm of `p2p lock`: central, token-ring, lamport,
    /// ricart-agrawala or maekawa.
    #[arg(long, default_value = "central", value_parser = |s: &str| s.parse::<MutexKind>())]
    pub lock_algorithm: MutexKind,
    /// Leader election algorithm of `p2p leader`: bully or ring.
    #[arg(long, default_value = "bully", value_parser = |s: &str| s.parse::<ElectionKind>())]
    pub election: ElectionKind,
}

/// Where a running node's local API is.
#[derive(Args, Debug, Clone)]
pub struct ApiArg {
    /// The node's local API address (as given to `p2p node --api`).
    #[arg(long, env = "P2P_API", default_value = DEFAULT_API)]
    pub api: SocketAddr,
    /// The node's API token file (`api-token` in its data directory), for a node that
    /// requires one.
    #[arg(long, env = "P2P_API_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

/// `p2p put`.
#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["value", "file"])))]
pub struct PutArgs {
    /// The key's name (stored under its SHA-1).
    pub key: String,
    /// The value.
    pub value: Option<String>,
    /// Read the value from this file instead.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p get`.
#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// The key's name.
    pub key: String,
    /// Write the value to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p announce`.
#[derive(Args, Debug, Clone)]
pub struct AnnounceArgs {
    /// The set's name.
    pub key: String,
    /// The member to add (UTF-8 text, at most 1 KiB).
    pub member: String,
    /// Seconds it stays unless announced again (at most a day).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub ttl: u64,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p lookup`: a key, a node, and how the lookup travels.
#[derive(Args, Debug, Clone)]
pub struct LookupArgs {
    /// The key and the node.
    #[command(flatten)]
    pub key: KeyArgs,
    /// How the lookup travels (default: the node's --lookup-mode).
    #[arg(long, value_enum)]
    pub mode: Option<LookupModeArg>,
}

/// `p2p remove` and `p2p members`: a key and a node.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// The key's name.
    pub key: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p status`.
#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Routing algorithm.
    #[arg(long, value_enum, default_value = "chord")]
    pub overlay: OverlayArg,
    /// Nodes to start (each a real libp2p node on loopback).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(4..=256))]
    pub nodes: u16,
    /// Keys to store.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub keys: u32,
    /// Fraction of the nodes to kill without warning.
    #[arg(long, default_value_t = 0.25, value_parser = crate::cli::fraction)]
    pub kill: f64,
    /// Nodes killed at once: the kill goes in batches of this many, 3 maintenance rounds
    /// apart, so that repair restores the replicas a batch took before the next one
    /// (default: one fewer than --replication, so that no batch can take every replica
    /// of a key; a batch as large as --replication or larger can).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub kill_batch: Option<u16>,
    /// Copies of each key.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub replication: u16,
    /// Seconds between maintenance rounds.
    #[arg(long, default_value_t = 1.0, value_parser = crate::cli::positive_seconds)]
    pub maintenance: f64,
    /// How the nodes' lookups travel.
    #[arg(long, value_enum, default_value = "recursive")]
    pub lookup_mode: LookupModeArg,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// The routing algorithms' parameters.
    #[command(flatten)]
    pub routing: RoutingArgs,
}
