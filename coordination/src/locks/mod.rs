//! A distributed lock per group, over the overlay: every node hosting [`Locks`] joins the
//! group (through [`crate::membership`]) when it has joined the overlay, and the chosen
//! mutual-exclusion algorithm runs between the members of each view. A member that
//! crashes leaves the views within the membership's timeout, and the algorithms recover
//! what it held.

mod app;
mod messages;

pub use app::{Locks, MakeMutex};
pub use messages::{LocksCommand, LocksEvent, LocksMsg, LocksTimer};
