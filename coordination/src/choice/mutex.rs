//! A mutual-exclusion algorithm chosen at run time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::relay;
use crate::mutex::{
    Action, Central, CentralMsg, Lamport, LamportMsg, LockState, Maekawa, MaekawaMsg,
    MutexAlgorithm, RaMsg, RicartAgrawala, Sequenced, TokenRing, TokenRingMsg,
};
use crate::view::{MemberId, View};

/// Which mutual-exclusion algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutexKind {
    /// The central server ([`Central`]).
    Central,
    /// The token ring ([`TokenRing`]).
    TokenRing,
    /// Lamport's algorithm ([`Lamport`]).
    Lamport,
    /// Ricart and Agrawala ([`RicartAgrawala`]).
    RicartAgrawala,
    /// Maekawa with projective-plane or grid voting sets ([`Maekawa`]).
    Maekawa,
}

impl MutexKind {
    /// Every algorithm.
    pub const ALL: [MutexKind; 5] = [
        MutexKind::Central,
        MutexKind::TokenRing,
        MutexKind::Lamport,
        MutexKind::RicartAgrawala,
        MutexKind::Maekawa,
    ];

    /// Its short name, as flags spell it.
    pub fn name(self) -> &'static str {
        match self {
            MutexKind::Central => "central",
            MutexKind::TokenRing => "token-ring",
            MutexKind::Lamport => "lamport",
            MutexKind::RicartAgrawala => "ricart-agrawala",
            MutexKind::Maekawa => "maekawa",
        }
    }
}

impl fmt::Display for MutexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MutexKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown mutual-exclusion algorithm '{s}' (one of {})",
                    names.join(", ")
                )
            })
    }
}

/// One member's mutual-exclusion algorithm, of the kind chosen at run time.
#[derive(Debug)]
pub enum AnyMutex<P> {
    /// Central server.
    Central(Central<P>),
    /// Token ring.
    TokenRing(TokenRing<P>),
    /// Lamport.
    Lamport(Lamport<P>),
    /// Ricart–Agrawala.
    RicartAgrawala(RicartAgrawala<P>),
    /// Maekawa.
    Maekawa(Maekawa<P>),
}

/// The messages of [`AnyMutex`], tagged with their algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnyMutexMsg<P> {
    /// Central server.
    Central(Sequenced<CentralMsg>),
    /// Token ring.
    TokenRing(TokenRingMsg<P>),
    /// Lamport.
    Lamport(Sequenced<LamportMsg>),
    /// Ricart–Agrawala.
    RicartAgrawala(RaMsg),
    /// Maekawa.
    Maekawa(Sequenced<MaekawaMsg>),
}

impl<P: MemberId> AnyMutex<P> {
    /// Member `me` of `view`, running `kind`.
    pub fn new(kind: MutexKind, me: P, view: View<P>) -> Self {
        match kind {
            MutexKind::Central => AnyMutex::Central(Central::new(me, view)),
            MutexKind::TokenRing => AnyMutex::TokenRing(TokenRing::new(me, view)),
            MutexKind::Lamport => AnyMutex::Lamport(Lamport::new(me, view)),
            MutexKind::RicartAgrawala => AnyMutex::RicartAgrawala(RicartAgrawala::new(me, view)),
            MutexKind::Maekawa => AnyMutex::Maekawa(Maekawa::new(me, view)),
        }
    }
}

type Out<P> = Vec<Action<P, AnyMutexMsg<P>>>;

/// Runs `$body` on the algorithm inside `$self` (bound as `$a`), with its actions in
/// `$inner`, wrapped into `$out` with the variant's message tag.
macro_rules! each {
    ($self:expr, $a:ident, $inner:ident, $out:expr, $body:expr) => {
        match $self {
            AnyMutex::Central($a) => relay(|$inner| $body, |x| wrap(x, AnyMutexMsg::Central), $out),
            AnyMutex::TokenRing($a) => {
                relay(|$inner| $body, |x| wrap(x, AnyMutexMsg::TokenRing), $out)
            }
            AnyMutex::Lamport($a) => relay(|$inner| $body, |x| wrap(x, AnyMutexMsg::Lamport), $out),
            AnyMutex::RicartAgrawala($a) => relay(
                |$inner| $body,
                |x| wrap(x, AnyMutexMsg::RicartAgrawala),
                $out,
            ),
            AnyMutex::Maekawa($a) => relay(|$inner| $body, |x| wrap(x, AnyMutexMsg::Maekawa), $out),
        }
    };
}

fn wrap<P, M, N>(a: Action<P, M>, tag: impl Fn(M) -> N) -> Action<P, N> {
    match a {
        Action::Send { to, msg } => Action::Send { to, msg: tag(msg) },
        Action::Enter => Action::Enter,
    }
}

impl<P: MemberId + Serialize> MutexAlgorithm<P> for AnyMutex<P> {
    type Msg = AnyMutexMsg<P>;

    fn name(&self) -> &'static str {
        match self {
            AnyMutex::Central(a) => a.name(),
            AnyMutex::TokenRing(a) => a.name(),
            AnyMutex::Lamport(a) => a.name(),
            AnyMutex::RicartAgrawala(a) => a.name(),
            AnyMutex::Maekawa(a) => a.name(),
        }
    }

    fn start(&mut self, out: &mut Out<P>) {
        each!(self, a, inner, out, a.start(inner))
    }

    fn request(&mut self, out: &mut Out<P>) {
        each!(self, a, inner, out, a.request(inner))
    }

    fn release(&mut self, out: &mut Out<P>) {
        each!(self, a, inner, out, a.release(inner))
    }

    /// A message of another algorithm (a member configured differently) is dropped.
    fn on_message(&mut self, from: P, msg: AnyMutexMsg<P>, out: &mut Out<P>) {
        match (self, msg) {
            (AnyMutex::Central(a), AnyMutexMsg::Central(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyMutexMsg::Central),
                out,
            ),
            (AnyMutex::TokenRing(a), AnyMutexMsg::TokenRing(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyMutexMsg::TokenRing),
                out,
            ),
            (AnyMutex::Lamport(a), AnyMutexMsg::Lamport(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyMutexMsg::Lamport),
                out,
            ),
            (AnyMutex::RicartAgrawala(a), AnyMutexMsg::RicartAgrawala(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyMutexMsg::RicartAgrawala),
                out,
            ),
            (AnyMutex::Maekawa(a), AnyMutexMsg::Maekawa(m)) => relay(
                |i| a.on_message(from, m, i),
                |x| wrap(x, AnyMutexMsg::Maekawa),
                out,
            ),
            _ => {}
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        each!(self, a, inner, out, a.on_view(view, inner))
    }

    fn state(&self) -> LockState {
        match self {
            AnyMutex::Central(a) => a.state(),
            AnyMutex::TokenRing(a) => a.state(),
            AnyMutex::Lamport(a) => a.state(),
            AnyMutex::RicartAgrawala(a) => a.state(),
            AnyMutex::Maekawa(a) => a.state(),
        }
    }
}
