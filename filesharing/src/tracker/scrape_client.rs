//! The peer's side of a scrape (BEP 48): the scrape URL derived from an announce URL, and
//! the counts read back.

use bt_bencode::Value;
use percent_encoding::{NON_ALPHANUMERIC, percent_encode};

use super::client::AnnounceError;
use crate::InfoHash;

/// What a tracker counts for one torrent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScrapeCounts {
    /// Peers with the whole torrent.
    pub complete: u64,
    /// Peers still downloading.
    pub incomplete: u64,
    /// Completed downloads the tracker has seen.
    pub downloaded: u64,
}

/// The scrape URL for `hashes` at the tracker whose announce URL is `announce`, or `None`
/// when the tracker offers no scrape by BEP 48's convention (the last path segment of the
/// announce URL begins with `announce`, which `scrape` replaces).
pub fn scrape_url(announce: &str, hashes: &[InfoHash]) -> Option<String> {
    let (path, query) = match announce.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (announce, None),
    };
    let slash = path.rfind('/')?;
    let rest = path[slash + 1..].strip_prefix("announce")?;
    let mut url = format!("{}scrape{rest}", &path[..=slash]);
    let mut sep = '?';
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
        sep = '&';
    }
    for h in hashes {
        url.push(sep);
        url.push_str("info_hash=");
        url.push_str(&percent_encode(&h.0, NON_ALPHANUMERIC).to_string());
        sep = '&';
    }
    Some(url)
}

/// Reads a tracker's bencoded answer to a scrape: the counts of each torrent it lists.
pub fn parse_scrape_response(bytes: &[u8]) -> Result<Vec<(InfoHash, ScrapeCounts)>, AnnounceError> {
    let value: Value =
        bt_bencode::from_slice(bytes).map_err(|e| AnnounceError::Malformed(e.to_string()))?;
    if let Some(reason) = value.get("failure reason") {
        let text = reason
            .as_byte_str()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return Err(AnnounceError::Failure(text));
    }
    let files = value
        .get("files")
        .and_then(Value::as_dict)
        .ok_or_else(|| AnnounceError::Malformed("a scrape without files".into()))?;
    let mut out = Vec::with_capacity(files.len());
    for (hash, entry) in files {
        let hash: [u8; 20] = hash.as_slice().try_into().map_err(|_| {
            AnnounceError::Malformed(format!("an info-hash of {} bytes", hash.len()))
        })?;
        let count = |k: &str| entry.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.push((
            InfoHash(hash),
            ScrapeCounts {
                complete: count("complete"),
                incomplete: count("incomplete"),
                downloaded: count("downloaded"),
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;
    use crate::tracker::{AnnounceRequest, Event, Tracker, TrackerConfig, parse_scrape};

    #[test]
    fn scrape_urls_follow_the_announce_url() {
        let h = InfoHash([b'a'; 20]);
        let a = "a".repeat(20);
        assert_eq!(
            scrape_url("http://t.example:6969/announce", &[h]).as_deref(),
            Some(format!("http://t.example:6969/scrape?info_hash={a}").as_str())
        );
        assert_eq!(
            scrape_url("http://t.example/x/announce.php?key=1", &[h]).as_deref(),
            Some(format!("http://t.example/x/scrape.php?key=1&info_hash={a}").as_str())
        );
        assert_eq!(scrape_url("http://t.example/a", &[h]), None);
        assert_eq!(scrape_url("http://t.example/announce/x", &[h]), None);
    }

    /// A seeder announced to our tracker is counted in the scrape read back.
    #[test]
    fn counts_round_trip_through_our_tracker() {
        let hash = InfoHash([0x5a; 20]);
        let mut tracker = Tracker::new(TrackerConfig::default());
        let from: IpAddr = "10.0.0.1".parse().unwrap();
        for (port, left) in [(6881, 0), (6882, 10)] {
            let req = AnnounceRequest {
                info_hash: hash,
                peer_id: [port as u8; 20],
                port,
                left,
                uploaded: 0,
                downloaded: 0,
                event: Event::Started,
                numwant: None,
                compact: true,
                ip: None,
            };
            tracker.announce(&req, from, Duration::ZERO);
        }
        let url = scrape_url("http://t.example/announce", &[hash]).unwrap();
        let asked = parse_scrape(url.split_once('?').unwrap().1).unwrap();
        let answer = tracker.scrape(&asked, Duration::ZERO);
        let counts = parse_scrape_response(&answer).unwrap();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].0, hash);
        assert_eq!((counts[0].1.complete, counts[0].1.incomplete), (1, 1));
    }

    #[test]
    fn failures_and_garbage_are_errors() {
        assert_eq!(
            parse_scrape_response(b"d14:failure reason4:nopee"),
            Err(AnnounceError::Failure("nope".into()))
        );
        assert!(parse_scrape_response(b"de").is_err());
        assert!(parse_scrape_response(b"d5:filesd3:abcdeee").is_err());
        assert!(parse_scrape_response(b"junk").is_err());
    }
}
