//! Archive pages (RFC 5005) of published feeds: which stories the next page holds, and the
//! frozen pages themselves.
//!
//! A feed's stories are archived in the order they first appeared in it: the key of a story
//! is the id of its first entry from one of the feed's sources (entry ids only grow), so
//! the order of stories already seen never changes when later copies arrive.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::entries::{ENTRY_COLUMNS, entry_at, scan_cap};
use super::{Store, StoreError, from_ts, to_ts};
use crate::model::StoredStory;

/// Which stories may go into a feed's next archive page.
pub struct ArchiveQuery<'a> {
    /// The feed's sources: a story belongs to the feed through a member from one of them.
    pub sources: &'a [String],
    /// One item per story (true) or per entry.
    pub dedup: bool,
    /// Only stories whose key is greater (after the last frozen page).
    pub after: i64,
    /// How many stories a page holds.
    pub limit: usize,
    /// The feed's filters.
    pub keep: &'a dyn Fn(&StoredStory) -> bool,
}

/// A feed's frozen pages so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveState {
    /// Pages frozen so far (the live feed links the last one).
    pub pages: u32,
    /// Key of the last story in them: the next page starts after it.
    pub last_key: i64,
}

/// One stored archive document.
#[derive(Debug, Clone)]
pub struct ArchivePage {
    /// The document exactly as frozen.
    pub body: Vec<u8>,
    /// Its newest story's update time, for Last-Modified.
    pub last_modified: DateTime<Utc>,
}

impl Store {
    /// How many pages of `feed` are frozen, and where the next starts.
    pub fn archive_state(&self, feed: &str) -> Result<ArchiveState, StoreError> {
        self.conn
            .prepare_cached("SELECT pages, last_key FROM archive_state WHERE feed = ?1")
            .and_then(|mut s| {
                s.query_row([feed], |r| {
                    Ok(ArchiveState {
                        pages: r.get(0)?,
                        last_key: r.get(1)?,
                    })
                })
                .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    /// The stories for the next page, in archive order, with their keys: at most `limit`,
    /// fewer when fewer exist yet (then the page is not full and is not frozen).
    pub fn archive_candidates(
        &self,
        q: &ArchiveQuery<'_>,
    ) -> Result<Vec<(i64, StoredStory)>, StoreError> {
        if q.sources.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let names = serde_json::to_string(q.sources).expect("strings serialise");
        let mut out = Vec::new();
        if q.dedup {
            // Stories first seen after `after`: a member past it and none at or before it.
            // Reads only the entries stored since the last page, not the whole feed.
            let mut stmt = self
                .conn
                .prepare_cached(
                    "WITH src AS (SELECT id FROM sources
                                  WHERE name IN (SELECT value FROM json_each(?1)))
                     SELECT e.story_id, min(e.id) AS k FROM entries e
                     WHERE e.id > ?2 AND e.story_id IS NOT NULL
                       AND e.source_id IN (SELECT id FROM src)
                       AND NOT EXISTS (SELECT 1 FROM entries o
                                       WHERE o.story_id = e.story_id AND o.id <= ?2
                                         AND o.source_id IN (SELECT id FROM src))
                     GROUP BY e.story_id ORDER BY k",
                )
                .map_err(|e| self.err(e))?;
            let keys: Vec<(i64, i64)> = stmt
                .query_map(params![names, q.after], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(|e| self.err(e))?;
            let wanted: HashSet<&str> = q.sources.iter().map(String::as_str).collect();
            for (story, key) in keys.into_iter().take(scan_cap(q.limit)) {
                if let Some(s) = self.story(story, &wanted)?
                    && (q.keep)(&s)
                {
                    out.push((key, s));
                    if out.len() >= q.limit {
                        break;
                    }
                }
            }
        } else {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT e.id, {ENTRY_COLUMNS}
                     FROM entries e JOIN sources s ON s.id = e.source_id
                     WHERE e.id > ?2 AND s.name IN (SELECT value FROM json_each(?1))
                     ORDER BY e.id"
                ))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![names, q.after], |r| {
                    Ok((r.get(0)?, entry_at(r, 1)?))
                })
                .map_err(|e| self.err(e))?;
            for row in rows.take(scan_cap(q.limit)) {
                let (key, entry) = row.map_err(|e| self.err(e))?;
                let s = StoredStory::single(entry);
                if (q.keep)(&s) {
                    out.push((key, s));
                    if out.len() >= q.limit {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Stores a full page in every format and moves the feed's archive state past it, in one
    /// transaction. Refuses (returns false) when the page is already frozen: a page is
    /// written once.
    pub fn freeze_archive_page(
        &mut self,
        feed: &str,
        page: u32,
        last_key: i64,
        last_modified: DateTime<Utc>,
        docs: &[(&str, &[u8])],
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let pages: u32 = tx
            .query_row(
                "SELECT pages FROM archive_state WHERE feed = ?1",
                [feed],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?
            .unwrap_or(0);
        if pages + 1 != page {
            return Ok(false);
        }
        let now = Utc::now().timestamp();
        for (format, body) in docs {
            tx.execute(
                "INSERT INTO archive_pages (feed, page, format, body, last_modified, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![feed, page, format, body, to_ts(last_modified), now],
            )
            .map_err(err)?;
        }
        tx.execute(
            "INSERT INTO archive_state (feed, pages, last_key) VALUES (?1, ?2, ?3)
             ON CONFLICT (feed) DO UPDATE SET pages = excluded.pages, last_key = excluded.last_key",
            params![feed, page, last_key],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// A frozen archive document, as stored.
    pub fn archive_page(
        &self,
        feed: &str,
        page: u32,
        format: &str,
    ) -> Result<Option<ArchivePage>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT body, last_modified FROM archive_pages
                 WHERE feed = ?1 AND page = ?2 AND format = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![feed, page, format], |r| {
                    Ok(ArchivePage {
                        body: r.get(0)?,
                        last_modified: from_ts(r.get(1)?),
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }
}
