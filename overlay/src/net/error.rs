//! Errors of the libp2p driver and of the requests made through its handle.

use std::path::PathBuf;

use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};

/// Why a node could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A bootstrap address must name the peer (`/p2p/<peer id>`): the node id is derived
    /// from it.
    #[error("bootstrap address {0} does not end in /p2p/<peer id>")]
    NoPeerId(Multiaddr),
    /// Listening failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// What the transport said.
        reason: String,
    },
    /// No bootstrap address given could be resolved to an IP address.
    #[error("cannot resolve any bootstrap address: {0}")]
    Resolve(String),
    /// The transport, Noise or mDNS could not be set up.
    #[error("cannot set up libp2p: {0}")]
    Setup(String),
    /// The data directory could not be read or written.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The record database failed.
    #[error("record database: {0}")]
    Database(String),
}

/// Why a request made through a [`crate::net::NetHandle`] failed; serializable so the
/// local API can pass it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// The node has stopped (left, or its task ended).
    #[error("the node has stopped")]
    Stopped,
    /// The node has not joined an overlay yet.
    #[error("the node has not joined an overlay yet")]
    NotJoined,
    /// The overlay could not complete the operation.
    #[error("{0}")]
    Failed(String),
    /// The request was malformed (a value too large, ...).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The node cannot write records to its disk (full, most likely); writes are refused
    /// until it can, reads go on.
    #[error("the node cannot store records on its disk ({0}); writes resume once it has space")]
    Storage(String),
}
