//! Sources and their fetch state.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, from_ts, to_ts};
use crate::model::{Podcast, SourceOverview, SourceState};

/// One row of the fetch log: what one attempt did.
#[derive(Debug, Clone, Default)]
pub struct FetchLog {
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `new`, `updated`, `unchanged`, `not-modified` or `error`; `new`/`updated`/`unchanged`
    /// are filled in from what storing the entries did.
    pub outcome: String,
    pub http_status: Option<u16>,
    pub bytes: Option<u64>,
    pub error: Option<String>,
}

impl Store {
    /// The id of the named source, creating the row on first sight. When the configured URL
    /// changed, everything learned about the old address (validators, moves) is forgotten.
    pub(super) fn source_id(
        tx: &rusqlite::Connection,
        name: &str,
        url: &str,
    ) -> rusqlite::Result<i64> {
        tx.prepare_cached(
            "INSERT INTO sources (name, url, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET url = excluded.url, fetch_url = NULL,
                 redirect_target = NULL, redirect_streak = 0, etag = NULL, last_modified = NULL
             WHERE url <> excluded.url",
        )?
        .execute(params![name, url, Utc::now().timestamp()])?;
        tx.prepare_cached("SELECT id FROM sources WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
    }

    /// Makes sure a row exists for every configured source (so the status page lists them
    /// before their first fetch).
    pub fn register_source(&mut self, name: &str, url: &str) -> Result<(), StoreError> {
        Store::source_id(&self.conn, name, url).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Persists the scheduler's next-run times in one transaction, writing only rows whose
    /// value changed. Polls that find nothing new do not write (see `FetchSave`), so the daemon
    /// saves their schedule this way periodically and at shutdown: a restart then still
    /// honours the publishers' requested intervals instead of fetching everything at once.
    pub fn save_schedule(
        &mut self,
        next_runs: &[(String, DateTime<Utc>)],
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let tx = self.begin()?;
        let mut changed = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE sources SET next_run_at = ?2 WHERE name = ?1 AND next_run_at IS NOT ?2",
                )
                .map_err(err)?;
            for (name, at) in next_runs {
                changed += stmt.execute(params![name, to_ts(*at)]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(changed)
    }

    /// Every stored source with its last fetch and entry count, by name (the status page).
    pub fn source_overview(&self) -> Result<Vec<SourceOverview>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT s.name, s.url, s.feed_title, s.feed_link, s.last_fetch_at, s.last_outcome,
                        s.last_error, s.next_run_at, s.consecutive_errors,
                        (SELECT count(*) FROM entries e WHERE e.source_id = s.id)
                 FROM sources s ORDER BY s.name",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok(SourceOverview {
                        name: r.get(0)?,
                        url: r.get(1)?,
                        feed_title: r.get(2)?,
                        feed_link: r.get(3)?,
                        last_fetch_at: r.get::<_, Option<i64>>(4)?.map(from_ts),
                        last_outcome: r.get(5)?,
                        last_error: r.get(6)?,
                        next_run_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
                        consecutive_errors: r.get(8)?,
                        entries: r.get(9)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// The podcast among `sources` (the first in the order given whose feed is one, with the
    /// language its feed declares), for feeds that republish it.
    pub fn podcast_of(&self, sources: &[String]) -> Result<Option<Podcast>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT feed_podcast, feed_language FROM sources
                 WHERE name = ?1 AND feed_podcast IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        for name in sources {
            let row: Option<(String, Option<String>)> = stmt
                .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(|e| self.err(e))?;
            if let Some((json, language)) = row
                && let Some(mut p) = Podcast::from_json(Some(&json))
            {
                p.language = language;
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// The stored fetch state of a source; `None` if it was never seen.
    pub fn source_state(&self, name: &str) -> Result<Option<SourceState>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT etag, last_modified, last_fetch_at, last_outcome, last_error,
                        last_success_at, consecutive_errors, next_run_at, url, fetch_url,
                        redirect_target, redirect_streak, feed_interval
                 FROM sources WHERE name = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([name], |r| {
                    Ok(SourceState {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        last_fetch_at: r.get::<_, Option<i64>>(2)?.map(from_ts),
                        last_outcome: r.get(3)?,
                        last_error: r.get(4)?,
                        last_success_at: r.get::<_, Option<i64>>(5)?.map(from_ts),
                        consecutive_errors: r.get(6)?,
                        next_run_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
                        url: r.get(8)?,
                        fetch_url: r.get(9)?,
                        redirect_target: r.get(10)?,
                        redirect_streak: r.get(11)?,
                        feed_interval: r
                            .get::<_, Option<i64>>(12)?
                            .map(|s| Duration::from_secs(s.max(0) as u64)),
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }
}

/// Writes a source's whole state and appends to the fetch log, inside the caller's transaction.
pub(super) fn write_state(
    tx: &rusqlite::Connection,
    source_id: i64,
    st: &SourceState,
    log: &FetchLog,
    counts: (usize, usize),
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE sources SET
            etag = ?2, last_modified = ?3, last_fetch_at = ?4, last_outcome = ?5,
            last_error = ?6, last_success_at = ?7, consecutive_errors = ?8, next_run_at = ?9,
            fetch_url = ?10, redirect_target = ?11, redirect_streak = ?12, feed_interval = ?13
         WHERE id = ?1",
    )?
    .execute(params![
        source_id,
        st.etag,
        st.last_modified,
        st.last_fetch_at.map(to_ts),
        st.last_outcome,
        st.last_error,
        st.last_success_at.map(to_ts),
        st.consecutive_errors,
        st.next_run_at.map(to_ts),
        st.fetch_url,
        st.redirect_target,
        st.redirect_streak,
        st.feed_interval.map(|d| d.as_secs() as i64),
    ])?;
    tx.prepare_cached(
        "INSERT INTO fetch_log (source_id, started_at, duration_ms, outcome, http_status, bytes,
                                entries_new, entries_updated, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        source_id,
        to_ts(log.started_at),
        log.duration_ms as i64,
        log.outcome,
        log.http_status,
        log.bytes.map(|b| b as i64),
        counts.0 as i64,
        counts.1 as i64,
        log.error,
    ])?;
    Ok(())
}
