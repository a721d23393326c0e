//! Group membership over the overlay: a named group of nodes whose members share a view
//! (who is in, in identifier order, numbered by an epoch that only grows).
//!
//! The group's key (SHA-1 of its name) has a root in the overlay, and that root keeps the
//! member list. Members route a refresh to the key every `refresh_interval`; the root adds
//! a member on its first refresh, drops one it has not heard from for `member_timeout`
//! (a crash, as the node's failure detection sees it) or that routed a leave, and sends
//! every member each new view. When the root changes (it crashed, or a node closer to the
//! key joined), the refreshes reach the new root: it collects them for a grace period and
//! then sends a view numbered above every view the members reported, so views never go
//! back. A node that finds it is no longer the root forgets the list.
//!
//! Guarantees and limits: every live member converges to the same view within a refresh
//! interval and a grace period of the last change, while the overlay routes the key to one
//! root. During a partition, or while routing disagrees on the root, each side's root
//! keeps its own view, and members take whichever arrives with the higher epoch; the views
//! agree again once routing does. The views are not virtually synchronous: a message sent
//! in one view can arrive after the next.

mod app;
mod messages;

pub use app::{Membership, MembershipTimer};
pub use messages::{MembershipCommand, MembershipConfig, MembershipEvent, MembershipMsg};
