//! The algorithms chosen at run time (a node's flags pick them): each enum dispatches to
//! one algorithm of [`crate::mutex`] or [`crate::election`], and its messages say which
//! algorithm sent them, so that a member configured differently drops them instead of
//! misreading them.

mod election;
mod mutex;

pub use election::{AnyElection, AnyElectionMsg, ElectionKind};
pub use mutex::{AnyMutex, AnyMutexMsg, MutexKind};

/// Carries out `f` on an algorithm whose actions are of type `A`, and hands them on
/// wrapped by `wrap`.
fn relay<A, B>(f: impl FnOnce(&mut Vec<A>), wrap: impl Fn(A) -> B, out: &mut Vec<B>) {
    let mut inner = Vec::new();
    f(&mut inner);
    out.extend(inner.into_iter().map(wrap));
}
