//! The node's records on disk: an embedded transactional database (redb), written before
//! the node acknowledges a write, so a crash loses nothing already acknowledged.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::id::Key;
use crate::net::error::NetError;
use crate::store::{Record, Store};

/// File name of the record database inside the data directory.
pub const DB_FILE: &str = "records.redb";

const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("records");

/// The records of one node, by key, each CBOR-encoded.
pub struct RecordDb {
    db: Database,
}

fn db_error(e: impl std::fmt::Display) -> NetError {
    NetError::Database(e.to_string())
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
        let unreadable = |e: &dyn std::fmt::Display| NetError::DataDir {
            path: path.clone(),
            reason: format!(
                "not a readable record database ({e}); it may be truncated or damaged. \
                 Move it aside to start with no records (other replicas still hold them)"
            ),
        };
        let db = Database::create(&path).map_err(|e| unreadable(&e))?;
        let txn = db.begin_write().map_err(db_error)?;
        txn.open_table(RECORDS).map_err(|e| unreadable(&e))?;
        txn.commit().map_err(db_error)?;
        Ok(RecordDb { db })
    }

    /// Every stored record. A record that does not decode is skipped with a warning (it
    /// cannot have come from this version's writes) rather than failing the start.
    pub fn load(&self) -> Result<Vec<Record>, NetError> {
        let txn = self.db.begin_read().map_err(db_error)?;
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
    /// in one durable transaction.
    pub fn save(&self, store: &Store, keys: &[Key]) -> Result<(), NetError> {
        if keys.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(db_error)?;
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
        let db = RecordDb::open(&dir).unwrap();
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
