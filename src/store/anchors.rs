//! The dedup candidate index (anchor key → stories), written in sorted batches.
//!
//! Why not one row per posting inserted as entries arrive: anchor keys are hashes, so every
//! posting lands on a random page of `dedup_anchors`, and a save of one source's twenty
//! entries dirtied about a thousand pages (megabytes of WAL per commit). A 10,000-source
//! first poll spent fifteen times longer in SQLite than without dedup. Instead, new postings
//! are appended to `dedup_anchors_new` (a few sequential pages per save), mirrored in memory
//! for lookups, and moved into `dedup_anchors` in one sorted statement once enough have
//! gathered, or when upkeep runs, or when the writer closes. A crash loses nothing: the
//! staging table is reloaded when the writer starts.
//!
//! Several processes may write (the daemon and a `wirefeed fetch`): each sees its own
//! staged postings plus everything flushed, so copies ingested by two processes at the same
//! moment may stay apart (a missed merge, never a wrong one) until one of them expires.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::keyfilter::KeyFilter;
use super::{Store, StoreError};
use crate::dedup::{Dedup, Fingerprint};

/// Staged postings are moved into the main index past this many (a few MB of memory; the
/// sorted move then touches each page of the main index about once).
const FLUSH_AT: usize = 200_000;

/// No posting: the end of a key's chain.
const NONE: u32 = u32::MAX;

/// One staged posting, chained to the previous one under the same key.
#[derive(Debug, Clone, Copy)]
struct Posting {
    at: i64,
    story: i64,
    key: u32,
    next: u32,
}

/// Staged postings mirrored in memory, plus what the open transaction added.
///
/// Why chains in one vector rather than a vector per key: about 30 bytes per posting instead
/// of about 120 (most keys carry one posting), and undoing a rolled-back transaction is a
/// truncation.
#[derive(Debug, Default)]
pub(super) struct AnchorBuffer {
    postings: Vec<Posting>,
    /// Key → its newest posting.
    heads: HashMap<u32, u32>,
    /// Postings before the open group transaction's first.
    committed: usize,
    /// Postings before the current source's savepoint.
    source_start: usize,
    /// Whether the staging table has been read and the scheme checked.
    ready: bool,
    /// Keys the main index may hold (loaded at the first lookup; see `keyfilter`).
    filter: Option<KeyFilter>,
}

impl AnchorBuffer {
    /// Stories staged under `key` and dated in `since..=until`, appended to `out` (not
    /// repeating those already there) until `out` holds `cap` from `start` on.
    pub(super) fn lookup(
        &self,
        key: u32,
        since: i64,
        until: i64,
        cap: usize,
        start: usize,
        out: &mut Vec<i64>,
    ) {
        let mut i = self.heads.get(&key).copied().unwrap_or(NONE);
        while i != NONE && out.len() - start < cap {
            let p = self.postings[i as usize];
            if (since..=until).contains(&p.at) && !out[start..].contains(&p.story) {
                out.push(p.story);
            }
            i = p.next;
        }
    }

    /// Stages one posting inside the caller's transaction.
    pub(super) fn stage(
        &mut self,
        tx: &Connection,
        key: u32,
        at: i64,
        story: i64,
    ) -> rusqlite::Result<()> {
        tx.prepare_cached("INSERT INTO dedup_anchors_new (key, at, story) VALUES (?1, ?2, ?3)")?
            .execute(params![key, at, story])?;
        self.push(key, at, story);
        Ok(())
    }

    fn push(&mut self, key: u32, at: i64, story: i64) {
        let i = u32::try_from(self.postings.len()).expect("flushed long before 4G postings");
        let next = self.heads.insert(key, i).unwrap_or(NONE);
        self.postings.push(Posting {
            at,
            story,
            key,
            next,
        });
    }

    /// The group transaction committed: its postings stay.
    pub(super) fn commit(&mut self) {
        self.committed = self.postings.len();
        self.source_start = self.committed;
    }

    /// The group transaction rolled back: forget what it staged.
    pub(super) fn rollback(&mut self) {
        self.truncate(self.committed);
        self.source_start = self.committed;
    }

    /// A source's save begins (inside the group).
    pub(super) fn begin_source(&mut self) {
        self.source_start = self.postings.len();
    }

    /// The source's savepoint rolled back: forget what it staged, keep the group's.
    pub(super) fn rollback_source(&mut self) {
        self.truncate(self.source_start);
    }

    fn truncate(&mut self, len: usize) {
        while self.postings.len() > len {
            let p = self.postings.pop().expect("longer than len");
            if p.next == NONE {
                self.heads.remove(&p.key);
            } else {
                self.heads.insert(p.key, p.next);
            }
        }
    }

    /// Loads (or, grown too full, reloads) the filter of keys in the main index.
    pub(super) fn ensure_filter(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if self.filter.as_ref().is_none_or(KeyFilter::overfull) {
            self.filter = Some(KeyFilter::load(conn)?);
        }
        Ok(())
    }

    /// Whether the main index may hold postings under `key` (true when unsure).
    pub(super) fn may_hold(&self, key: u32) -> bool {
        self.filter.as_ref().is_none_or(|f| f.may_hold(key))
    }

    /// Whether enough is staged to be worth a sorted move.
    pub(super) fn full(&self) -> bool {
        self.postings.len() >= FLUSH_AT
    }

    fn clear(&mut self) {
        // Shrunk, not only cleared: a daemon holds this between bursts.
        self.postings = Vec::new();
        self.heads = HashMap::new();
        self.committed = 0;
        self.source_start = 0;
    }
}

/// Deletes the main-index postings of entries given as (story, dedup date, fingerprint),
/// recomputing their anchors; staged postings must have been moved first.
pub(super) fn delete_postings(
    tx: &Connection,
    engine: &Dedup,
    entries: &[(Option<i64>, i64, &[u8])],
) -> rusqlite::Result<()> {
    let mut keys: HashSet<(u32, i64, i64)> = HashSet::new();
    for &(story, at, blob) in entries {
        if let (Some(story), Some(fp)) = (story, Fingerprint::from_bytes(blob)) {
            for k in engine.keys(None, &fp).anchors {
                keys.insert((k, at, story));
            }
        }
    }
    let mut del =
        tx.prepare_cached("DELETE FROM dedup_anchors WHERE key = ?1 AND at = ?2 AND story = ?3")?;
    for (k, at, story) in &keys {
        del.execute(params![k, at, story])?;
    }
    Ok(())
}

/// The keys of every staged posting (this process's and any other's).
fn staged_keys(conn: &Connection) -> rusqlite::Result<Vec<u32>> {
    conn.prepare_cached("SELECT key FROM dedup_anchors_new")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Moves every staged posting (this process's and any other's) into the main index, sorted,
/// in one transaction.
fn move_staged(conn: &Connection) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(
        "INSERT OR IGNORE INTO dedup_anchors (key, at, story)
             SELECT key, at, story FROM dedup_anchors_new ORDER BY key, at, story;
         DELETE FROM dedup_anchors_new;",
    )?;
    tx.commit()
}

impl Store {
    /// Before the first dedup write of this connection: reloads staged postings, and
    /// rebuilds the whole index when it was built by another anchor scheme.
    pub(super) fn prepare_anchors(&mut self, engine: &Dedup) -> Result<(), StoreError> {
        if self.anchors.ready {
            return Ok(());
        }
        self.settle()?;
        let scheme = engine.anchor_scheme();
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM dedup_meta WHERE name = 'anchor_scheme'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if stored.as_deref() != Some(scheme.as_str()) {
            self.rebuild_anchors(engine, &scheme)
                .map_err(|e| self.err(e))?;
        }
        self.anchors.clear();
        self.anchors.filter = None;
        let rows: Vec<(u32, i64, i64)> = self
            .conn
            .prepare("SELECT key, at, story FROM dedup_anchors_new ORDER BY seq")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(|e| self.err(e))?;
        for (key, at, story) in rows {
            self.anchors.push(key, at, story);
        }
        self.anchors.ready = true;
        Ok(())
    }

    /// Recomputes every in-window entry's postings from its stored fingerprint.
    fn rebuild_anchors(&self, engine: &Dedup, scheme: &str) -> rusqlite::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute_batch(
            "DELETE FROM dedup_anchors; DELETE FROM dedup_anchors_new;
             UPDATE entries SET anchor_story = story_id WHERE fingerprint IS NOT NULL;",
        )?;
        {
            let mut read = tx.prepare(
                "SELECT story_id, dedup_at, fingerprint FROM entries
                 WHERE fingerprint IS NOT NULL AND story_id IS NOT NULL AND dedup_at IS NOT NULL",
            )?;
            let mut ins =
                tx.prepare("INSERT INTO dedup_anchors_new (key, at, story) VALUES (?1, ?2, ?3)")?;
            let mut rows = read.query([])?;
            while let Some(r) = rows.next()? {
                let (story, at, blob): (i64, i64, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
                if let Some(fp) = Fingerprint::from_bytes(&blob) {
                    for k in engine.keys(None, &fp).anchors {
                        ins.execute(params![k, at, story])?;
                    }
                }
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO dedup_meta (name, value) VALUES ('anchor_scheme', ?1)",
            [scheme],
        )?;
        tx.commit()?;
        move_staged(&self.conn)
    }

    /// Every posting in the main index, under the engine's scheme: what deleting postings
    /// by their recomputed keys (expiry, retention) needs first.
    pub(super) fn settle_anchors(&mut self, engine: &Dedup) -> Result<(), StoreError> {
        self.prepare_anchors(engine)?;
        self.flush_anchors()
    }

    /// Moves staged candidate-index postings into the main index.
    ///
    /// Why public: benchmarks and tools that hand the store back and forth call it; the
    /// daemon's upkeep does it through expiry, and a writer does it when dropped (the end of a
    /// one-shot `fetch`), so the staging table stays small between restarts.
    pub fn flush_anchors(&mut self) -> Result<(), StoreError> {
        self.settle()?;
        let staged: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM dedup_anchors_new)", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        if staged {
            if self.anchors.filter.is_some() {
                // Every staged key, other processes' too, is about to be in the main index.
                let keys = staged_keys(&self.conn).map_err(|e| self.err(e))?;
                if let Some(filter) = self.anchors.filter.as_mut() {
                    keys.into_iter().for_each(|k| filter.add(k));
                }
            }
            move_staged(&self.conn).map_err(|e| self.err(e))?;
        }
        self.anchors.clear();
        Ok(())
    }
}

impl Store {
    /// Drops fingerprints and anchors dated before `before`, at most `batch` entries per
    /// call; returns how many entries it cleared.
    ///
    /// Why: only entries inside the merge window can be matched, so the candidate index
    /// stays the size of the window, not of the store; small batches keep the writer free.
    pub fn expire_fingerprints(
        &mut self,
        engine: &Dedup,
        before: i64,
        batch: usize,
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        // Expiry deletes postings by their keys: staged ones must be in place first.
        self.settle_anchors(engine)?;
        let tx = self.begin()?;
        let rows: Vec<(i64, Option<i64>, i64, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT id, coalesce(anchor_story, story_id), dedup_at, fingerprint FROM entries
                 WHERE fingerprint IS NOT NULL AND dedup_at < ?1
                 ORDER BY dedup_at LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![before, batch as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .map_err(err)?;
        let postings: Vec<(Option<i64>, i64, &[u8])> = rows
            .iter()
            .map(|(_, story, at, blob)| (*story, *at, blob.as_slice()))
            .collect();
        delete_postings(&tx, engine, &postings).map_err(err)?;
        {
            let mut clear = tx
                // The text hash is only looked up inside the window too: clearing it keeps
                // its index the size of the window, like the anchors.
                .prepare_cached(
                    "UPDATE entries SET fingerprint = NULL, text_hash = NULL WHERE id = ?1",
                )
                .map_err(err)?;
            for (id, ..) in &rows {
                clear.execute([id]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(rows.len())
    }

    /// Number of postings in the candidate index (for metrics, benchmarks and tests).
    pub fn anchor_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM dedup_anchors)
                      + (SELECT count(*) FROM dedup_anchors_new)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.settle() {
            tracing::warn!(error = %e, "could not commit the last saves; their sources will be fetched again");
        }
        if !self.anchors.postings.is_empty()
            && let Err(e) = self.flush_anchors()
        {
            tracing::warn!(error = %e, "could not move staged dedup postings; they stay staged");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{STORY, ingest, story_entry, temp_store};

    fn count(store: &Store, sql: &str) -> i64 {
        store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn chains_find_stories_in_the_window_and_rollback_forgets_the_transaction() {
        let mut b = AnchorBuffer::default();
        b.push(7, 100, 1);
        b.push(8, 100, 2);
        b.push(7, 200, 3);
        b.commit();
        b.push(7, 150, 4);
        let mut out = vec![0];
        b.lookup(7, 100, 160, 10, 1, &mut out);
        assert_eq!(out, [0, 4, 1], "newest first, only inside the dates");
        b.rollback();
        out.truncate(1);
        b.lookup(7, 0, 1000, 10, 1, &mut out);
        assert_eq!(out, [0, 3, 1]);
        out.truncate(1);
        b.lookup(7, 0, 1000, 1, 1, &mut out);
        assert_eq!(out, [0, 3], "capped");
        b.push(9, 1, 5);
        b.rollback();
        assert!(!b.heads.contains_key(&9));
        assert_eq!(b.postings.len(), 3);

        // Inside a group: a source's rollback keeps the earlier sources' postings, the
        // group's rollback drops them all.
        b.begin_source();
        b.push(9, 1, 6);
        b.begin_source();
        b.push(9, 1, 7);
        b.push(10, 1, 8);
        b.rollback_source();
        out.truncate(1);
        b.lookup(9, 0, 1000, 10, 1, &mut out);
        assert_eq!(out, [0, 6]);
        assert!(!b.heads.contains_key(&10));
        b.rollback();
        assert!(!b.heads.contains_key(&9));
        assert_eq!(b.postings.len(), 3);
    }

    #[test]
    fn the_key_filter_follows_postings_into_the_main_index() {
        let (dir, mut store) = temp_store();
        let copy = |guid: &str, outlet: &str, paragraphs: &[&str]| {
            story_entry(guid, &format!("https://{outlet}/b"), paragraphs, 1)
        };
        // The filter is loaded from an empty index by the first story...
        ingest(&mut store, "a", &[copy("a", "a.example", &STORY)]);
        assert!(store.anchors.filter.is_some());
        // ...and learns the keys its writer moves into the index.
        store.flush_anchors().unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM dedup_anchors_new"), 0);
        let c = ingest(&mut store, "b", &[copy("b", "b.example", &STORY[..2])]);
        assert_eq!((c.stories_new, c.merged), (0, 1), "found in the main index");

        // A new writer loads it from the index; another story's probes are skipped.
        drop(store);
        let mut store = Store::open(&dir.path().join("sub/w.db")).unwrap();
        let other = [
            "A different report about a fire at a warehouse near the river, written by \
             another reporter for another paper, with none of the same sentences at all.",
        ];
        ingest(&mut store, "c", &[copy("c", "c.example", &other)]);
        let c = ingest(&mut store, "d", &[copy("d", "d.example", &STORY[1..])]);
        assert_eq!((c.stories_new, c.merged), (0, 1), "found after a reload");
        assert_eq!(store.story_count().unwrap(), 2);
    }

    #[test]
    fn staged_postings_survive_a_crash_and_still_find_the_copy() {
        let (dir, mut store) = temp_store();
        ingest(
            &mut store,
            "wire",
            &[story_entry("w1", "https://wire.example/bridge", &STORY, 0)],
        );
        assert_eq!(count(&store, "SELECT count(*) FROM dedup_anchors"), 0);
        let staged = count(&store, "SELECT count(*) FROM dedup_anchors_new");
        assert!(staged > 0);
        // A crash: the writer never gets to move its staged postings.
        std::mem::forget(store);
        let mut store = Store::open(&dir.path().join("sub/w.db")).unwrap();
        let copy = story_entry("p1", "https://paper.example/b?id=9", &STORY[..2], 3);
        let c = ingest(&mut store, "paper", &[copy]);
        assert_eq!(
            (c.stories_new, c.merged),
            (0, 1),
            "found through the staged postings"
        );
        // A clean close moves everything into the main index.
        drop(store);
        let store = Store::open(&dir.path().join("sub/w.db")).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM dedup_anchors_new"), 0);
        assert!(count(&store, "SELECT count(*) FROM dedup_anchors") >= staged);
    }

    #[test]
    fn another_anchor_scheme_rebuilds_the_index_so_expiry_still_empties_it() {
        let (dir, mut store) = temp_store();
        ingest(
            &mut store,
            "wire",
            &[story_entry("w1", "https://wire.example/bridge", &STORY, 0)],
        );
        store.flush_anchors().unwrap();
        // As if an older wirefeed, selecting anchors differently, had built the index.
        store
            .conn
            .execute_batch(
                "UPDATE dedup_meta SET value = 'older scheme';
                 INSERT INTO dedup_anchors (key, at, story) VALUES (1, 0, 999);",
            )
            .unwrap();
        drop(store);
        let mut store = Store::open(&dir.path().join("sub/w.db")).unwrap();
        let copy = story_entry("p1", "https://paper.example/b", &STORY[..2], 3);
        assert_eq!(ingest(&mut store, "paper", &[copy]).merged, 1);
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM dedup_anchors WHERE story = 999"
            ),
            0
        );
        let engine = Dedup::new(Default::default());
        store.expire_fingerprints(&engine, i64::MAX, 100).unwrap();
        assert_eq!(store.anchor_count().unwrap(), 0);
    }
}
