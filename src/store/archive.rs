//! Archive pages (RFC 5005) of published feeds: which stories the next page holds, and the
//! frozen pages themselves.
//!
//! A feed's stories are archived in the order they appeared in it: the key of a story is the
//! id of its first entry from one of the feed's sources after the previous scan (entry ids
//! grow), and each story is archived once per feed (`archived_items`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::entries::{ENTRY_COLUMNS, entry_at, scan_cap};
use super::{Store, StoreError, from_ts, to_ts};
use crate::model::StoredStory;

/// Which stories may go into a feed's next archive page.
pub struct ArchiveQuery<'a> {
    /// The feed's name: what it archived already is skipped.
    pub feed: &'a str,
    /// The feed's sources: a story belongs to the feed through a member from one of them.
    pub sources: &'a [String],
    /// One item per story (true) or per entry.
    pub dedup: bool,
    /// Only stories whose key is greater (where the last scan stopped).
    pub after: i64,
    /// How many stories a page holds.
    pub limit: usize,
    /// The feed's filters.
    pub keep: &'a dyn Fn(&StoredStory) -> bool,
}

/// One story found for an archive page.
#[derive(Debug, Clone)]
pub struct ArchiveItem {
    /// Its place in archive order.
    pub key: i64,
    /// Its story id (entry id for a feed without dedup): recorded as archived.
    pub item: i64,
    pub story: StoredStory,
}

/// What one scan found, and how far it read.
#[derive(Debug, Clone)]
pub struct ArchiveScan {
    pub kept: Vec<ArchiveItem>,
    /// The last key examined: the next scan starts after it.
    pub scanned_to: i64,
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

    /// Scans the feed's stories first seen after `q.after`, in archive order, for the next
    /// page: at most `q.limit` kept by the filter, examining at most a bounded number, and
    /// says how far it got so that the next scan goes on from there (a narrow filter still
    /// fills pages, a little per pass). Stories already on an archive page are skipped.
    pub fn archive_scan(&self, q: &ArchiveQuery<'_>) -> Result<ArchiveScan, StoreError> {
        let mut out = ArchiveScan {
            kept: Vec::new(),
            scanned_to: q.after,
        };
        if q.sources.is_empty() || q.limit == 0 {
            return Ok(out);
        }
        let names = serde_json::to_string(q.sources).expect("strings serialise");
        let cap = scan_cap(q.limit);
        if q.dedup {
            // A story's key is its first member (from these sources) after `after`: entry
            // ids only grow, so a story seen before keeps its place. Reads only the entries
            // stored since, not the whole feed.
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT e.story_id, min(e.id) AS k FROM entries e
                     WHERE e.id > ?2 AND e.story_id IS NOT NULL
                       AND e.source_id IN (SELECT id FROM sources
                                           WHERE name IN (SELECT value FROM json_each(?1)))
                       AND e.story_id NOT IN (SELECT item FROM archived_items WHERE feed = ?3)
                     GROUP BY e.story_id ORDER BY k LIMIT {cap}"
                ))
                .map_err(|e| self.err(e))?;
            let keys: Vec<(i64, i64)> = stmt
                .query_map(params![names, q.after, q.feed], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .and_then(Iterator::collect)
                .map_err(|e| self.err(e))?;
            let wanted: HashSet<&str> = q.sources.iter().map(String::as_str).collect();
            for (story, key) in keys {
                out.scanned_to = key;
                if let Some(s) = self.story(story, &wanted)?
                    && (q.keep)(&s)
                {
                    out.kept.push(ArchiveItem {
                        key,
                        item: story,
                        story: s,
                    });
                    if out.kept.len() >= q.limit {
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
                     ORDER BY e.id LIMIT {cap}"
                ))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params![names, q.after], |r| {
                    Ok((r.get::<_, i64>(0)?, entry_at(r, 1)?))
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                let (key, entry) = row.map_err(|e| self.err(e))?;
                out.scanned_to = key;
                let s = StoredStory::single(entry);
                if (q.keep)(&s) {
                    out.kept.push(ArchiveItem {
                        key,
                        item: key,
                        story: s,
                    });
                    if out.kept.len() >= q.limit {
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
        items: &[i64],
        last_modified: DateTime<Utc>,
        docs: &[(&str, &[u8])],
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let tx = self.begin()?;
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
        for item in items {
            tx.execute(
                "INSERT OR IGNORE INTO archived_items (feed, item) VALUES (?1, ?2)",
                params![feed, item],
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
