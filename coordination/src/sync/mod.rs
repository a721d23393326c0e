//! Physical clock synchronisation: each algorithm is a sans-IO state machine at one member
//! that reads its own clock (the driver passes the reading in) and says by how much the
//! clock is behind; the driver's clock applies forward corrections at once and slews
//! backward ones ([`crate::clock::soft::SoftClock`]), so a clock is never set back.

mod berkeley;
mod cristian;
mod ntp;

use std::fmt::Debug;

use crate::view::{MemberId, View};

pub use berkeley::{Berkeley, BerkeleyMsg};
pub use cristian::{Cristian, CristianMsg};
pub use ntp::{Ntp, NtpMsg};

/// What a synchronisation algorithm asks of its driver.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncAction<P, M> {
    /// Send `msg` to member `to`.
    Send {
        /// Destination.
        to: P,
        /// The message.
        msg: M,
    },
    /// The local clock is `by` seconds behind the time it follows (negative: ahead), as
    /// estimated now, within `bound` seconds.
    Adjust {
        /// The correction.
        by: f64,
        /// The estimate's error bound, from the round trip it was measured over.
        bound: f64,
    },
}

/// A clock synchronisation algorithm at one member.
pub trait ClockSync<P: MemberId>: Debug + Send {
    /// Its messages.
    type Msg: Clone + Debug + Send;

    /// Short name (`berkeley`).
    fn name(&self) -> &'static str;

    /// Time to synchronise (the driver calls it once per period); `local` is the member's
    /// clock now, in seconds.
    fn sync(&mut self, local: f64, out: &mut Vec<SyncAction<P, Self::Msg>>);

    /// A message from `from`, received when the local clock read `local`.
    fn on_message(
        &mut self,
        from: P,
        msg: Self::Msg,
        local: f64,
        out: &mut Vec<SyncAction<P, Self::Msg>>,
    );

    /// The group has a new view.
    fn on_view(&mut self, view: View<P>, out: &mut Vec<SyncAction<P, Self::Msg>>) {
        let _ = (view, out);
    }
}
