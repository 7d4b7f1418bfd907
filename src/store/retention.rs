//! Retention: the only way anything is deleted. Entries older than the configured age, or
//! beyond a source's maximum, are removed in small batches (so ingest never waits long),
//! with their stories kept consistent, and remembered so that they are not fetched back in.

use std::collections::{BTreeSet, HashSet};

use rusqlite::params;

use super::{Store, StoreError};
use crate::dedup::Dedup;

/// What to keep; `None` keeps everything on that count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Entries dated (published, else first seen) before this Unix time go.
    pub older_than: Option<i64>,
    /// At most this many entries per source, the newest.
    pub max_per_source: Option<usize>,
    /// Tombstones of pruned entries older than this Unix time go (an item still in its
    /// feed that long after is stored again).
    pub forget_before: Option<i64>,
}

/// Limits on what grows with every fetch rather than with the entries kept (see
/// [`Store::trim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// Learned-block statistics not seen since this Unix time go: a block quiet for a whole
    /// learning window is forgotten anyway.
    pub learned_before: i64,
    /// Blocks still below `learned_threshold` kept per source, the most recently seen.
    pub learned_cap: usize,
    /// Distinct entries that make a block learned; learned blocks are never capped.
    pub learned_threshold: u32,
    /// Fetch-log rows kept per source, the newest.
    pub log_cap: usize,
    /// Also drop archive pages whose newest story is older than every stored entry (all of
    /// their stories were removed); only meaningful when retention removes entries.
    pub archives: bool,
}

/// What one batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub entries: usize,
    pub stories: usize,
    /// Fetch-log rows, article pages and tombstones.
    pub other: usize,
}

impl Store {
    /// Removes at most `batch` entries (and as many log rows, pages and old tombstones) that
    /// the rules no longer keep, in one transaction. Call until it returns zero entries.
    pub fn prune(
        &mut self,
        r: &Retention,
        batch: usize,
        engine: &Dedup,
    ) -> Result<Pruned, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        // A removed entry's candidate-index postings go with it (found by recomputing its
        // anchors, so the staged ones are moved into the main index first).
        self.settle_anchors(engine)?;
        let tx = self.begin()?;
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        if let Some(t) = r.older_than {
            let mut s = tx
                .prepare_cached(&format!(
                    "SELECT id FROM entries WHERE sort_time < ?1 ORDER BY sort_time LIMIT {batch}"
                ))
                .map_err(err)?;
            let rows = s.query_map([t], |row| row.get(0)).map_err(err)?;
            for id in rows {
                ids.insert(id.map_err(err)?);
            }
        }
        if let Some(max) = r.max_per_source
            && ids.len() < batch
        {
            let over: Vec<i64> = tx
                .prepare_cached(&format!(
                    "SELECT source_id FROM entries GROUP BY source_id HAVING count(*) > {max}"
                ))
                .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
                .map_err(err)?;
            for source in over {
                let room = batch - ids.len();
                if room == 0 {
                    break;
                }
                let mut s = tx
                    .prepare_cached(&format!(
                        "SELECT id FROM entries WHERE source_id = ?1
                         ORDER BY sort_time DESC, id DESC LIMIT {room} OFFSET {max}"
                    ))
                    .map_err(err)?;
                let rows = s.query_map([source], |row| row.get(0)).map_err(err)?;
                for id in rows {
                    ids.insert(id.map_err(err)?);
                }
            }
        }
        let mut out = Pruned::default();
        // A representative is replaced before its entry goes; checked at commit.
        tx.pragma_update(None, "defer_foreign_keys", "ON")
            .map_err(err)?;
        let mut stories: HashSet<i64> = HashSet::new();
        let mut indexed: Vec<(Option<i64>, i64, Vec<u8>)> = Vec::new();
        for id in &ids {
            let (story, at, fingerprint, posted): (
                Option<i64>,
                Option<i64>,
                Option<Vec<u8>>,
                Option<i64>,
            ) = tx
                .prepare_cached(
                    "SELECT story_id, dedup_at, fingerprint, coalesce(anchor_story, story_id)
                     FROM entries WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([id], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })
                })
                .map_err(err)?;
            stories.extend(story);
            if let (Some(at), Some(fp)) = (at, fingerprint) {
                indexed.push((posted, at, fp));
            }
            tx.prepare_cached(
                "INSERT OR IGNORE INTO pruned (source_id, guid, pruned_at)
                 SELECT source_id, guid, strftime('%s', 'now') FROM entries WHERE id = ?1",
            )
            .and_then(|mut s| s.execute([id]))
            .map_err(err)?;
            tx.prepare_cached("DELETE FROM entries WHERE id = ?1")
                .and_then(|mut s| s.execute([id]))
                .map_err(err)?;
            out.entries += 1;
        }
        let postings: Vec<(Option<i64>, i64, &[u8])> = indexed
            .iter()
            .map(|(story, at, fp)| (*story, *at, fp.as_slice()))
            .collect();
        super::anchors::delete_postings(&tx, engine, &postings).map_err(err)?;
        for story in stories {
            let remaining: i64 = tx
                .prepare_cached("SELECT count(*) FROM entries WHERE story_id = ?1")
                .and_then(|mut s| s.query_row([story], |row| row.get(0)))
                .map_err(err)?;
            if remaining == 0 {
                tx.prepare_cached("DELETE FROM stories WHERE id = ?1")
                    .and_then(|mut s| s.execute([story]))
                    .map_err(err)?;
                // Its history and the ids it absorbed go with it.
                for sql in [
                    "DELETE FROM story_revisions WHERE story_id = ?1",
                    "DELETE FROM story_aliases WHERE survivor = ?1",
                ] {
                    tx.prepare_cached(sql)
                        .and_then(|mut s| s.execute([story]))
                        .map_err(err)?;
                }
                out.stories += 1;
            } else {
                // The most complete remaining copy represents the story if its own went.
                tx.prepare_cached(
                    "UPDATE stories SET members = ?2,
                        representative = CASE
                            WHEN EXISTS (SELECT 1 FROM entries WHERE id = representative)
                            THEN representative
                            ELSE (SELECT id FROM entries WHERE story_id = ?1
                                  ORDER BY length(coalesce(content, summary, '')) DESC, id DESC
                                  LIMIT 1)
                        END
                     WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![story, remaining]))
                .map_err(err)?;
            }
        }
        if let Some(t) = r.older_than {
            for sql in [
                "DELETE FROM fetch_log WHERE id IN
                     (SELECT id FROM fetch_log WHERE started_at < ?1 LIMIT {batch})",
                "DELETE FROM pages WHERE url IN
                     (SELECT url FROM pages WHERE fetched_at < ?1 LIMIT {batch})",
            ] {
                out.other += tx
                    .prepare_cached(&sql.replace("{batch}", &batch.to_string()))
                    .and_then(|mut s| s.execute([t]))
                    .map_err(err)?;
            }
        }
        if let Some(t) = r.forget_before {
            out.other += tx
                .prepare_cached(&format!(
                    "DELETE FROM pruned WHERE (source_id, guid) IN
                         (SELECT source_id, guid FROM pruned WHERE pruned_at < ?1 LIMIT {batch})"
                ))
                .and_then(|mut s| s.execute([t]))
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Lets SQLite refresh its query-planner statistics where they went stale (cheap; the
    /// daemon runs it with its upkeep).
    pub fn optimize(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA optimize")
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// Trims the tables that grow with every fetch: learned-block candidates (every short
    /// block of every entry is counted, and one seen once stays a candidate), the fetch log,
    /// and, under retention, archive pages of removed stories. Returns the rows removed.
    ///
    /// Why: the one-hour soak (`bench/soak`) found the database growing by 1.2 GB an hour
    /// while retention held the entries level: 946 MB of archive pages and 219 MB of
    /// single-sighting block candidates.
    pub fn trim(&mut self, t: &Trim) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let tx = self.begin()?;
        let mut removed = tx
            .execute(
                "DELETE FROM learned_blocks WHERE last_seen < ?1",
                [t.learned_before],
            )
            .map_err(err)?;
        let over: Vec<(String, i64)> = tx
            .prepare(
                "SELECT source, count(*) - ?1 FROM learned_blocks WHERE entries < ?2
                 GROUP BY source HAVING count(*) > ?1",
            )
            .and_then(|mut s| {
                s.query_map(params![t.learned_cap as i64, t.learned_threshold], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(err)?;
        for (source, excess) in over {
            removed += tx
                .execute(
                    "DELETE FROM learned_blocks WHERE source = ?1 AND hash IN
                         (SELECT hash FROM learned_blocks WHERE source = ?1 AND entries < ?2
                          ORDER BY last_seen, first_seen LIMIT ?3)",
                    params![source, t.learned_threshold, excess],
                )
                .map_err(err)?;
        }
        let logs: Vec<i64> = tx
            .prepare("SELECT source_id FROM fetch_log GROUP BY source_id HAVING count(*) > ?1")
            .and_then(|mut s| s.query_map([t.log_cap as i64], |r| r.get(0))?.collect())
            .map_err(err)?;
        for source in logs {
            removed += tx
                .execute(
                    "DELETE FROM fetch_log WHERE source_id = ?1 AND id <
                         (SELECT id FROM fetch_log WHERE source_id = ?1
                          ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                    params![source, t.log_cap as i64 - 1],
                )
                .map_err(err)?;
        }
        if t.archives {
            removed += tx
                .execute(
                    "DELETE FROM archive_pages
                     WHERE last_modified < (SELECT min(sort_time) FROM entries)",
                    [],
                )
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(removed)
    }
}
