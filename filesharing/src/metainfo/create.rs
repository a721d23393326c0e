//! Making a torrent from a file or a folder on disk: its files in a fixed order, their
//! bytes cut into pieces across file boundaries, each piece hashed.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{FileEntry, Info, MAX_FILES, MAX_PIECE_LENGTH, Metainfo};

/// How to make a torrent.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Trackers, each its own tier, the first also as `announce`.
    pub trackers: Vec<String>,
    /// Bytes per piece; [`default_piece_length`] if `None`.
    pub piece_length: Option<u64>,
    /// BEP 27's private flag.
    pub private: bool,
    /// Free text.
    pub comment: Option<String>,
    /// The program that makes it.
    pub created_by: Option<String>,
    /// Seconds since 1970.
    pub creation_date: Option<i64>,
}

/// Why a torrent could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Reading the files failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// The files cannot be shared as they are.
    #[error("{0}")]
    Unshareable(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CreateError + '_ {
    move |error| CreateError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A piece length for `total` bytes: a power of two giving about 1,500 pieces, from
/// 16 KiB to 16 MiB.
pub fn default_piece_length(total: u64) -> u64 {
    (total / 1500)
        .max(1)
        .next_power_of_two()
        .clamp(16 << 10, 16 << 20)
}

/// Makes the torrent of `path` (a file, or a folder and everything below it), calling
/// `progress` with the bytes hashed so far and the total. Symbolic links are refused, not followed, so
/// that a torrent never holds what lies outside `path`.
pub fn create(
    path: &Path,
    opts: &CreateOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Metainfo, CreateError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            CreateError::Unshareable(format!("{}: no file name in UTF-8", path.display()))
        })?
        .to_string();
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    let (files, disk): (Vec<FileEntry>, Vec<PathBuf>) = if meta.is_file() {
        let entry = FileEntry {
            path: Vec::new(),
            length: meta.len(),
        };
        (vec![entry], vec![path.to_path_buf()])
    } else if meta.is_dir() {
        let mut found = Vec::new();
        walk(path, &mut Vec::new(), &mut found)?;
        found.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        found.into_iter().unzip()
    } else {
        return Err(CreateError::Unshareable(format!(
            "{}: not a regular file or a folder",
            path.display()
        )));
    };
    let total: u64 = files.iter().map(|f| f.length).sum();
    if total == 0 {
        return Err(CreateError::Unshareable(format!(
            "{}: nothing to share (no bytes)",
            path.display()
        )));
    }
    let piece_length = opts
        .piece_length
        .unwrap_or_else(|| default_piece_length(total));
    if !(16 << 10..=MAX_PIECE_LENGTH).contains(&piece_length) {
        return Err(CreateError::Unshareable(format!(
            "piece size {piece_length} is not between 16 KiB and {} MiB",
            MAX_PIECE_LENGTH >> 20
        )));
    }
    let pieces = hash_pieces(&disk, &files, piece_length, progress)?;
    let info = Info {
        name,
        piece_length,
        pieces,
        files,
        private: opts.private,
    };
    let mut m = Metainfo::new(
        info,
        opts.trackers.iter().map(|t| vec![t.clone()]).collect(),
    );
    m.comment = opts.comment.clone();
    m.created_by = opts.created_by.clone();
    m.creation_date = opts.creation_date;
    Ok(m)
}

/// Collects the regular files below `dir` with their paths relative to the top.
fn walk(
    dir: &Path,
    prefix: &mut Vec<String>,
    found: &mut Vec<(FileEntry, PathBuf)>,
) -> Result<(), CreateError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let p = entry.path();
        let name = entry.file_name().into_string().map_err(|_| {
            CreateError::Unshareable(format!("{}: a file name not in UTF-8", p.display()))
        })?;
        let meta = fs::symlink_metadata(&p).map_err(io_err(&p))?;
        prefix.push(name);
        if meta.is_dir() {
            walk(&p, prefix, found)?;
        } else if meta.is_file() {
            if found.len() >= MAX_FILES {
                return Err(CreateError::Unshareable(format!(
                    "more than {MAX_FILES} files"
                )));
            }
            let entry = FileEntry {
                path: prefix.clone(),
                length: meta.len(),
            };
            found.push((entry, p));
        } else {
            return Err(CreateError::Unshareable(format!(
                "{}: a symbolic link or special file (links are not followed)",
                p.display()
            )));
        }
        prefix.pop();
    }
    Ok(())
}

/// SHA-1 of each piece of the files' bytes laid end to end.
fn hash_pieces(
    disk: &[PathBuf],
    files: &[FileEntry],
    piece_length: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<[u8; 20]>, CreateError> {
    use sha1::Digest;
    let total: u64 = files.iter().map(|f| f.length).sum();
    let mut pieces = Vec::new();
    let mut hasher = sha1::Sha1::new();
    let mut in_piece = 0u64;
    let mut done = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    for (path, entry) in disk.iter().zip(files) {
        let file = fs::File::open(path).map_err(io_err(path))?;
        // Read no more than the length listed: a file that grew meanwhile would
        // otherwise shift every later piece.
        let mut reader = file.take(entry.length);
        let mut read = 0u64;
        loop {
            let want = (piece_length - in_piece).min(buf.len() as u64) as usize;
            let n = reader.read(&mut buf[..want]).map_err(io_err(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            in_piece += n as u64;
            read += n as u64;
            done += n as u64;
            if in_piece == piece_length {
                pieces.push(hasher.finalize_reset().into());
                in_piece = 0;
            }
            progress(done, total);
        }
        if read != entry.length {
            return Err(CreateError::Unshareable(format!(
                "{}: shrank while it was read ({read} of {} bytes)",
                path.display(),
                entry.length
            )));
        }
    }
    if in_piece > 0 {
        pieces.push(hasher.finalize().into());
    }
    Ok(pieces)
}
