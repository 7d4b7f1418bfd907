//! Sources and their fetch state.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, from_ts, to_ts};
use crate::model::SourceState;

/// What one fetch attempt did, for the source's state and the fetch log.
#[derive(Debug, Clone, Default)]
pub struct FetchRecord {
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `new`, `updated`, `unchanged`, `not-modified` or `error`.
    pub outcome: String,
    pub http_status: Option<u16>,
    pub bytes: Option<u64>,
    pub entries_new: usize,
    pub entries_updated: usize,
    pub error: Option<String>,
    /// Validators to send next time; `None` keeps the stored ones.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_run_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The id of the named source, creating the row on first sight and refreshing its URL.
    pub(super) fn source_id(
        tx: &rusqlite::Connection,
        name: &str,
        url: &str,
    ) -> rusqlite::Result<i64> {
        tx.execute(
            "INSERT INTO sources (name, url, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url WHERE url <> excluded.url",
            params![name, url, Utc::now().timestamp()],
        )?;
        tx.query_row("SELECT id FROM sources WHERE name = ?1", [name], |r| {
            r.get(0)
        })
    }

    /// Makes sure a row exists for every configured source (so the status page lists them
    /// before their first fetch).
    pub fn register_source(&mut self, name: &str, url: &str) -> Result<(), StoreError> {
        Store::source_id(&self.conn, name, url).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The stored fetch state of a source; `None` if it was never seen.
    pub fn source_state(&self, name: &str) -> Result<Option<SourceState>, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified, last_fetch_at, last_outcome, last_error,
                        last_success_at, consecutive_errors, next_run_at
                 FROM sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(SourceState {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        last_fetch_at: r.get::<_, Option<i64>>(2)?.map(from_ts),
                        last_outcome: r.get(3)?,
                        last_error: r.get(4)?,
                        last_success_at: r.get::<_, Option<i64>>(5)?.map(from_ts),
                        consecutive_errors: r.get(6)?,
                        next_run_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a fetch that stored nothing (not modified, or an error) in its own transaction.
    pub fn record_fetch(
        &mut self,
        name: &str,
        url: &str,
        rec: &FetchRecord,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
            path: self.path.clone(),
            source: e,
        })?;
        let r = Store::source_id(&tx, name, url).and_then(|id| write_fetch(&tx, id, rec));
        r.and_then(|_| tx.commit()).map_err(|e| self.err(e))
    }
}

/// Updates a source's state and appends to the fetch log, inside the caller's transaction.
pub(super) fn write_fetch(
    tx: &rusqlite::Connection,
    source_id: i64,
    rec: &FetchRecord,
) -> rusqlite::Result<()> {
    let ok = rec.outcome != "error";
    tx.execute(
        "UPDATE sources SET
            etag = coalesce(?2, etag),
            last_modified = coalesce(?3, last_modified),
            last_fetch_at = ?4,
            last_outcome = ?5,
            last_error = ?6,
            last_success_at = CASE WHEN ?7 THEN ?4 ELSE last_success_at END,
            consecutive_errors = CASE WHEN ?7 THEN 0 ELSE consecutive_errors + 1 END,
            next_run_at = ?8
         WHERE id = ?1",
        params![
            source_id,
            rec.etag,
            rec.last_modified,
            to_ts(rec.started_at),
            rec.outcome,
            rec.error,
            ok,
            rec.next_run_at.map(to_ts),
        ],
    )?;
    tx.execute(
        "INSERT INTO fetch_log (source_id, started_at, duration_ms, outcome, http_status, bytes,
                                entries_new, entries_updated, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            source_id,
            to_ts(rec.started_at),
            rec.duration_ms as i64,
            rec.outcome,
            rec.http_status,
            rec.bytes.map(|b| b as i64),
            rec.entries_new as i64,
            rec.entries_updated as i64,
            rec.error,
        ],
    )?;
    Ok(())
}
