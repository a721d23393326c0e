//! Framing of the overlay protocol: one message per stream, read up to the size limit.
//!
//! Decoding happens in [`crate::net::OverlayBehaviour`], not here: a message libp2p's codec fails to read is
//! dropped inside libp2p without a word, while the behaviour must answer every bad message
//! with an error for its peer (logged and counted).

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;

/// One message as read off a stream.
#[derive(Clone, Debug)]
pub enum Frame {
    /// The message's bytes.
    Bytes(Vec<u8>),
    /// The peer sent more than the limit; the rest was not read.
    Oversized,
}

/// Reads and writes [`Frame`]s of at most `max` bytes.
#[derive(Clone, Debug)]
pub struct FrameCodec {
    /// Largest message read, in bytes.
    pub max: u64,
}

impl FrameCodec {
    async fn read<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Frame> {
        let mut buf = Vec::new();
        io.take(self.max + 1).read_to_end(&mut buf).await?;
        if buf.len() as u64 > self.max {
            return Ok(Frame::Oversized);
        }
        Ok(Frame::Bytes(buf))
    }

    async fn write<T: AsyncWrite + Unpin + Send>(
        &self,
        io: &mut T,
        frame: Frame,
    ) -> io::Result<()> {
        if let Frame::Bytes(bytes) = frame {
            io.write_all(&bytes).await?;
        }
        io.close().await
    }
}

impl Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Frame;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        // A peer that will not answer closes the stream: that is a failed request (handled
        // like a timeout), not a malformed message.
        match self.read(io).await? {
            Frame::Bytes(b) if b.is_empty() => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the stream without answering",
            )),
            frame => Ok(frame),
        }
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Frame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Frame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, res).await
    }
}
