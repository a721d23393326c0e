//! Reading announce and scrape requests from a URL's query string. `info_hash` and
//! `peer_id` are 20 raw bytes, percent-encoded, so the query is decoded by hand rather than
//! as UTF-8 form data.

use std::net::IpAddr;

use percent_encoding::percent_decode;

use crate::metainfo::InfoHash;

/// What a peer's announce says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The peer's self-chosen id.
    pub peer_id: [u8; 20],
    /// The port it accepts peers on.
    pub port: u16,
    /// Bytes it still needs (0: a seeder).
    pub left: u64,
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Bytes downloaded so far.
    pub downloaded: u64,
    /// Why it announces now.
    pub event: Event,
    /// How many peers it wants.
    pub numwant: Option<usize>,
    /// Whether it takes compact peer lists (BEP 23).
    pub compact: bool,
    /// The address it claims (`ip=`); used only where the tracker allows it.
    pub ip: Option<IpAddr>,
}

/// The `event` of an announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A regular announce.
    None,
    /// The first announce of a download.
    Started,
    /// The download finished.
    Completed,
    /// The peer leaves the swarm.
    Stopped,
}

/// Why a request cannot be served; the text goes back as the `failure reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A required parameter is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A parameter cannot be read.
    #[error("bad {0}")]
    Bad(&'static str),
}

/// Longest query string read.
const MAX_QUERY: usize = 8 << 10;

/// A query parameter's name and value, percent-decoded to bytes.
type Pair = (Vec<u8>, Vec<u8>);

/// The query's `key=value` pairs.
fn pairs(query: &str) -> Result<Vec<Pair>, RequestError> {
    if query.len() > MAX_QUERY {
        return Err(RequestError::Bad("query (too long)"));
    }
    Ok(query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(k.as_bytes()).collect(),
                percent_decode(v.as_bytes()).collect(),
            )
        })
        .collect())
}

fn twenty(v: &[u8], what: &'static str) -> Result<[u8; 20], RequestError> {
    <[u8; 20]>::try_from(v).map_err(|_| RequestError::Bad(what))
}

fn number<T: std::str::FromStr>(v: &[u8], what: &'static str) -> Result<T, RequestError> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(RequestError::Bad(what))
}

/// Reads an announce's query string (what follows `?`).
pub fn parse_announce(query: &str) -> Result<AnnounceRequest, RequestError> {
    let mut info_hash = None;
    let mut peer_id = None;
    let mut port = None;
    let mut r = AnnounceRequest {
        info_hash: InfoHash([0; 20]),
        peer_id: [0; 20],
        port: 0,
        left: 0,
        uploaded: 0,
        downloaded: 0,
        event: Event::None,
        numwant: None,
        compact: true,
        ip: None,
    };
    let mut left = None;
    for (k, v) in pairs(query)? {
        match k.as_slice() {
            b"info_hash" => info_hash = Some(InfoHash(twenty(&v, "info_hash")?)),
            b"peer_id" => peer_id = Some(twenty(&v, "peer_id")?),
            b"port" => port = Some(number::<u16>(&v, "port")?),
            b"left" => left = Some(number(&v, "left")?),
            b"uploaded" => r.uploaded = number(&v, "uploaded")?,
            b"downloaded" => r.downloaded = number(&v, "downloaded")?,
            b"numwant" => r.numwant = Some(number(&v, "numwant")?),
            b"compact" => r.compact = v.as_slice() != b"0",
            b"ip" => r.ip = number(&v, "ip").ok(),
            b"event" => {
                r.event = match v.as_slice() {
                    b"" | b"empty" | b"paused" => Event::None,
                    b"started" => Event::Started,
                    b"completed" => Event::Completed,
                    b"stopped" => Event::Stopped,
                    _ => return Err(RequestError::Bad("event")),
                }
            }
            _ => {}
        }
    }
    r.info_hash = info_hash.ok_or(RequestError::Missing("info_hash"))?;
    r.peer_id = peer_id.ok_or(RequestError::Missing("peer_id"))?;
    r.port = port.ok_or(RequestError::Missing("port"))?;
    if r.port == 0 {
        return Err(RequestError::Bad("port"));
    }
    // Some clients leave `left` out of a stopped announce.
    r.left = left.unwrap_or(0);
    Ok(r)
}

/// Reads a scrape's query string: the info-hashes asked about (none: every torrent).
pub fn parse_scrape(query: &str) -> Result<Vec<InfoHash>, RequestError> {
    pairs(query)?
        .into_iter()
        .filter(|(k, _)| k.as_slice() == b"info_hash")
        .map(|(_, v)| twenty(&v, "info_hash").map(InfoHash))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_clients_announce() {
        // As Transmission 3.00 sends it (raw bytes percent-encoded, others literal).
        let q = "info_hash=%c1%2f%e1%c0k%ba%25J%9d%c9%f5%19%b35%aa%7c%13g%a8%8a\
                 &peer_id=-TR3000-abcdefghijkl&port=51413&uploaded=0&downloaded=0\
                 &left=1000&numwant=80&key=1a2b&compact=1&supportcrypto=1&event=started";
        let r = parse_announce(q).unwrap();
        assert_eq!(
            r.info_hash.to_string(),
            "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
        );
        assert_eq!(&r.peer_id, b"-TR3000-abcdefghijkl");
        assert_eq!((r.port, r.left, r.numwant), (51413, 1000, Some(80)));
        assert_eq!(r.event, Event::Started);
        assert!(r.compact);
    }

    #[test]
    fn bad_announces_say_what_is_wrong() {
        let ok = "info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=0";
        assert!(parse_announce(ok).is_ok());
        let cases = [
            (
                "peer_id=bbbbbbbbbbbbbbbbbbbb&port=1",
                RequestError::Missing("info_hash"),
            ),
            (
                "info_hash=short&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1",
                RequestError::Bad("info_hash"),
            ),
            (&ok.replace("port=1", "port=0"), RequestError::Bad("port")),
            (
                &ok.replace("port=1", "port=70000"),
                RequestError::Bad("port"),
            ),
            (&ok.replace("left=0", "left=-1"), RequestError::Bad("left")),
            (&format!("{ok}&event=exploded"), RequestError::Bad("event")),
        ];
        for (q, want) in cases {
            assert_eq!(parse_announce(q), Err(want), "{q}");
        }
        assert_eq!(
            parse_scrape("info_hash=aaaaaaaaaaaaaaaaaaaa")
                .unwrap()
                .len(),
            1
        );
        assert!(parse_scrape("info_hash=a").is_err());
    }
}
