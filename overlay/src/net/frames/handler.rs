//! One connection's side of [`super::Frames`]: a long-lived outbound stream that carries
//! every frame this node sends the peer, and the peer's inbound streams read frame by
//! frame.
//!
//! A frame is a 4-byte big-endian length and that many bytes. Frames queued while the
//! connection task runs are written together and flushed once: the multiplexer turns each
//! flush into one packet, where a stream per message costs six (open, protocol, message,
//! close, and the same for the answer).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::core::upgrade::ReadyUpgrade;
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{ConnectionHandler, ConnectionHandlerEvent, Stream, SubstreamProtocol};

use super::{Frame, Unsent, backlog_limit};
use crate::routing::ReqId;

/// Bytes of a frame's length prefix.
pub(super) const PREFIX: usize = 4;
/// Inbound streams read at once per connection; a peer opens one, a newer replaces the
/// oldest.
const MAX_INBOUND: usize = 2;
/// How long after its last frame a connection counts as busy: the swarm's idle timeout
/// starts counting only once it is not.
const BUSY_FOR: Duration = Duration::from_millis(500);
/// Bytes a stream's read buffer keeps between frames; it grows past this only to hold a
/// larger frame, and shrinks back once that frame is out.
const READ_CHUNK: usize = 16 * 1024;
/// Frames read but not yet taken by the behaviour, past which reading pauses: a peer that
/// sends faster than the node handles is slowed by the multiplexer's flow control instead
/// of filling this host's memory.
const MAX_PENDING_EVENTS: usize = 64;

/// What the behaviour asks a connection to do.
#[derive(Debug)]
pub enum HandlerIn {
    /// Send `bytes`; `tag` names it if it is lost before it was written.
    Send { tag: Option<ReqId>, bytes: Vec<u8> },
}

/// What a connection tells the behaviour.
#[derive(Debug)]
pub enum HandlerOut {
    /// A frame from the peer.
    Received(Frame),
    /// Frames that were not written, and why.
    Unsent(Vec<ReqId>, Unsent),
}

/// The outbound stream and what waits for it.
enum Outbound {
    /// None open; one is requested when a frame is queued.
    Closed,
    /// Requested, not yet negotiated.
    Opening,
    /// Open: bytes of written frames not yet taken by the stream start at `written`.
    Open {
        stream: Stream,
        buf: Vec<u8>,
        written: usize,
        unflushed: bool,
        /// Tags of the frames in `buf`, reported lost if the stream breaks.
        tags: Vec<ReqId>,
    },
}

/// A stream's read buffer: `buf[..filled]` holds bytes read that do not make a whole
/// frame yet. It is kept between reads, so a read costs no fresh allocation or zeroing.
struct ReadBuf {
    buf: Vec<u8>,
    filled: usize,
}

impl ReadBuf {
    fn new() -> Self {
        ReadBuf {
            buf: vec![0; READ_CHUNK],
            filled: 0,
        }
    }

    /// Where the next read goes; never empty after [`ReadBuf::take_frames`].
    fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// Moves the whole frames read so far into `out` and makes room for the next read;
    /// false if the stream announced a frame over `max` bytes (reported as
    /// [`Frame::Oversized`]), whose stream is to be dropped.
    fn take_frames(&mut self, max: usize, out: &mut VecDeque<HandlerOut>) -> bool {
        let mut start = 0;
        let mut wanted = READ_CHUNK;
        while let Some(head) = self.buf[start..self.filled].get(..PREFIX) {
            let len = u32::from_be_bytes(head.try_into().expect("PREFIX bytes")) as usize;
            if len > max {
                out.push_back(HandlerOut::Received(Frame::Oversized));
                return false;
            }
            let end = start + PREFIX + len;
            if end > self.filled {
                wanted = wanted.max(PREFIX + len);
                break;
            }
            let frame = self.buf[start + PREFIX..end].to_vec();
            out.push_back(HandlerOut::Received(Frame::Bytes(frame)));
            start = end;
        }
        self.buf.copy_within(start..self.filled, 0);
        self.filled -= start;
        if self.buf.len() < wanted {
            self.buf.resize(wanted, 0);
        } else if self.buf.len() > READ_CHUNK && self.filled < READ_CHUNK {
            self.buf.truncate(READ_CHUNK);
            self.buf.shrink_to_fit();
        }
        true
    }
}

/// An inbound stream and what has been read from it.
struct Inbound {
    stream: Stream,
    read: ReadBuf,
}

impl Inbound {
    /// Reads until the stream has nothing more or `out` is full; false once the stream
    /// is to be dropped (it ended, broke, or announced a frame over `max` bytes).
    fn poll_frames(
        &mut self,
        cx: &mut Context<'_>,
        max: usize,
        out: &mut VecDeque<HandlerOut>,
    ) -> bool {
        while out.len() < MAX_PENDING_EVENTS {
            match Pin::new(&mut self.stream).poll_read(cx, self.read.spare()) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return false,
                Poll::Ready(Ok(n)) => {
                    self.read.filled += n;
                    if !self.read.take_frames(max, out) {
                        return false;
                    }
                }
                Poll::Pending => return true,
            }
        }
        true
    }
}

/// The connection handler of [`super::Frames`].
pub struct Handler {
    protocol: StreamProtocol,
    max: usize,
    queue: VecDeque<(Option<ReqId>, Vec<u8>)>,
    /// Bytes queued or buffered and not yet taken by the stream.
    backlog: usize,
    outbound: Outbound,
    inbound: Vec<Inbound>,
    events: VecDeque<HandlerOut>,
    last_frame: Instant,
    busy_timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Handler {
    pub(crate) fn new(protocol: StreamProtocol, max: usize) -> Self {
        Handler {
            protocol,
            max,
            queue: VecDeque::new(),
            backlog: 0,
            outbound: Outbound::Closed,
            inbound: Vec::new(),
            events: VecDeque::new(),
            last_frame: Instant::now(),
            busy_timer: None,
        }
    }

    fn touched(&mut self) {
        self.last_frame = Instant::now();
        let until = tokio::time::Instant::now() + BUSY_FOR;
        match &mut self.busy_timer {
            Some(t) => t.as_mut().reset(until),
            None => self.busy_timer = Some(Box::pin(tokio::time::sleep_until(until))),
        }
    }

    /// Queues a frame, unless the peer has left too much unread: then the frame is
    /// reported unsent at once.
    fn queue(&mut self, tag: Option<ReqId>, bytes: Vec<u8>) {
        let size = PREFIX + bytes.len();
        if self.backlog + size > backlog_limit(self.max) {
            self.events.push_back(HandlerOut::Unsent(
                tag.into_iter().collect(),
                Unsent::Backlog,
            ));
            return;
        }
        self.backlog += size;
        self.queue.push_back((tag, bytes));
        self.touched();
    }

    /// Moves queued frames into the stream's buffer, writes what it takes and flushes once
    /// the buffer is empty. A broken stream reports its frames lost and is dropped.
    fn poll_write(&mut self, cx: &mut Context<'_>) {
        let Outbound::Open {
            stream,
            buf,
            written,
            unflushed,
            tags,
        } = &mut self.outbound
        else {
            return;
        };
        while let Some((tag, bytes)) = self.queue.pop_front() {
            buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            buf.extend_from_slice(&bytes);
            tags.extend(tag);
        }
        let broken = loop {
            if *written < buf.len() {
                match Pin::new(&mut *stream).poll_write(cx, &buf[*written..]) {
                    Poll::Ready(Ok(n)) if n > 0 => {
                        *written += n;
                        self.backlog -= n;
                        *unflushed = true;
                        continue;
                    }
                    Poll::Ready(_) => break true,
                    Poll::Pending => break false,
                }
            }
            buf.clear();
            *written = 0;
            tags.clear();
            if *unflushed {
                match Pin::new(&mut *stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => *unflushed = false,
                    Poll::Ready(Err(_)) => break true,
                    Poll::Pending => {}
                }
            }
            break false;
        };
        if broken {
            self.backlog -= buf.len() - *written;
            let lost = std::mem::take(tags);
            if !lost.is_empty() {
                self.events
                    .push_back(HandlerOut::Unsent(lost, Unsent::StreamFailed));
            }
            self.outbound = Outbound::Closed;
        }
    }

    /// Reads what the inbound streams have, turning whole frames into events.
    fn poll_read(&mut self, cx: &mut Context<'_>) {
        let (max, before) = (self.max, self.events.len());
        let events = &mut self.events;
        self.inbound
            .retain_mut(|inbound| inbound.poll_frames(cx, max, events));
        if self.events.len() > before {
            self.touched();
        }
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = HandlerIn;
    type ToBehaviour = HandlerOut;
    type InboundProtocol = ReadyUpgrade<StreamProtocol>;
    type OutboundProtocol = ReadyUpgrade<StreamProtocol>;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, ()> {
        SubstreamProtocol::new(ReadyUpgrade::new(self.protocol.clone()), ())
    }

    fn connection_keep_alive(&self) -> bool {
        // The streams themselves do not keep the connection (they never end): frames
        // waiting or sent lately do.
        self.backlog > 0
            || matches!(self.outbound, Outbound::Opening)
            || self.last_frame.elapsed() < BUSY_FOR
    }

    fn on_behaviour_event(&mut self, event: HandlerIn) {
        match event {
            HandlerIn::Send { tag, bytes } => self.queue(tag, bytes),
        }
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: mut stream,
                ..
            }) => {
                stream.ignore_for_keep_alive();
                if self.inbound.len() >= MAX_INBOUND {
                    self.inbound.remove(0);
                }
                self.inbound.push(Inbound {
                    stream,
                    read: ReadBuf::new(),
                });
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: mut stream,
                ..
            }) => {
                stream.ignore_for_keep_alive();
                self.outbound = Outbound::Open {
                    stream,
                    buf: Vec::new(),
                    written: 0,
                    unflushed: false,
                    tags: Vec::new(),
                };
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { .. }) => {
                self.outbound = Outbound::Closed;
                self.backlog = 0;
                let lost: Vec<ReqId> = self.queue.drain(..).filter_map(|(t, _)| t).collect();
                if !lost.is_empty() {
                    self.events
                        .push_back(HandlerOut::Unsent(lost, Unsent::StreamFailed));
                }
            }
            _ => {}
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        if let Some(ev) = self.events.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(ev));
        }
        if !self.queue.is_empty() && matches!(self.outbound, Outbound::Closed) {
            self.outbound = Outbound::Opening;
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(ReadyUpgrade::new(self.protocol.clone()), ()),
            });
        }
        self.poll_write(cx);
        self.poll_read(cx);
        if let Some(ev) = self.events.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(ev));
        }
        // Wakes the connection once it is no longer busy, so that its idle timeout starts.
        if let Some(t) = &mut self.busy_timer
            && t.as_mut().poll(cx).is_ready()
        {
            self.busy_timer = None;
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(frames: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            out.extend_from_slice(&(f.len() as u32).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    /// Runs `bytes` through a read buffer in reads of at most `step` bytes.
    fn read_in_pieces(bytes: &[u8], step: usize, max: usize) -> (Vec<Frame>, bool) {
        let mut read = ReadBuf::new();
        let mut out = VecDeque::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let spare = read.spare();
            let n = rest.len().min(step).min(spare.len());
            spare[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            read.filled += n;
            if !read.take_frames(max, &mut out) {
                return (frames_of(out), false);
            }
        }
        (frames_of(out), true)
    }

    fn frames_of(out: VecDeque<HandlerOut>) -> Vec<Frame> {
        out.into_iter()
            .map(|e| match e {
                HandlerOut::Received(f) => f,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    fn bytes_of(frames: &[Frame]) -> Vec<Vec<u8>> {
        frames
            .iter()
            .map(|f| match f {
                Frame::Bytes(b) => b.clone(),
                Frame::Oversized => b"<oversized>".to_vec(),
            })
            .collect()
    }

    #[test]
    fn frames_split_across_reads_come_out_whole_and_in_order() {
        let big = vec![7u8; 3 * READ_CHUNK + 5];
        let input = framed(&[b"one", b"", &big, b"four"]);
        for step in [1, 3, 4, 5, 1000, READ_CHUNK, input.len()] {
            let (frames, alive) = read_in_pieces(&input, step, 1 << 20);
            assert!(alive);
            assert_eq!(
                bytes_of(&frames),
                vec![b"one".to_vec(), vec![], big.clone(), b"four".to_vec()],
                "pieces of {step} bytes"
            );
        }
    }

    #[test]
    fn a_frame_announced_over_the_limit_ends_the_stream_unread() {
        let input = framed(&[b"fine", &[1u8; 100], b"never read"]);
        let (frames, alive) = read_in_pieces(&input, 7, 50);
        assert!(!alive);
        assert_eq!(
            bytes_of(&frames),
            vec![b"fine".to_vec(), b"<oversized>".to_vec()]
        );
    }
}
