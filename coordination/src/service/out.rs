//! What a group's or a lock's algorithms ask of the service, in one list.

use overlay::NodeId;

use super::messages::Protocol;

/// One thing for the service to do after an algorithm ran.
#[derive(Debug)]
pub(super) enum Out {
    /// Send `Protocol` to a member.
    Send(NodeId, Protocol),
    /// The local holder with this ticket has its lock.
    Granted(u64),
    /// This node takes the member as the named group's leader.
    Leader(String, NodeId),
}
