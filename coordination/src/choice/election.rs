//! An election algorithm chosen at run time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::relay;
use crate::election::{Bully, BullyMsg, ElectionAction, ElectionAlgorithm, RingElection, RingMsg};
use crate::view::{MemberId, View};

/// Which election algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElectionKind {
    /// The bully algorithm ([`Bully`]).
    Bully,
    /// Chang and Roberts' ring ([`RingElection`]).
    Ring,
}

impl ElectionKind {
    /// Every algorithm.
    pub const ALL: [ElectionKind; 2] = [ElectionKind::Bully, ElectionKind::Ring];

    /// Its short name, as flags spell it.
    pub fn name(self) -> &'static str {
        match self {
            ElectionKind::Bully => "bully",
            ElectionKind::Ring => "ring",
        }
    }
}

impl fmt::Display for ElectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ElectionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown election algorithm '{s}' (bully or ring)"))
    }
}

/// One member's election algorithm, of the kind chosen at run time.
#[derive(Debug)]
pub enum AnyElection<P> {
    /// Bully.
    Bully(Bully<P>),
    /// Ring.
    Ring(RingElection<P>),
}

/// The messages of [`AnyElection`], tagged with their algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnyElectionMsg<P> {
    /// Bully.
    Bully(BullyMsg),
    /// Ring.
    Ring(RingMsg<P>),
}

impl<P: MemberId> AnyElection<P> {
    /// Member `me` of `view`, running `kind`.
    pub fn new(kind: ElectionKind, me: P, view: View<P>) -> Self {
        match kind {
            ElectionKind::Bully => AnyElection::Bully(Bully::new(me, view)),
            ElectionKind::Ring => AnyElection::Ring(RingElection::new(me, view)),
        }
    }
}

type Out<P> = Vec<ElectionAction<P, AnyElectionMsg<P>>>;

fn wrap<P, M, N>(a: ElectionAction<P, M>, tag: impl Fn(M) -> N) -> ElectionAction<P, N> {
    match a {
        ElectionAction::Send { to, msg } => ElectionAction::Send { to, msg: tag(msg) },
        ElectionAction::Leader(p) => ElectionAction::Leader(p),
    }
}

/// Runs `$body` on the algorithm inside `$self` (bound as `$a`, its actions in `$inner`).
macro_rules! each {
    ($self:expr, $a:ident, $inner:ident, $out:expr, $body:expr) => {
        match $self {
            AnyElection::Bully($a) => {
                relay(|$inner| $body, |x| wrap(x, AnyElectionMsg::Bully), $out)
            }
            AnyElection::Ring($a) => relay(|$inner| $body, |x| wrap(x, AnyElectionMsg::Ring), $out),
        }
    };
}

impl<P: MemberId + Serialize> ElectionAlgorithm<P> for AnyElection<P> {
    type Msg = AnyElectionMsg<P>;

    fn name(&self) -> &'static str {
        match self {
            AnyElection::Bully(a) => a.name(),
            AnyElection::Ring(a) => a.name(),
        }
    }

    fn start(&mut self, out: &mut Out<P>) {
        each!(self, a, inner, out, a.start(inner))
    }

    fn elect(&mut self, out: &mut Out<P>) {
        each!(self, a, inner, out, a.elect(inner))
    }

    /// A message of the other algorithm (a member configured differently) is dropped.
    fn on_message(&mut self, from: P, msg: AnyElectionMsg<P>, out: &mut Out<P>) {
        match (self, msg) {
            (AnyElection::Bully(a), AnyElectionMsg::Bully(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyElectionMsg::Bully),
                out,
            ),
            (AnyElection::Ring(a), AnyElectionMsg::Ring(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyElectionMsg::Ring),
                out,
            ),
            _ => {}
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        each!(self, a, inner, out, a.on_view(view, inner))
    }

    fn leader(&self) -> Option<P> {
        match self {
            AnyElection::Bully(a) => a.leader(),
            AnyElection::Ring(a) => a.leader(),
        }
    }
}
