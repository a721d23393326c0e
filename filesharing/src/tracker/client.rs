//! The peer's side of an HTTP tracker: the announce URL a peer asks, and the answer read
//! back (compact or dictionary peer lists, IPv4 and IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bt_bencode::Value;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode};

use super::request::{AnnounceRequest, Event};

/// What a tracker answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// How long to wait before the next regular announce.
    pub interval: Duration,
    /// Peers in the swarm.
    pub peers: Vec<SocketAddr>,
}

/// Why a tracker's answer is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnounceError {
    /// The tracker refused, saying why.
    #[error("the tracker refused: {0}")]
    Failure(String),
    /// The answer is not a tracker's.
    #[error("not a tracker answer: {0}")]
    Malformed(String),
}

/// Interval used when a tracker names none, or an absurd one.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1800);

/// The URL of an announce to the tracker at `base`.
pub fn announce_url(base: &str, req: &AnnounceRequest) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{base}{sep}info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact={}",
        percent_encode(&req.info_hash.0, NON_ALPHANUMERIC),
        percent_encode(&req.peer_id, NON_ALPHANUMERIC),
        req.port,
        req.uploaded,
        req.downloaded,
        req.left,
        u8::from(req.compact),
    );
    let event = match req.event {
        Event::None => None,
        Event::Started => Some("started"),
        Event::Completed => Some("completed"),
        Event::Stopped => Some("stopped"),
    };
    if let Some(e) = event {
        url.push_str("&event=");
        url.push_str(e);
    }
    if let Some(n) = req.numwant {
        url.push_str(&format!("&numwant={n}"));
    }
    url
}

/// Reads a tracker's bencoded answer to an announce.
pub fn parse_announce_response(bytes: &[u8]) -> Result<AnnounceResponse, AnnounceError> {
    let value: Value =
        bt_bencode::from_slice(bytes).map_err(|e| AnnounceError::Malformed(e.to_string()))?;
    let dict = value
        .as_dict()
        .ok_or_else(|| AnnounceError::Malformed("not a dictionary".into()))?;
    let get = |k: &str| dict.get(k.as_bytes());
    if let Some(reason) = get("failure reason") {
        let text = reason
            .as_byte_str()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return Err(AnnounceError::Failure(text));
    }
    let interval = get("interval")
        .and_then(Value::as_u64)
        .filter(|s| (1..=86_400).contains(s))
        .map_or(DEFAULT_INTERVAL, Duration::from_secs);
    let mut peers = Vec::new();
    match get("peers") {
        Some(Value::ByteStr(b)) => {
            if b.len() % 6 != 0 {
                return Err(AnnounceError::Malformed(format!(
                    "a compact peer list of {} bytes",
                    b.len()
                )));
            }
            for c in b.chunks(6) {
                let ip = Ipv4Addr::new(c[0], c[1], c[2], c[3]);
                peers.push(SocketAddr::new(
                    IpAddr::V4(ip),
                    u16::from_be_bytes([c[4], c[5]]),
                ));
            }
        }
        Some(Value::List(list)) => {
            for p in list {
                let ip = p
                    .get("ip")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<IpAddr>().ok());
                let port = p
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok());
                if let (Some(ip), Some(port)) = (ip, port) {
                    peers.push(SocketAddr::new(ip, port));
                }
            }
        }
        None => {}
        Some(_) => {
            return Err(AnnounceError::Malformed(
                "peers is neither a string nor a list".into(),
            ));
        }
    }
    if let Some(Value::ByteStr(b)) = get("peers6") {
        for c in b.chunks_exact(18) {
            let ip: [u8; 16] = c[..16].try_into().expect("16 bytes");
            peers.push(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(ip)),
                u16::from_be_bytes([c[16], c[17]]),
            ));
        }
    }
    peers.retain(|p| p.port() != 0);
    Ok(AnnounceResponse { interval, peers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfoHash;
    use crate::tracker::{Tracker, TrackerConfig, parse_announce};

    fn request(port: u16, event: Event) -> AnnounceRequest {
        AnnounceRequest {
            info_hash: InfoHash([0xfe; 20]),
            peer_id: [port as u8; 20],
            port,
            left: 10,
            uploaded: 0,
            downloaded: 0,
            event,
            numwant: Some(20),
            compact: true,
            ip: None,
        }
    }

    /// Our announce URL is read by our tracker as sent, and its answer read back.
    #[test]
    fn announces_round_trip_through_our_tracker() {
        let mut tracker = Tracker::new(TrackerConfig::default());
        let now = Duration::ZERO;
        for port in [6881, 6882] {
            let req = request(port, Event::Started);
            let url = announce_url("http://t.example/announce", &req);
            let query = url.split_once('?').unwrap().1;
            assert_eq!(parse_announce(query).unwrap(), req);
            let from: IpAddr = "10.0.0.1".parse().unwrap();
            let answer = tracker.announce(&req, from, now);
            let got = parse_announce_response(&answer).unwrap();
            let others: Vec<u16> = got.peers.iter().map(|p| p.port()).collect();
            assert_eq!(others, if port == 6881 { vec![] } else { vec![6881] });
        }
    }

    #[test]
    fn failures_and_garbage_are_errors() {
        assert_eq!(
            parse_announce_response(b"d14:failure reason4:nopee"),
            Err(AnnounceError::Failure("nope".into()))
        );
        assert!(parse_announce_response(b"d5:peers5:abcdee").is_err());
        assert!(parse_announce_response(b"not bencode").is_err());
        let ok = parse_announce_response(b"d8:intervali60e5:peersld2:ip9:127.0.0.14:porti7eeee")
            .unwrap();
        assert_eq!(ok.peers, vec!["127.0.0.1:7".parse().unwrap()]);
        assert_eq!(ok.interval, Duration::from_secs(60));
    }
}
