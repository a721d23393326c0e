//! The info dictionary: what the swarm shares (names, sizes, piece hashes), checked as it is
//! read so that nothing downstream sees an impossible layout or a path that leaves the
//! download folder.

use serde::{Deserialize, Serialize};

use super::MetainfoError;

/// Largest piece accepted (BEP 3 sets none; real clients stay far below this).
pub const MAX_PIECE_LENGTH: u64 = 256 << 20;
/// Most files in one torrent.
pub const MAX_FILES: usize = 1 << 20;
/// Most components in one file's path.
pub const MAX_PATH_DEPTH: usize = 64;

/// One file of a torrent: its path below the torrent's folder and its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Path components, each a plain name (no separators, no `.` or `..`).
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
}

/// A torrent's info dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    /// The file's name (one file) or the folder's (several).
    pub name: String,
    /// Bytes per piece (the last piece may be shorter).
    pub piece_length: u64,
    /// Each piece's SHA-1.
    pub pieces: Vec<[u8; 20]>,
    /// The files, in the order their bytes follow each other in the pieces. One file
    /// torrent: a single entry whose path is empty.
    pub files: Vec<FileEntry>,
    /// BEP 27: peers only from the torrent's trackers.
    pub private: bool,
}

impl Info {
    /// Whether this is a one-file torrent (its data is the file `name`).
    pub fn single_file(&self) -> bool {
        self.files.len() == 1 && self.files[0].path.is_empty()
    }

    /// Total bytes.
    pub fn total_length(&self) -> u64 {
        self.files.iter().map(|f| f.length).sum()
    }

    /// Length of piece `index`.
    pub fn piece_size(&self, index: usize) -> u64 {
        let total = self.total_length();
        let start = index as u64 * self.piece_length;
        self.piece_length.min(total.saturating_sub(start))
    }

    /// Checks and converts the dictionary as read.
    pub(super) fn from_raw(raw: RawInfo) -> Result<Self, MetainfoError> {
        let bad = |why: String| Err(MetainfoError::Invalid(why));
        check_component(&raw.name).map_err(|why| MetainfoError::Invalid(format!("name: {why}")))?;
        if raw.piece_length == 0 || raw.piece_length > MAX_PIECE_LENGTH {
            return bad(format!(
                "piece length {} is not between 1 and {MAX_PIECE_LENGTH}",
                raw.piece_length
            ));
        }
        let files = match (raw.length, raw.files) {
            (Some(length), None) => vec![FileEntry {
                path: Vec::new(),
                length,
            }],
            (None, Some(files)) => {
                if files.is_empty() || files.len() > MAX_FILES {
                    return bad(format!("{} files (1 to {MAX_FILES} allowed)", files.len()));
                }
                let mut out = Vec::with_capacity(files.len());
                for f in files {
                    if f.path.is_empty() || f.path.len() > MAX_PATH_DEPTH {
                        return bad(format!("a file path has {} components", f.path.len()));
                    }
                    for c in &f.path {
                        check_component(c).map_err(|why| {
                            MetainfoError::Invalid(format!("path {:?}: {why}", f.path.join("/")))
                        })?;
                    }
                    out.push(FileEntry {
                        path: f.path,
                        length: f.length,
                    });
                }
                out
            }
            (Some(_), Some(_)) => return bad("both `length` and `files`".into()),
            (None, None) => return bad("neither `length` nor `files`".into()),
        };
        let total = files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.length))
            .ok_or_else(|| MetainfoError::Invalid("total length overflows".into()))?;
        if total == 0 {
            return bad("the torrent has no data".into());
        }
        if raw.pieces.len() % 20 != 0 {
            return bad(format!(
                "`pieces` is {} bytes, not a multiple of 20",
                raw.pieces.len()
            ));
        }
        let expected = total.div_ceil(raw.piece_length);
        if raw.pieces.len() as u64 / 20 != expected {
            return bad(format!(
                "{} piece hashes for {total} bytes in pieces of {} (want {expected})",
                raw.pieces.len() / 20,
                raw.piece_length
            ));
        }
        let pieces = raw
            .pieces
            .chunks_exact(20)
            .map(|c| <[u8; 20]>::try_from(c).expect("chunks of 20"))
            .collect();
        Ok(Info {
            name: raw.name,
            piece_length: raw.piece_length,
            pieces,
            files,
            private: raw.private == Some(1),
        })
    }

    /// The dictionary as it is written.
    pub(super) fn to_raw(&self) -> RawInfo {
        let (length, files) = if self.single_file() {
            (Some(self.files[0].length), None)
        } else {
            let files = self
                .files
                .iter()
                .map(|f| RawFile {
                    length: f.length,
                    path: f.path.clone(),
                })
                .collect();
            (None, Some(files))
        };
        RawInfo {
            name: self.name.clone(),
            piece_length: self.piece_length,
            pieces: self.pieces.concat().into(),
            length,
            files,
            private: self.private.then_some(1),
        }
    }
}

/// Whether `c` may name a file or folder inside the download folder.
fn check_component(c: &str) -> Result<(), String> {
    if c.is_empty() || c == "." || c == ".." {
        return Err(format!("{c:?} is not a file name"));
    }
    if c.contains(['/', '\\', '\0']) {
        return Err(format!("{c:?} contains a path separator or NUL"));
    }
    if c.len() > 255 {
        return Err("a name longer than 255 bytes".into());
    }
    Ok(())
}

/// The info dictionary as bencode has it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RawInfo {
    name: String,
    #[serde(rename = "piece length")]
    piece_length: u64,
    pieces: bt_bencode::ByteString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    files: Option<Vec<RawFile>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RawFile {
    length: u64,
    path: Vec<String>,
}
