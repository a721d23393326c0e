//! The overlay's transport on real nodes: every message to a peer, request or answer,
//! goes as one frame on a long-lived stream of that peer's connection, as gossipsub's do,
//! instead of a stream of its own per request. Requests and answers are matched by the
//! node's own request ids and timed out by the node, so the transport only carries bytes,
//! dials peers it has no connection to, and reports frames that never left.

mod handler;

use std::collections::{HashMap, VecDeque};
use std::task::{Context, Poll, Waker};

use libp2p::core::{Endpoint, Multiaddr, transport::PortUse};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, DialError, FromSwarm, NetworkBehaviour, NotifyHandler,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{PeerId, StreamProtocol};

use crate::routing::ReqId;
use handler::{Handler, HandlerIn, HandlerOut};

/// One message as read off a stream.
#[derive(Clone, Debug)]
pub enum Frame {
    /// The message's bytes.
    Bytes(Vec<u8>),
    /// The peer announced more than the limit; the stream was dropped unread.
    Oversized,
}

/// Bytes that may wait for one peer, unsent, before more are refused: four messages of
/// the largest size a peer accepts (`max`), and at least 16 MiB.
pub(crate) fn backlog_limit(max: usize) -> usize {
    (4 * (max + handler::PREFIX)).max(16 << 20)
}

/// Why frames did not leave.
#[derive(Debug, Clone, Copy)]
pub enum Unsent {
    /// The peer could not be dialled; `here` when the cause was this host's (out of
    /// file descriptors, say), not the peer's.
    DialFailed { here: bool },
    /// The connection could not open a stream for them, or it broke first.
    StreamFailed,
    /// The peer has left more than [`backlog_limit`] unread: it is not keeping up.
    Backlog,
}

/// What the transport reports.
#[derive(Debug)]
pub enum FramesEvent {
    /// A frame from `peer`.
    Received { peer: PeerId, frame: Frame },
    /// The frames tagged `tags` that were sent to `peer` did not leave.
    Unsent {
        peer: PeerId,
        tags: Vec<ReqId>,
        why: Unsent,
    },
    /// The last connection to `peer` closed: frames written to it may not have arrived.
    Disconnected { peer: PeerId },
}

/// Frames for a peer being dialled, and their size.
#[derive(Default)]
struct Waiting {
    frames: Vec<(Option<ReqId>, Vec<u8>)>,
    bytes: usize,
}

/// Frames to and from peers over one long-lived stream per connection: the transport of
/// [`crate::net::OverlayBehaviour`], public so that other programs can speak the overlay's
/// protocol (`Frames::new(protocol_name("chord"), max)`) without hosting a node.
pub struct Frames {
    protocol: StreamProtocol,
    max: usize,
    connections: HashMap<PeerId, Vec<ConnectionId>>,
    /// Frames for peers being dialled.
    waiting: HashMap<PeerId, Waiting>,
    actions: VecDeque<ToSwarm<FramesEvent, HandlerIn>>,
    waker: Option<Waker>,
}

impl Frames {
    /// A transport speaking `protocol`, reading frames of at most `max` bytes.
    pub fn new(protocol: StreamProtocol, max: usize) -> Self {
        Frames {
            protocol,
            max,
            connections: HashMap::new(),
            waiting: HashMap::new(),
            actions: VecDeque::new(),
            waker: None,
        }
    }

    /// Sends `bytes` to `peer` (dialling `addrs` if it has no connection); `tag` names the
    /// frame in a report that it did not leave.
    pub fn send(
        &mut self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        tag: Option<ReqId>,
        bytes: Vec<u8>,
    ) {
        if let Some(&conn) = self.connections.get(&peer).and_then(|c| c.first()) {
            self.actions.push_back(ToSwarm::NotifyHandler {
                peer_id: peer,
                handler: NotifyHandler::One(conn),
                event: HandlerIn::Send { tag, bytes },
            });
        } else {
            let waiting = self.waiting.entry(peer).or_default();
            if waiting.frames.is_empty() {
                self.actions.push_back(ToSwarm::Dial {
                    opts: DialOpts::peer_id(peer).addresses(addrs).build(),
                });
            }
            if waiting.bytes + bytes.len() > backlog_limit(self.max) {
                self.actions
                    .push_back(ToSwarm::GenerateEvent(FramesEvent::Unsent {
                        peer,
                        tags: tag.into_iter().collect(),
                        why: Unsent::Backlog,
                    }));
            } else {
                waiting.bytes += bytes.len();
                waiting.frames.push((tag, bytes));
            }
        }
        if let Some(w) = &self.waker {
            w.wake_by_ref();
        }
    }

    fn connected(&mut self, peer: PeerId, conn: ConnectionId) {
        self.connections.entry(peer).or_default().push(conn);
        let waiting = self.waiting.remove(&peer).unwrap_or_default();
        for (tag, bytes) in waiting.frames {
            self.actions.push_back(ToSwarm::NotifyHandler {
                peer_id: peer,
                handler: NotifyHandler::One(conn),
                event: HandlerIn::Send { tag, bytes },
            });
        }
    }
}

impl NetworkBehaviour for Frames {
    type ConnectionHandler = Handler;
    type ToSwarm = FramesEvent;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(self.protocol.clone(), self.max))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(self.protocol.clone(), self.max))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(c) => self.connected(c.peer_id, c.connection_id),
            FromSwarm::ConnectionClosed(c) => {
                if let Some(conns) = self.connections.get_mut(&c.peer_id) {
                    conns.retain(|id| *id != c.connection_id);
                    if conns.is_empty() {
                        self.connections.remove(&c.peer_id);
                        self.actions
                            .push_back(ToSwarm::GenerateEvent(FramesEvent::Disconnected {
                                peer: c.peer_id,
                            }));
                    }
                }
            }
            // A dial not made because another is under way: that one's outcome decides.
            FromSwarm::DialFailure(f)
                if !matches!(f.error, DialError::DialPeerConditionFalse(_)) =>
            {
                let Some(peer) = f.peer_id else { return };
                if self.connections.contains_key(&peer) {
                    return;
                }
                let here = super::dial_failure::failed_here(f.error);
                let tags: Vec<ReqId> = self
                    .waiting
                    .remove(&peer)
                    .unwrap_or_default()
                    .frames
                    .into_iter()
                    .filter_map(|(t, _)| t)
                    .collect();
                self.actions
                    .push_back(ToSwarm::GenerateEvent(FramesEvent::Unsent {
                        peer,
                        tags,
                        why: Unsent::DialFailed { here },
                    }));
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        let ev = match event {
            HandlerOut::Received(frame) => FramesEvent::Received { peer, frame },
            HandlerOut::Unsent(tags, why) => FramesEvent::Unsent { peer, tags, why },
        };
        self.actions.push_back(ToSwarm::GenerateEvent(ev));
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<FramesEvent, THandlerInEvent<Self>>> {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
        match self.actions.pop_front() {
            Some(a) => Poll::Ready(a),
            None => Poll::Pending,
        }
    }
}
