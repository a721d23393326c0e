//! A node as other nodes know it: its id and its transport address.

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::id::NodeId;

/// What a driver uses to reach a node: an index in the simulator, a peer id over libp2p.
pub trait Address:
    Clone + Eq + Ord + Hash + Debug + Send + Sync + Serialize + DeserializeOwned + 'static
{
}

impl<T> Address for T where
    T: Clone + Eq + Ord + Hash + Debug + Send + Sync + Serialize + DeserializeOwned + 'static
{
}

/// A node's id together with the address that reaches it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Contact<A> {
    /// Position in the identifier space.
    pub id: NodeId,
    /// How the driver reaches the node.
    pub addr: A,
}

impl<A> Contact<A> {
    /// A contact from its parts.
    pub fn new(id: NodeId, addr: A) -> Self {
        Contact { id, addr }
    }
}
