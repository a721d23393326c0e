//! Magnet links (BEP 9): an info-hash, and optionally a name, trackers and peers; the rest
//! of the torrent is fetched from peers.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::metainfo::InfoHash;

/// Characters escaped in a magnet link's values.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest magnet link read.
const MAX_LEN: usize = 64 << 10;

/// A parsed magnet link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Magnet {
    /// `xt=urn:btih:` (hex or base32).
    pub info_hash: InfoHash,
    /// `dn`: the display name.
    pub name: Option<String>,
    /// `tr`: trackers.
    pub trackers: Vec<String>,
    /// `x.pe`: peers as `host:port`.
    pub peers: Vec<String>,
}

/// Why a string is not a usable magnet link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MagnetError {
    /// It does not start with `magnet:?`.
    #[error("not a magnet link (it should start with \"magnet:?\")")]
    NotMagnet,
    /// No `xt=urn:btih:` parameter.
    #[error("the magnet link has no BitTorrent info-hash (xt=urn:btih:…)")]
    NoInfoHash,
    /// A parameter is malformed.
    #[error("bad magnet link: {0}")]
    Bad(String),
}

impl FromStr for Magnet {
    type Err = MagnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_LEN {
            return Err(MagnetError::Bad(format!("longer than {MAX_LEN} bytes")));
        }
        let query = s.strip_prefix("magnet:?").ok_or(MagnetError::NotMagnet)?;
        let mut info_hash = None;
        let mut m = Magnet {
            info_hash: InfoHash([0; 20]),
            name: None,
            trackers: Vec::new(),
            peers: Vec::new(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(&raw.replace('+', " "))
                .decode_utf8()
                .map_err(|_| MagnetError::Bad(format!("{key}: not UTF-8")))?
                .into_owned();
            match key {
                "xt" => {
                    // Other URNs (btmh for v2, ed2k, …) may sit beside the one we read.
                    if let Some(h) = value.strip_prefix("urn:btih:") {
                        let h = h
                            .parse::<InfoHash>()
                            .map_err(|e| MagnetError::Bad(e.to_string()))?;
                        info_hash.get_or_insert(h);
                    }
                }
                "dn" => m.name = Some(value),
                "tr" => m.trackers.push(value),
                "x.pe" => m.peers.push(value),
                _ => {}
            }
        }
        m.info_hash = info_hash.ok_or(MagnetError::NoInfoHash)?;
        Ok(m)
    }
}

impl fmt::Display for Magnet {
    /// `magnet:?xt=urn:btih:<hex>`, then `dn`, each `tr` and each `x.pe`, escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "magnet:?xt=urn:btih:{}", self.info_hash)?;
        if let Some(n) = &self.name {
            write!(f, "&dn={}", utf8_percent_encode(n, VALUE))?;
        }
        for t in &self.trackers {
            write!(f, "&tr={}", utf8_percent_encode(t, VALUE))?;
        }
        for p in &self.peers {
            write!(f, "&x.pe={}", utf8_percent_encode(p, VALUE))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    #[test]
    fn reads_hex_and_base32_links_with_their_parameters() {
        let m: Magnet = format!(
            "magnet:?xt=urn:btih:{HEX}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ft.example%3A80\
             &tr=http://t2/announce&x.pe=10.0.0.1:6881&ws=ignored"
        )
        .parse()
        .unwrap();
        assert_eq!(m.info_hash.to_string(), HEX);
        assert_eq!(m.name.as_deref(), Some("Big Buck Bunny"));
        assert_eq!(m.trackers, ["udp://t.example:80", "http://t2/announce"]);
        assert_eq!(m.peers, ["10.0.0.1:6881"]);
        let b32 = format!("magnet:?xt=urn:btih:{}", m.info_hash.to_base32());
        assert_eq!(b32.parse::<Magnet>().unwrap().info_hash, m.info_hash);
    }

    #[test]
    fn writes_links_that_read_back() {
        let m = Magnet {
            info_hash: HEX.parse().unwrap(),
            name: Some("a & b/c ü".into()),
            trackers: vec!["http://t/announce?x=1&y=2".into()],
            peers: vec!["[::1]:6881".into()],
        };
        assert_eq!(m.to_string().parse::<Magnet>(), Ok(m));
    }

    #[test]
    fn refuses_what_is_not_a_bittorrent_magnet_link() {
        assert_eq!("http://x".parse::<Magnet>(), Err(MagnetError::NotMagnet));
        assert_eq!(
            "magnet:?dn=x&xt=urn:ed2k:abc".parse::<Magnet>(),
            Err(MagnetError::NoInfoHash)
        );
        assert!(matches!(
            "magnet:?xt=urn:btih:1234".parse::<Magnet>(),
            Err(MagnetError::Bad(_))
        ));
        assert!(matches!(
            "magnet:?xt=urn:btih:%ff%fe".parse::<Magnet>(),
            Err(MagnetError::Bad(_))
        ));
    }
}
