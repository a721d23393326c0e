//! The members that left the group lately, whose late messages (sent before they crashed,
//! delivered after their departure reached this member) must not count: a request from a
//! dead member would otherwise be granted and block everyone behind it.

use std::collections::VecDeque;

use crate::view::{MemberId, View};

/// How many departed members are remembered; their messages are in flight for a moment.
const REMEMBERED: usize = 1024;

/// Recently departed members, oldest first.
#[derive(Debug)]
pub(crate) struct Gone<P>(VecDeque<P>);

impl<P: MemberId> Default for Gone<P> {
    fn default() -> Self {
        Gone(VecDeque::new())
    }
}

impl<P: MemberId> Gone<P> {
    /// Notes the change from `old` to `new`: who left, and who came back.
    pub(crate) fn update(&mut self, old: &View<P>, new: &View<P>) {
        self.0.retain(|p| !new.contains(p));
        for p in old.departed(new) {
            if self.0.len() == REMEMBERED {
                self.0.pop_front();
            }
            self.0.push_back(p);
        }
    }

    /// Whether `p` left lately.
    pub(crate) fn contains(&self, p: &P) -> bool {
        self.0.contains(p)
    }
}
