//! The only module that speaks SQL.
//!
//! SQLite in WAL mode: one writer connection (the daemon serialises writes through it, so
//! there is never a `SQLITE_BUSY` between our own writers) and any number of reader
//! connections, which WAL lets run alongside the writer. Each ingest of one source is one
//! savepoint, inside a transaction shared with the sources saved right after it when they
//! are already waiting (`group`), so a crash loses at most the saves of the last half second
//! and never half of a source.
//! Migrations live in `migrations/NNNN_name.sql`, are embedded at build time, and are applied
//! in order at open, in one transaction, tracked by SQLite's `user_version`.

mod anchors;
mod archive;
mod checkpoint;
mod entries;
mod group;
mod keyfilter;
mod learned;
mod merges;
mod pages;
mod retention;
mod sources;
mod stories;
mod story_read;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

pub use archive::{ArchiveItem, ArchivePage, ArchiveQuery, ArchiveScan, ArchiveState};
pub use checkpoint::Checkpointer;
pub use entries::{EntryQuery, FetchSave};
pub use group::{QueueTicket, SaveQueue};
pub use learned::LearnedRow;
pub use retention::{Pruned, Retention, Trim};
pub use sources::FetchLog;
pub use stories::DedupStep;
pub use story_read::StoryQuery;

static MIGRATIONS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations");

/// Why the store failed; always names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: migration failed: {source}")]
    Migration {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database {path}: cannot create its folder: {source}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot back up to {path}: {reason}")]
    Backup { path: PathBuf, reason: String },
}

/// A connection to the wirefeed database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Candidate-index postings staged by this connection (writers only).
    anchors: anchors::AnchorBuffer,
    /// Saves waiting for this writer (see `group`).
    queue: SaveQueue,
    /// The open group transaction of source saves, if any.
    group: Option<group::Group>,
}

/// The migrations, in file-name order.
fn migrations() -> Migrations<'static> {
    let mut files: Vec<_> = MIGRATIONS_DIR
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort_by_key(|f| f.path());
    Migrations::new(
        files
            .into_iter()
            .map(|f| M::up(f.contents_utf8().expect("migrations are UTF-8")))
            .collect(),
    )
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Folder {
                path: path.to_path_buf(),
                source: e,
            })?;
        }
        let mut store = Store::connect(path)?;
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| store.err(e))?;
        // The writer checkpoints by itself only past ~64 MB of WAL: normally the background
        // `Checkpointer` keeps the WAL small without stalling the writer.
        store
            .conn
            .pragma_update(None, "wal_autocheckpoint", 16384)
            .map_err(|e| store.err(e))?;
        // Once checkpointed, the WAL file is cut back to 16 MB: a burst of ingest must not
        // leave a WAL of hundreds of MB on disk for good.
        store
            .conn
            .pragma_update(None, "journal_size_limit", 16 << 20)
            .map_err(|e| store.err(e))?;
        migrations()
            .to_latest(&mut store.conn)
            .map_err(|e| StoreError::Migration {
                path: path.to_path_buf(),
                source: e,
            })?;
        Ok(store)
    }

    /// Opens another connection to an existing, migrated database (for readers).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        Store::connect(path)
    }

    fn connect(path: &Path) -> Result<Store, StoreError> {
        let err = |e| StoreError::Sqlite {
            path: path.to_path_buf(),
            source: e,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        // One ingest uses some thirty distinct statements; rusqlite's default cache of 16
        // would evict and re-parse them on every entry.
        conn.set_prepared_statement_cache_capacity(128);
        // 64 MiB of page cache (SQLite's default is 2 MiB): the dedup anchor index is read
        // and written at random keys, and misses on it dominate ingest once it is large.
        conn.pragma_update(None, "cache_size", -16_384)
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        // Each source's save is a savepoint inside a group transaction (`group`): the pages
        // it changes are copied to a statement journal first, which belongs in memory (a few
        // hundred KB per save), not in a temporary file written through the kernel.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(err)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            anchors: anchors::AnchorBuffer::default(),
            queue: SaveQueue::default(),
            group: None,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source: e,
        }
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Writes a consistent copy of the database to `dest` while the daemon keeps running
    /// (`VACUUM INTO` reads one snapshot; the copy is compacted and needs no WAL file).
    /// Refuses to overwrite: a backup never destroys another.
    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists() {
            return Err(StoreError::Backup {
                path: dest.to_path_buf(),
                reason: "the file exists; choose a new name".into(),
            });
        }
        let dest_str = dest.to_str().ok_or_else(|| StoreError::Backup {
            path: dest.to_path_buf(),
            reason: "the path is not UTF-8".into(),
        })?;
        self.conn
            .execute("VACUUM INTO ?1", [dest_str])
            .map_err(|e| StoreError::Backup {
                path: dest.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// `PRAGMA data_version`: a number that changes when another connection (another
    /// process's, or another of this one's) commits to the database, and not for this
    /// connection's own commits. Polled on the daemon's writer, it says that another process
    /// (`wirefeed fetch` beside the daemon) changed the store, so the daemon's feeds must be
    /// rendered again. Cheap: no page is read.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Sets this connection's page cache to `mb` MiB (`[storage] cache_mb`).
    pub fn set_cache_mb(&self, mb: usize) -> Result<(), StoreError> {
        let kib = i64::try_from(mb.saturating_mul(1024)).unwrap_or(i64::MAX);
        self.conn
            .pragma_update(None, "cache_size", -kib)
            .map_err(|e| self.err(e))
    }

    /// Gives back the memory of this connection's page cache (`PRAGMA shrink_memory`).
    ///
    /// Why: a burst of ingest fills the writer's cache (64 MiB by default) and the readers'
    /// while feeds are rendered, and SQLite keeps those pages until the connection closes: an
    /// idle daemon stayed at 183 MB after its first ingest of 300 sources, 35 MB after a
    /// restart. The daemon calls this once ingest has gone quiet; the cache fills again on
    /// the next burst.
    pub fn release_memory(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA shrink_memory")
            .map_err(|e| self.err(e))
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

fn to_ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn from_ts(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

#[cfg(test)]
mod tests;
