//! Metainfo (`.torrent`) files, BEP 3 with BEP 12's tracker tiers: read with every field
//! checked, written in canonical bencode, created from files on disk.

mod create;
mod info;
mod info_hash;

use serde::{Deserialize, Serialize};

pub use create::{CreateError, CreateOptions, create, default_piece_length};
pub use info::{FileEntry, Info, MAX_FILES, MAX_PATH_DEPTH, MAX_PIECE_LENGTH};
pub use info_hash::{BadInfoHash, InfoHash};

use info::RawInfo;

/// Largest metainfo file read.
pub const MAX_METAINFO_BYTES: usize = 64 << 20;

/// Why bytes are not a usable metainfo file.
#[derive(Debug, thiserror::Error)]
pub enum MetainfoError {
    /// Not bencode, or not the dictionaries BEP 3 describes.
    #[error("not a metainfo file: {0}")]
    Bencode(bt_bencode::Error),
    /// Well-formed, but describes no possible torrent.
    #[error("invalid metainfo: {0}")]
    Invalid(String),
}

impl From<bt_bencode::Error> for MetainfoError {
    fn from(e: bt_bencode::Error) -> Self {
        // Kept in the message, not as a source, so that a chain of causes does not print
        // the parser's words twice.
        MetainfoError::Bencode(e)
    }
}

/// A torrent: where its peers are announced and what it shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metainfo {
    /// Tracker tiers (BEP 12), first tier first; `announce` alone is one tier of one.
    pub trackers: Vec<Vec<String>>,
    /// What is shared.
    pub info: Info,
    /// SHA-1 of the info dictionary's bytes as read (or as written, when created).
    pub info_hash: InfoHash,
    /// The info dictionary's bytes: what peers exchange as metadata (BEP 9).
    pub info_bytes: Vec<u8>,
    /// Free text.
    pub comment: Option<String>,
    /// The program that made it.
    pub created_by: Option<String>,
    /// Seconds since 1970.
    pub creation_date: Option<i64>,
}

/// The outer dictionary as read; the info dictionary is kept as its raw bytes, whose hash
/// names the torrent whatever keys it holds.
#[derive(Deserialize)]
struct RawMetainfoIn {
    info: bt_bencode::ByteString,
    #[serde(default)]
    announce: Option<String>,
    #[serde(default, rename = "announce-list")]
    announce_list: Option<Vec<Vec<String>>>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, rename = "created by")]
    created_by: Option<String>,
    #[serde(default, rename = "creation date")]
    creation_date: Option<i64>,
}

#[derive(Serialize)]
struct RawMetainfoOut {
    info: bt_bencode::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    announce: Option<String>,
    #[serde(rename = "announce-list", skip_serializing_if = "Option::is_none")]
    announce_list: Option<Vec<Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(rename = "created by", skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    #[serde(rename = "creation date", skip_serializing_if = "Option::is_none")]
    creation_date: Option<i64>,
}

impl Metainfo {
    /// Reads a metainfo file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetainfoError> {
        if bytes.len() > MAX_METAINFO_BYTES {
            return Err(MetainfoError::Invalid(format!(
                "{} bytes, more than the {MAX_METAINFO_BYTES} read",
                bytes.len()
            )));
        }
        let raw: RawMetainfoIn = bt_bencode::from_slice(bytes)?;
        let info_bytes = raw.info.into_vec();
        let info = Info::from_raw(bt_bencode::from_slice::<RawInfo>(&info_bytes)?)?;
        let mut trackers: Vec<Vec<String>> = raw
            .announce_list
            .unwrap_or_default()
            .into_iter()
            .map(|tier| {
                tier.into_iter()
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|tier| !tier.is_empty())
            .collect();
        // BEP 12: with an announce-list, `announce` is ignored; it is the only tracker
        // otherwise.
        if trackers.is_empty()
            && let Some(a) = raw.announce.filter(|a| !a.is_empty())
        {
            trackers.push(vec![a]);
        }
        Ok(Metainfo {
            trackers,
            info_hash: InfoHash::of(&info_bytes),
            info_bytes,
            info,
            comment: raw.comment,
            created_by: raw.created_by,
            creation_date: raw.creation_date,
        })
    }

    /// A torrent from an info dictionary's bytes as peers hand them over (BEP 9), with
    /// the trackers of the magnet link it came from.
    pub fn from_info_bytes(
        info_bytes: Vec<u8>,
        trackers: Vec<Vec<String>>,
    ) -> Result<Self, MetainfoError> {
        let info = Info::from_raw(bt_bencode::from_slice::<RawInfo>(&info_bytes)?)?;
        Ok(Self::bare(info, info_bytes, trackers))
    }

    /// A torrent for `info`, its bytes written in canonical bencode.
    pub fn new(info: Info, trackers: Vec<Vec<String>>) -> Self {
        let info_bytes =
            bt_bencode::to_vec(&info.to_raw()).expect("an info dictionary always encodes");
        Self::bare(info, info_bytes, trackers)
    }

    /// A torrent of `info`, whose dictionary's bytes are `info_bytes`, with no free text.
    fn bare(info: Info, info_bytes: Vec<u8>, trackers: Vec<Vec<String>>) -> Self {
        Metainfo {
            trackers,
            info_hash: InfoHash::of(&info_bytes),
            info_bytes,
            info,
            comment: None,
            created_by: None,
            creation_date: None,
        }
    }

    /// The metainfo file's bytes. The info dictionary is written back as it was read, so
    /// the info-hash stays.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MetainfoError> {
        let info: bt_bencode::Value = bt_bencode::from_slice(&self.info_bytes)?;
        // A dictionary read in a non-canonical order would be re-sorted, which changes
        // its hash: refuse rather than write a different torrent.
        if InfoHash::of(&bt_bencode::to_vec(&info)?) != self.info_hash {
            return Err(MetainfoError::Invalid(
                "the info dictionary is not in canonical bencode; it cannot be rewritten".into(),
            ));
        }
        let out = RawMetainfoOut {
            info,
            announce: self.trackers.first().and_then(|t| t.first()).cloned(),
            announce_list: (self.trackers.iter().map(Vec::len).sum::<usize>() > 1)
                .then(|| self.trackers.clone()),
            comment: self.comment.clone(),
            created_by: self.created_by.clone(),
            creation_date: self.creation_date,
        };
        Ok(bt_bencode::to_vec(&out)?)
    }

    /// The magnet link of this torrent, with its name and trackers.
    pub fn magnet(&self) -> crate::Magnet {
        crate::Magnet {
            info_hash: self.info_hash,
            name: Some(self.info.name.clone()),
            trackers: self.trackers.iter().flatten().cloned().collect(),
            peers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
