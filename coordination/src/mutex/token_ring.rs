//! The token ring: one token travels the members in ring order; a member enters when the
//! token reaches it while it wants the lock, and passes the token on when it leaves (1 to
//! unbounded messages per entry, 0 to N−1 before entry).
//!
//! A lost token is regenerated exactly once. Every pass is numbered (`hops`) and each member
//! remembers the last token event it saw (received, or sent to whom). When a view loses
//! members, the view's lowest member probes all others; a probed member holds any token it
//! gets until the probe ends and reports its last event. The token lives if someone holds it
//! or the newest event is a pass to a live member (it is in flight there); otherwise it died
//! with a departed member, and the prober creates the next generation. Tokens of an older
//! generation are discarded wherever they arrive.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Action, LockState, MutexAlgorithm};
use crate::view::{MemberId, View};

/// The token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Generation: grows by one at every regeneration.
    pub generation: u64,
    /// Passes since the first token.
    pub hops: u64,
}

/// The last thing a member saw happen to the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenEvent<P> {
    /// It arrived here.
    Received(Token),
    /// It left for `to`.
    Sent {
        /// The token as sent.
        token: Token,
        /// Its destination.
        to: P,
    },
}

impl<P: Copy> TokenEvent<P> {
    fn token(&self) -> Token {
        match self {
            TokenEvent::Received(t) | TokenEvent::Sent { token: t, .. } => *t,
        }
    }
}

/// The token ring's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenRingMsg<P> {
    /// The token itself.
    Token(Token),
    /// From the prober of view `epoch`: hold the token and report.
    Probe {
        /// The view the probe is for.
        epoch: u64,
    },
    /// The answer to a probe.
    Report {
        /// The probe's view.
        epoch: u64,
        /// Whether the sender holds the token.
        holding: bool,
        /// The sender's last token event.
        last: Option<TokenEvent<P>>,
    },
    /// The probe of view `epoch` ended; tokens older than `generation` are dead.
    Resume {
        /// The probe's view.
        epoch: u64,
        /// The live generation.
        generation: u64,
    },
}

/// A probe in progress at the view's lowest member.
#[derive(Debug)]
struct Probe<P> {
    epoch: u64,
    awaiting: BTreeSet<P>,
    alive: bool,
    newest: Option<TokenEvent<P>>,
}

/// The token ring at one member.
#[derive(Debug)]
pub struct TokenRing<P> {
    me: P,
    view: View<P>,
    state: LockState,
    token: Option<Token>,
    last: Option<TokenEvent<P>>,
    /// The generation below which tokens are dead.
    generation: u64,
    /// The probe this member is frozen for.
    frozen: Option<u64>,
    /// The newest view any probe was for: the token is not passed on with an older view,
    /// which may still name a member the probe knew to be gone.
    probed: u64,
    probe: Option<Probe<P>>,
}

type Out<P> = Vec<Action<P, TokenRingMsg<P>>>;

impl<P: MemberId> TokenRing<P> {
    /// Member `me` of `view`.
    pub fn new(me: P, view: View<P>) -> Self {
        TokenRing {
            me,
            view,
            state: LockState::Idle,
            token: None,
            last: None,
            generation: 1,
            frozen: None,
            probed: 0,
            probe: None,
        }
    }

    /// Whether this member holds the token now.
    pub fn holds_token(&self) -> bool {
        self.token.is_some()
    }

    /// Uses the token: enters if wanted, else passes it on (unless frozen or alone).
    fn use_token(&mut self, out: &mut Out<P>) {
        if self.frozen.is_some() || self.state == LockState::Held || self.view.epoch() < self.probed
        {
            return;
        }
        let Some(token) = self.token else {
            return;
        };
        if self.state == LockState::Wanted {
            self.state = LockState::Held;
            out.push(Action::Enter);
            return;
        }
        let Some(next) = self.view.successor(self.me).filter(|n| *n != self.me) else {
            return;
        };
        let token = Token {
            hops: token.hops + 1,
            ..token
        };
        self.token = None;
        self.last = Some(TokenEvent::Sent { token, to: next });
        out.push(Action::Send {
            to: next,
            msg: TokenRingMsg::Token(token),
        });
    }

    fn receive(&mut self, token: Token, out: &mut Out<P>) {
        if token.generation < self.generation {
            return;
        }
        self.generation = token.generation;
        self.token = Some(token);
        self.last = Some(TokenEvent::Received(token));
        self.use_token(out);
    }

    fn start_probe(&mut self, out: &mut Out<P>) {
        let epoch = self.view.epoch();
        self.frozen = Some(epoch);
        self.probed = self.probed.max(epoch);
        self.probe = Some(Probe {
            epoch,
            awaiting: self.view.others(self.me).collect(),
            alive: false,
            newest: None,
        });
        let others: Vec<P> = self.view.others(self.me).collect();
        for p in others {
            out.push(Action::Send {
                to: p,
                msg: TokenRingMsg::Probe { epoch },
            });
        }
        let (holding, last) = (self.token.is_some(), self.last);
        self.reported(self.me, epoch, holding, last, out);
    }

    fn reported(
        &mut self,
        from: P,
        epoch: u64,
        holding: bool,
        last: Option<TokenEvent<P>>,
        out: &mut Out<P>,
    ) {
        let Some(probe) = self.probe.as_mut().filter(|p| p.epoch == epoch) else {
            return;
        };
        probe.awaiting.remove(&from);
        probe.alive |= holding;
        if let Some(e) = last {
            let newer = probe.newest.is_none_or(|n| {
                let (a, b) = (e.token(), n.token());
                (a.generation, a.hops) > (b.generation, b.hops)
            });
            if newer {
                probe.newest = Some(e);
            }
        }
        if probe.awaiting.is_empty() {
            self.decide(out);
        }
    }

    fn decide(&mut self, out: &mut Out<P>) {
        let Some(probe) = self.probe.take() else {
            return;
        };
        let in_flight =
            matches!(probe.newest, Some(TokenEvent::Sent { to, .. }) if self.view.contains(&to));
        let newest = probe.newest.map(|e| e.token());
        if !probe.alive && !in_flight {
            let token = Token {
                generation: newest.map_or(1, |t| t.generation + 1),
                hops: newest.map_or(0, |t| t.hops + 1),
            };
            self.generation = token.generation;
            self.token = Some(token);
            self.last = Some(TokenEvent::Received(token));
        }
        let generation = self.generation;
        let others: Vec<P> = self.view.others(self.me).collect();
        for p in others {
            out.push(Action::Send {
                to: p,
                msg: TokenRingMsg::Resume {
                    epoch: probe.epoch,
                    generation,
                },
            });
        }
        if self.frozen == Some(probe.epoch) {
            self.frozen = None;
        }
        self.use_token(out);
    }
}

impl<P: MemberId> MutexAlgorithm<P> for TokenRing<P> {
    type Msg = TokenRingMsg<P>;

    fn name(&self) -> &'static str {
        "token-ring"
    }

    fn start(&mut self, out: &mut Out<P>) {
        // The first view's lowest member makes the first token; later joiners find it.
        if self.view.lowest() == Some(self.me) && self.last.is_none() && self.view.epoch() <= 1 {
            let token = Token {
                generation: 1,
                hops: 0,
            };
            self.token = Some(token);
            self.last = Some(TokenEvent::Received(token));
            self.use_token(out);
        }
    }

    fn request(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Idle {
            return;
        }
        self.state = LockState::Wanted;
        self.use_token(out);
    }

    fn release(&mut self, out: &mut Out<P>) {
        if self.state != LockState::Held {
            return;
        }
        self.state = LockState::Idle;
        self.use_token(out);
    }

    fn on_message(&mut self, from: P, msg: TokenRingMsg<P>, out: &mut Out<P>) {
        match msg {
            TokenRingMsg::Token(t) => self.receive(t, out),
            TokenRingMsg::Probe { epoch } => {
                if self.frozen.is_some_and(|f| f > epoch) {
                    return;
                }
                if self.probe.as_ref().is_some_and(|p| p.epoch < epoch) {
                    // A newer view's prober took over.
                    self.probe = None;
                }
                self.frozen = Some(epoch);
                self.probed = self.probed.max(epoch);
                out.push(Action::Send {
                    to: from,
                    msg: TokenRingMsg::Report {
                        epoch,
                        holding: self.token.is_some(),
                        last: self.last,
                    },
                });
            }
            TokenRingMsg::Report {
                epoch,
                holding,
                last,
            } => self.reported(from, epoch, holding, last, out),
            TokenRingMsg::Resume { epoch, generation } => {
                if self.frozen != Some(epoch) {
                    return;
                }
                self.frozen = None;
                if generation > self.generation {
                    self.generation = generation;
                }
                if self.token.is_some_and(|t| t.generation < self.generation) {
                    self.token = None;
                }
                self.use_token(out);
            }
        }
    }

    fn on_view(&mut self, view: View<P>, out: &mut Out<P>) {
        if view.epoch() <= self.view.epoch() {
            return;
        }
        let old = std::mem::replace(&mut self.view, view);
        let lost_members = old.departed(&self.view).next().is_some();
        if lost_members && self.view.lowest() == Some(self.me) {
            self.start_probe(out);
        } else if let Some(probe) = self.probe.as_mut() {
            // A view that only adds members leaves the running probe to finish.
            probe.awaiting.retain(|p| self.view.contains(p));
            if probe.awaiting.is_empty() {
                self.decide(out);
            }
        }
        // The token may have waited for this view (or for a newcomer, when alone).
        self.use_token(out);
    }

    fn state(&self) -> LockState {
        self.state
    }
}
