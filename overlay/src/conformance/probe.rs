//! `Probe`, a test application that exercises every part of the application layer: it
//! pings peers, sets and cancels timers, routes messages (optionally stopping them at a
//! chosen node or redirecting their first hop), and reports every up-call it receives.
//! The KBR conformance checks run it in the simulator; the real-node tests run it over
//! libp2p and expect the same observable results.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::{Application, CtxOf, Forward, TimerId};
use crate::contact::{Address, Contact};
use crate::error::{InvalidMessage, ProtocolError};
use crate::id::{Key, NodeId};
use crate::limits::Limits;
use crate::routing::{Message, ReqId};

/// The probe's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbeMsg {
    /// "Are you there?"
    Ping {
        /// The caller's tag.
        tag: u64,
    },
    /// The answer to `Ping`.
    Pong {
        /// The ping's tag.
        tag: u64,
    },
    /// A routed message.
    Routed {
        /// The caller's tag.
        tag: u64,
        /// The node that must stop it (`forward` answers `Stop` there).
        stop_at: Option<NodeId>,
    },
}

impl Message for ProbeMsg {
    fn validate(&self, _: &Limits) -> Result<(), InvalidMessage> {
        Ok(())
    }
}

/// What the probe is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeCommand<A> {
    /// Ping `to`; [`ProbeEvent::Pong`] or [`ProbeEvent::PingFailed`] follows.
    Ping {
        /// Tag.
        tag: u64,
        /// The peer.
        to: Contact<A>,
    },
    /// Route a message to `key`'s root.
    Route {
        /// Tag.
        tag: u64,
        /// Destination.
        key: Key,
        /// Stop it at this node.
        stop_at: Option<NodeId>,
        /// Send its first hop here instead of the overlay's choice (through `forward`
        /// at the source answering `To`).
        redirect: Option<Contact<A>>,
    },
    /// Set a timer; [`ProbeEvent::TimerFired`] follows unless it is cancelled first.
    SetTimer {
        /// Tag.
        tag: u64,
        /// Delay.
        after: Duration,
    },
    /// Cancel the timer set with `tag`.
    CancelTimer {
        /// Tag.
        tag: u64,
    },
}

/// What the probe reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeEvent {
    /// A ping was answered by `from`.
    Pong {
        /// Tag.
        tag: u64,
        /// Who answered.
        from: NodeId,
    },
    /// A ping got no answer.
    PingFailed {
        /// Tag.
        tag: u64,
    },
    /// A timer fired.
    TimerFired {
        /// Tag.
        tag: u64,
    },
    /// The `forward` up-call for a routed message at node `at`, towards `next`.
    Forwarded {
        /// Tag.
        tag: u64,
        /// This node.
        at: NodeId,
        /// The previous hop (`None` at the source).
        prev: Option<NodeId>,
        /// The next hop the overlay chose (`at` itself at the root).
        next: NodeId,
    },
    /// The `deliver` up-call at node `at`.
    Delivered {
        /// Tag.
        tag: u64,
        /// This node.
        at: NodeId,
        /// The source.
        origin: NodeId,
        /// Hops taken.
        hops: u32,
    },
    /// The `update` up-call.
    Update {
        /// The neighbour.
        node: NodeId,
        /// Entered or left.
        joined: bool,
    },
}

/// The probe's state on one node.
#[derive(Debug)]
pub struct Probe<A> {
    pings: BTreeMap<ReqId, u64>,
    timers: BTreeMap<u64, TimerId>,
    redirects: BTreeMap<u64, Contact<A>>,
}

impl<A> Default for Probe<A> {
    fn default() -> Self {
        Probe {
            pings: BTreeMap::new(),
            timers: BTreeMap::new(),
            redirects: BTreeMap::new(),
        }
    }
}

type Cx<'a, 'b, A> = &'a mut CtxOf<'b, A, Probe<A>>;

impl<A: Address> Application<A> for Probe<A> {
    type Msg = ProbeMsg;
    type Timer = u64;
    type Command = ProbeCommand<A>;
    type Event = ProbeEvent;
    const NAME: &'static str = "probe";

    fn on_command(&mut self, ctx: Cx<'_, '_, A>, cmd: ProbeCommand<A>) {
        match cmd {
            ProbeCommand::Ping { tag, to } => {
                let id = ctx.request(to, ProbeMsg::Ping { tag });
                self.pings.insert(id, tag);
            }
            ProbeCommand::Route {
                tag,
                key,
                stop_at,
                redirect,
            } => {
                if let Some(r) = redirect {
                    self.redirects.insert(tag, r);
                }
                ctx.route(key, ProbeMsg::Routed { tag, stop_at }, None);
            }
            ProbeCommand::SetTimer { tag, after } => {
                let id = ctx.set_timer(after, tag);
                self.timers.insert(tag, id);
            }
            ProbeCommand::CancelTimer { tag } => {
                if let Some(id) = self.timers.remove(&tag) {
                    ctx.cancel_timer(id);
                }
            }
        }
    }

    fn on_request(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: ProbeMsg,
    ) -> Result<(), ProtocolError> {
        match msg {
            ProbeMsg::Ping { tag } => {
                ctx.respond(from.clone(), id, ProbeMsg::Pong { tag });
                Ok(())
            }
            other => Err(ProtocolError::Unexpected(format!("{other:?} as a request"))),
        }
    }

    fn on_response(
        &mut self,
        ctx: Cx<'_, '_, A>,
        from: &Contact<A>,
        id: ReqId,
        msg: ProbeMsg,
    ) -> Result<(), ProtocolError> {
        match (self.pings.remove(&id), msg) {
            (Some(tag), ProbeMsg::Pong { tag: t }) if t == tag => {
                ctx.emit(ProbeEvent::Pong { tag, from: from.id });
                Ok(())
            }
            (_, other) => Err(ProtocolError::Unexpected(format!(
                "{other:?} does not answer a ping"
            ))),
        }
    }

    fn on_request_failed(&mut self, ctx: Cx<'_, '_, A>, _: &Contact<A>, id: ReqId, _: bool) {
        if let Some(tag) = self.pings.remove(&id) {
            ctx.emit(ProbeEvent::PingFailed { tag });
        }
    }

    fn on_timer(&mut self, ctx: Cx<'_, '_, A>, tag: u64) {
        self.timers.remove(&tag);
        ctx.emit(ProbeEvent::TimerFired { tag });
    }

    fn forward(
        &mut self,
        ctx: Cx<'_, '_, A>,
        _: &Key,
        msg: &mut ProbeMsg,
        prev: Option<&Contact<A>>,
        next: &Contact<A>,
    ) -> Forward<A> {
        let ProbeMsg::Routed { tag, stop_at } = *msg else {
            return Forward::Continue;
        };
        let at = ctx.me().id;
        ctx.emit(ProbeEvent::Forwarded {
            tag,
            at,
            prev: prev.map(|p| p.id),
            next: next.id,
        });
        if stop_at == Some(at) {
            return Forward::Stop;
        }
        match (prev, self.redirects.remove(&tag)) {
            (None, Some(to)) => Forward::To(to),
            _ => Forward::Continue,
        }
    }

    fn deliver(
        &mut self,
        ctx: Cx<'_, '_, A>,
        _: &Key,
        msg: ProbeMsg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        if let ProbeMsg::Routed { tag, .. } = msg {
            let at = ctx.me().id;
            ctx.emit(ProbeEvent::Delivered {
                tag,
                at,
                origin: origin.id,
                hops,
            });
        }
    }

    fn update(&mut self, ctx: Cx<'_, '_, A>, node: &Contact<A>, joined: bool) {
        ctx.emit(ProbeEvent::Update {
            node: node.id,
            joined,
        });
    }
}
