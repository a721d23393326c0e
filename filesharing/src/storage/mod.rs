//! A torrent's files on disk, written in place: pieces map onto the files their bytes span,
//! files are created sparse at their full length, and what is already there is found by
//! verifying every piece (resume). Paths are checked again on disk: a component that is a
//! symbolic link is refused, so a torrent cannot write outside its folder.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha1::Digest;

use crate::Info;
use crate::session::Bitfield;

/// Why a torrent's files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A path component on disk is a symbolic link, or not a folder where one is needed.
    #[error("{path}: {why}; refusing to write through it")]
    Unsafe {
        /// The offending path.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file to seed is missing or shorter than the torrent says.
    #[error("{path}: {why}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

struct Stored {
    path: PathBuf,
    offset: u64,
    length: u64,
    file: File,
}

/// The files of one torrent, open.
pub struct Storage {
    files: Vec<Stored>,
    /// Whether every file was created by this open, so nothing on disk needs verifying.
    fresh: bool,
    piece_length: u64,
    total: u64,
}

/// Whether storage may create what is missing (downloading) or must find it (seeding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Create folders and files as needed, sparse at full length.
    Download,
    /// Every file must exist at its full length; nothing is written.
    Seed,
}

impl Storage {
    /// Opens (or creates) `info`'s files under `dir`.
    pub fn open(info: &Info, dir: &Path, mode: OpenMode) -> Result<Self, StorageError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StorageError::Io { path, source }
        };
        let mut files = Vec::with_capacity(info.files.len());
        let mut offset = 0;
        let mut fresh = mode == OpenMode::Download;
        for entry in &info.files {
            let mut path = dir.join(&info.name);
            for c in &entry.path {
                path.push(c);
            }
            check_no_links(dir, &path, mode)?;
            let file = match mode {
                OpenMode::Seed => {
                    let file = File::open(&path).map_err(|e| StorageError::Missing {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                    let len = file.metadata().map_err(io_err(&path))?.len();
                    if len < entry.length {
                        return Err(StorageError::Missing {
                            path,
                            why: format!("{len} bytes, the torrent says {}", entry.length),
                        });
                    }
                    file
                }
                OpenMode::Download => {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                        // Created folders are checked again: one may have been a link.
                        check_no_links(dir, &path, mode)?;
                    }
                    fresh &= entry.length == 0 || !path.exists();
                    let file = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(&path)
                        .map_err(io_err(&path))?;
                    let len = file.metadata().map_err(io_err(&path))?.len();
                    if len != entry.length {
                        file.set_len(entry.length).map_err(io_err(&path))?;
                    }
                    file
                }
            };
            files.push(Stored {
                path,
                offset,
                length: entry.length,
                file,
            });
            offset += entry.length;
        }
        Ok(Storage {
            files,
            fresh,
            piece_length: info.piece_length,
            total: offset,
        })
    }

    /// Whether every file was created just now (nothing to verify: no piece is there).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Calls `f` for each file slice the bytes `[start, start + len)` of the torrent span.
    fn spans(
        &self,
        start: u64,
        len: u64,
        mut f: impl FnMut(&Stored, u64, std::ops::Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        let end = start + len;
        if end > self.total {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "beyond the torrent's end",
            ));
        }
        let first = self.files.partition_point(|s| s.offset + s.length <= start);
        for s in &self.files[first..] {
            if s.offset >= end {
                break;
            }
            let from = start.max(s.offset);
            let to = end.min(s.offset + s.length);
            if from < to {
                f(
                    s,
                    from - s.offset,
                    (from - start) as usize..(to - start) as usize,
                )?;
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at `begin` within piece `index`.
    pub fn read(&self, index: u32, begin: u32, len: u32) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len as usize];
        let start = index as u64 * self.piece_length + begin as u64;
        self.spans(start, len as u64, |s, at, range| {
            s.file.read_exact_at(&mut buf[range], at)
        })?;
        Ok(buf)
    }

    /// Writes a whole piece.
    pub fn write_piece(&self, index: u32, data: &[u8]) -> io::Result<()> {
        let start = index as u64 * self.piece_length;
        self.spans(start, data.len() as u64, |s, at, range| {
            s.file.write_all_at(&data[range], at)
        })
    }

    /// The pieces whose bytes on disk match their hash; `progress(done, total)` after each.
    pub fn verify(&self, info: &Info, mut progress: impl FnMut(u32, u32)) -> io::Result<Bitfield> {
        let n = info.pieces.len() as u32;
        let mut have = Bitfield::empty(n);
        for i in 0..n {
            let len = info.piece_size(i as usize) as u32;
            let data = self.read(i, 0, len)?;
            if <[u8; 20]>::from(sha1::Sha1::digest(&data)) == info.pieces[i as usize] {
                have.set(i);
            }
            progress(i + 1, n);
        }
        Ok(have)
    }

    /// Flushes every file to disk.
    pub fn sync(&self) -> Result<(), StorageError> {
        for s in &self.files {
            s.file.sync_data().map_err(|source| StorageError::Io {
                path: s.path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Refuses a path below `dir` with a symbolic link in it, or a non-folder where a folder
/// is needed. Components that do not exist yet are fine when downloading.
fn check_no_links(dir: &Path, path: &Path, mode: OpenMode) -> Result<(), StorageError> {
    let rel = path.strip_prefix(dir).expect("built under dir");
    let mut at = dir.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (k, c) in parts.iter().enumerate() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(StorageError::Unsafe {
                    path: at,
                    why: "a symbolic link",
                });
            }
            Ok(m) if k + 1 < parts.len() && !m.is_dir() => {
                return Err(StorageError::Unsafe {
                    path: at,
                    why: "not a folder",
                });
            }
            Ok(m) if k + 1 == parts.len() && !m.is_file() => {
                return Err(StorageError::Unsafe {
                    path: at,
                    why: "not a regular file",
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound && mode == OpenMode::Download => {
                return Ok(());
            }
            Err(e) => {
                return Err(StorageError::Missing {
                    path: at,
                    why: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
