//! The node's records on disk: an embedded transactional database (redb), written before
//! the node acknowledges a write, so a crash loses nothing already acknowledged.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::id::Key;
use crate::net::error::NetError;
use crate::store::{Record, Store};

/// File name of the record database inside the data directory.
pub const DB_FILE: &str = "records.redb";

const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");

/// The records of one node, by key, each CBOR-encoded.
pub struct RecordDb {
    /// `None` after a failed write: redb refuses every later transaction once one has
    /// failed on I/O, so the next write opens the database again.
    db: Option<Database>,
    dir: PathBuf,
}

fn db_error(e: impl std::fmt::Display) -> NetError {
    NetError::Database(e.to_string())
}

/// Whether `e` comes from a full disk (or a full quota).
fn disk_full(e: &redb::Error) -> bool {
    matches!(e, redb::Error::Io(io) if matches!(
        io.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ))
}

impl RecordDb {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, NetError> {
        std::fs::create_dir_all(dir).map_err(|e| NetError::DataDir {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let path = dir.join(DB_FILE);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
            tracing::warn!(
                path = %path.display(),
                "the record database is an empty file (0 bytes): starting with no records"
            );
        }
        let db = Self::create(&path).map_err(|e| NetError::DataDir {
            path: path.clone(),
            reason: if disk_full(&e) {
                format!("cannot write the record database: {e}; free some space")
            } else {
                format!(
                    "not a readable record database ({e}); it may be truncated or damaged. \
                     Move it aside to start with no records (other replicas still hold them)"
                )
            },
        })?;
        Ok(RecordDb {
            db: Some(db),
            dir: dir.to_path_buf(),
        })
    }

    /// Opens or creates the database file at `path` with its table.
    fn create(path: &Path) -> Result<Database, redb::Error> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(RECORDS)?;
        txn.commit()?;
        Ok(db)
    }

    fn db(&self) -> Result<&Database, NetError> {
        self.db
            .as_ref()
            .ok_or_else(|| NetError::Database("the database is closed after a failure".into()))
    }

    /// Every stored record. A record that does not decode is skipped with a warning (it
    /// cannot have come from this version's writes) rather than failing the start.
    pub fn load(&self) -> Result<Vec<Record>, NetError> {
        let txn = self.db()?.begin_read().map_err(db_error)?;
        let table = txn.open_table(RECORDS).map_err(db_error)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_error)? {
            let (k, v) = entry.map_err(db_error)?;
            match cbor4ii::serde::from_slice::<Record>(v.value()) {
                Ok(r) if r.key.as_bytes()[..] == *k.value() => out.push(r),
                _ => tracing::warn!(key = ?k.value(), "skipping an unreadable stored record"),
            }
        }
        Ok(out)
    }

    /// Writes the current state of `keys` in `store` (present: written; absent: deleted)
    /// in one durable transaction. After a failure (a full disk) the database is closed,
    /// and the next call opens it again first: once space is free, writes resume.
    pub fn save(&mut self, store: &Store, keys: &[Key]) -> Result<(), NetError> {
        if keys.is_empty() {
            return Ok(());
        }
        if self.db.is_none() {
            self.db = Some(Self::create(&self.dir.join(DB_FILE)).map_err(db_error)?);
        }
        let result = self.write(store, keys);
        if result.is_err() {
            self.db = None;
        }
        result
    }

    fn write(&self, store: &Store, keys: &[Key]) -> Result<(), NetError> {
        let txn = self.db()?.begin_write().map_err(db_error)?;
        {
            let mut table = txn.open_table(RECORDS).map_err(db_error)?;
            for key in keys {
                match store.get(key) {
                    Some(r) => {
                        let mut bytes = Vec::new();
                        cbor4ii::serde::to_writer(&mut bytes, r).map_err(db_error)?;
                        table
                            .insert(&key.as_bytes()[..], bytes.as_slice())
                            .map_err(db_error)?;
                    }
                    None => {
                        table.remove(&key.as_bytes()[..]).map_err(db_error)?;
                    }
                }
            }
        }
        txn.commit().map_err(db_error)
    }
}

/// How long a failing disk is left alone before the next attempt to write.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// What [`Persister::sync`] did with a batch's changes.
#[derive(Debug, PartialEq, Eq)]
pub enum Synced {
    /// Everything changed is on disk.
    Saved,
    /// Writing failed for the first time (the reason): nothing from now on may be
    /// acknowledged until [`Synced::Recovered`].
    Failed(String),
    /// Writing still fails; `changed` says whether this batch changed records (which
    /// then must not be acknowledged).
    Failing {
        /// Whether the batch changed records.
        changed: bool,
    },
    /// Writing works again and every record held back is on disk.
    Recovered,
}

/// Keeps the record database in step with the store, and survives a full disk: changes
/// that cannot be written are kept and written once the disk takes them again.
pub struct Persister {
    db: RecordDb,
    /// Keys changed in memory but not yet on disk.
    unsaved: HashSet<Key>,
    /// While writing fails: when to try again.
    retry_at: Option<Instant>,
}

impl Persister {
    /// Keeps `db` up to date.
    pub fn new(db: RecordDb) -> Self {
        Persister {
            db,
            unsaved: HashSet::new(),
            retry_at: None,
        }
    }

    /// Writes the store's changes since the last call (and any held back).
    pub fn sync(&mut self, store: &mut Store, now: Instant) -> Synced {
        let fresh = store.take_changes();
        let changed = !fresh.is_empty();
        self.unsaved.extend(fresh);
        let failing = self.retry_at.is_some();
        if self.unsaved.is_empty() || self.retry_at.is_some_and(|at| now < at) {
            return if failing {
                Synced::Failing { changed }
            } else {
                Synced::Saved
            };
        }
        let keys: Vec<Key> = self.unsaved.iter().copied().collect();
        match self.db.save(store, &keys) {
            Ok(()) => {
                self.unsaved.clear();
                self.retry_at = None;
                if failing {
                    Synced::Recovered
                } else {
                    Synced::Saved
                }
            }
            Err(e) => {
                self.retry_at = Some(now + RETRY_EVERY);
                if failing {
                    Synced::Failing { changed }
                } else {
                    Synced::Failed(e.to_string())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Version;

    #[test]
    fn records_survive_reopening_and_deletions_stick() {
        let dir = std::env::temp_dir().join(format!("p2p-recorddb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut store = Store::default();
        store.track_changes();
        for i in 0..10u8 {
            store.merge(Record {
                key: Key([i; 20]),
                version: Version {
                    time: 1,
                    writer: Key([0; 20]),
                },
                value: Some(vec![i; 3]),
            });
        }
        let mut db = RecordDb::open(&dir).unwrap();
        db.save(&store, &store.clone().take_changes()).unwrap();
        store.take_changes();
        store.drop_key(&Key([3; 20]));
        db.save(&store, &store.clone().take_changes()).unwrap();
        drop(db);
        let loaded = RecordDb::open(&dir).unwrap().load().unwrap();
        assert_eq!(loaded.len(), 9);
        assert!(loaded.iter().all(|r| r.key != Key([3; 20])));
        assert_eq!(loaded[0].value, Some(vec![0; 3]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_truncated_database_names_its_file_and_what_to_do() {
        let dir = std::env::temp_dir().join(format!("p2p-recorddb-cut-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        drop(RecordDb::open(&dir).unwrap());
        let path = dir.join(DB_FILE);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len / 2).unwrap();
        drop(f);
        let err = RecordDb::open(&dir)
            .err()
            .expect("a truncated file is refused");
        let text = err.to_string();
        assert!(
            text.contains(DB_FILE) && text.contains("Move it aside"),
            "{text}"
        );
        std::fs::write(&path, b"").unwrap();
        assert!(RecordDb::open(&dir).unwrap().load().unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
