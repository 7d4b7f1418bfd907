//! Stories: placing new and edited entries (the dedup engine decides, this file writes),
//! the candidate index, and the queries feeds and `wirefeed stories` read.
//!
//! Why placement runs inside the ingest transaction: an entry and its story are written
//! together, so a crash can never leave an entry without a story, and two ingests never
//! race to open the same story twice (the single writer serialises them).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::anchors::AnchorBuffer;
use super::merges;
use super::to_ts;
use crate::dedup::{Decision, Dedup, Fingerprint, Keys, Member, NewEntry, StoryStore};
use crate::model::{CleanEntry, EntryChange, Placement};

/// What the store needs to place entries into stories.
///
/// Why a function for the fingerprint: it needs the cleaning stage's block splitter,
/// which the store must not depend on. The store asks only for entries that are new or
/// changed; a caller may answer from fingerprints it computed before taking the writer,
/// so that the single writer does not do work that parallelises.
pub struct DedupStep<'a> {
    /// The engine with the configured thresholds.
    pub engine: &'a Dedup,
    /// The fingerprint of a cleaned entry's title and text.
    pub fingerprint: &'a dyn Fn(&CleanEntry) -> Fingerprint,
    /// The text paragraphs of a cleaned entry (the blocks its fingerprint is made of): what
    /// a revision's "what changed" lists.
    pub paragraphs: &'a dyn Fn(&CleanEntry) -> Vec<String>,
}

impl std::fmt::Debug for DedupStep<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupStep")
            .field("engine", self.engine)
            .finish_non_exhaustive()
    }
}

/// The engine's read access, over the ingest transaction.
struct TxStories<'a> {
    tx: &'a Connection,
    staged: &'a AnchorBuffer,
}

impl StoryStore for TxStories<'_> {
    type Error = rusqlite::Error;

    fn story_by_url(&mut self, url_key: i64) -> rusqlite::Result<Option<i64>> {
        self.tx
            .prepare_cached(
                "SELECT story_id FROM entries
                 WHERE url_key = ?1 AND story_id IS NOT NULL LIMIT 1",
            )?
            .query_row([url_key], |r| r.get(0))
            .optional()
    }

    fn story_by_text(
        &mut self,
        hash: i64,
        since: i64,
        until: i64,
    ) -> rusqlite::Result<Option<i64>> {
        // `+dedup_at`: a bound range on an indexed column makes SQLite (with STAT4)
        // re-prepare the statement for every new pair of values; the equality on
        // `text_hash` already narrows the rows to a handful.
        self.tx
            .prepare_cached(
                "SELECT story_id FROM entries
                 WHERE text_hash = ?1 AND +dedup_at BETWEEN ?2 AND ?3 AND story_id IS NOT NULL
                 LIMIT 1",
            )?
            .query_row(params![hash, since, until], |r| r.get(0))
            .optional()
    }

    fn anchor_stories(
        &mut self,
        key: u32,
        since: i64,
        until: i64,
        cap: usize,
        out: &mut Vec<i64>,
    ) -> rusqlite::Result<()> {
        // The inner LIMIT bounds the rows read for a common phrase, whatever the index size
        // (expiry keeps the postings of a key mostly inside the window). `+at`: see
        // `story_by_text`.
        // The LIMIT is written into the SQL: a bound LIMIT makes SQLite re-prepare the
        // statement on every call (it was a quarter of ingest time).
        let start = out.len();
        self.postings(key, since, until, cap, out)?;
        // Postings keep naming a story another absorbed: read them as the survivor.
        for s in out.iter_mut().skip(start) {
            *s = merges::resolve(self.tx, *s)?;
        }
        let mut seen = HashSet::new();
        let mut i = start;
        out.retain(|s| {
            i += 1;
            i <= start || seen.insert(*s)
        });
        Ok(())
    }

    fn members(&mut self, story: i64, max: usize) -> rusqlite::Result<Vec<Member>> {
        self.members_of(story, max)
    }
}

impl TxStories<'_> {
    /// Stories posted under `key` in the window, as stored (perhaps absorbed since).
    fn postings(
        &mut self,
        key: u32,
        since: i64,
        until: i64,
        cap: usize,
        out: &mut Vec<i64>,
    ) -> rusqlite::Result<()> {
        if !self.staged.may_hold(key) {
            // No posting under this key in the main index: only the staged ones.
            self.staged.lookup(key, since, until, cap, out.len(), out);
            return Ok(());
        }
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT story FROM dedup_anchors WHERE key = ?1 AND +at BETWEEN ?2 AND ?3 LIMIT {}",
            cap * 4
        ))?;
        let mut rows = stmt.query(params![key, since, until])?;
        let start = out.len();
        while let Some(r) = rows.next()? {
            let story: i64 = r.get(0)?;
            if !out[start..].contains(&story) {
                out.push(story);
                if out.len() - start >= cap {
                    return Ok(());
                }
            }
        }
        self.staged.lookup(key, since, until, cap, start, out);
        Ok(())
    }

    fn members_of(&mut self, story: i64, max: usize) -> rusqlite::Result<Vec<Member>> {
        // A literal LIMIT: see `anchor_stories`.
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT e.id, s.name, e.fingerprint, e.id = st.representative
             FROM entries e JOIN sources s ON s.id = e.source_id
                  JOIN stories st ON st.id = e.story_id
             WHERE e.story_id = ?1 AND e.fingerprint IS NOT NULL
             ORDER BY e.id = st.representative DESC, e.id DESC
             LIMIT {max}"
        ))?;
        let rows = stmt.query_map(params![story], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (entry, source, blob, representative) = row?;
            if let Some(fingerprint) = Fingerprint::from_bytes(&blob) {
                out.push(Member {
                    entry,
                    source,
                    fingerprint,
                    representative,
                });
            }
        }
        Ok(out)
    }
}

/// The date an entry is placed by: its publication date (never in the future), else now.
fn dedup_at(e: &CleanEntry, now: i64) -> i64 {
    e.published.map(to_ts).unwrap_or(now).min(now)
}

/// When a change of this entry's text happened, for the story's `updated`.
fn changed_at(e: &CleanEntry, now: i64) -> i64 {
    e.updated.or(e.published).map(to_ts).unwrap_or(now).min(now)
}

/// One new or edited entry to place, already upserted as row `id`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placing<'a> {
    pub id: i64,
    pub source: &'a str,
    pub entry: &'a CleanEntry,
    /// Its text before this edit (an edit only).
    pub before: Option<&'a CleanEntry>,
    pub change: EntryChange,
    pub now: i64,
}

/// Places a new or edited entry (already upserted as row `id`) into a story.
pub(super) fn place(
    tx: &Connection,
    staged: &mut AnchorBuffer,
    step: &DedupStep<'_>,
    p: Placing<'_>,
) -> rusqlite::Result<Placement> {
    let Placing {
        id,
        source,
        entry: e,
        before,
        change,
        now,
    } = p;
    let engine = step.engine;
    if !engine.config().enabled && change == EntryChange::New {
        // Off: the entry is its own story, and nothing is computed or indexed for merging.
        tx.prepare_cached(
            "INSERT INTO stories (public_id, representative, published, updated, last_at)
             SELECT public_id, id, sort_time, max(sort_time, ?2), ?3 FROM entries
             WHERE id = ?1",
        )?
        .execute(params![id, changed_at(e, now), dedup_at(e, now)])?;
        tx.prepare_cached("UPDATE entries SET story_id = ?2 WHERE id = ?1")?
            .execute(params![id, tx.last_insert_rowid()])?;
        return Ok(Placement::NewStory);
    }
    let fp = (step.fingerprint)(e);
    let (story, old, at): (Option<i64>, Option<Vec<u8>>, Option<i64>) = tx
        .prepare_cached("SELECT story_id, fingerprint, dedup_at FROM entries WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let at = at.unwrap_or_else(|| dedup_at(e, now));
    if engine.config().enabled {
        staged.ensure_filter(tx)?;
    }
    let mut st = TxStories { tx, staged };
    if change == EntryChange::Updated
        && let Some(story) = story
    {
        let old = old.and_then(|b| Fingerprint::from_bytes(&b));
        if old.as_ref().is_some_and(|o| o == &fp) {
            return Ok(Placement::Edited { revised: false });
        }
        let rev = engine.revise(&mut st, story, id, old.as_ref(), &fp)?;
        // An edit in place is dated by the publisher's own `updated` when it moved past the
        // story's, else when wirefeed saw it: publishers rarely move their date for a
        // correction or an added paragraph, and readers must see the change.
        let moved = e.updated.map(|t| to_ts(t).min(now));
        tx.prepare_cached(
            "UPDATE stories SET
                representative = CASE WHEN ?2 THEN ?3 ELSE representative END,
                updated = CASE WHEN NOT ?4 THEN updated
                               WHEN ?6 > updated THEN ?6
                               ELSE max(updated, ?5) END,
                revisions = revisions + ?4
             WHERE id = ?1",
        )?
        .execute(params![
            story,
            rev.representative_changed,
            id,
            rev.substantive_change,
            now,
            moved
        ])?;
        if rev.substantive_change {
            let old_paras = before.map(|b| (step.paragraphs)(b)).unwrap_or_default();
            let diff = crate::dedup::paragraph_diff(&old_paras, &(step.paragraphs)(e));
            merges::record_revision(tx, story, id, None, &diff)?;
        }
        store_keys(tx, staged, engine, id, story, e, &fp, at)?;
        return Ok(Placement::Edited {
            revised: rev.substantive_change,
        });
    }
    let decision = engine.decide(
        &mut st,
        &NewEntry {
            entry: id,
            source,
            url: e.link.as_deref(),
            fingerprint: &fp,
            at,
        },
    )?;
    let (story, placed) = match decision {
        Decision::NewStory => {
            tx.prepare_cached(
                "INSERT INTO stories (public_id, representative, published, updated, last_at)
                 SELECT public_id, id, sort_time, max(sort_time, ?2), ?3 FROM entries
                 WHERE id = ?1",
            )?
            .execute(params![id, changed_at(e, now), at])?;
            (tx.last_insert_rowid(), Placement::NewStory)
        }
        Decision::Merge {
            story,
            absorb,
            substantive_change,
            representative_changed,
            ..
        } => {
            for gone in absorb {
                merges::absorb(tx, story, gone, now)?;
            }
            // The text the story had, for the revision's "what changed".
            let before_rep = if substantive_change {
                merges::representative_text(tx, story)?
            } else {
                None
            };
            tx.prepare_cached(
                "UPDATE stories SET
                    representative = CASE WHEN ?2 THEN ?3 ELSE representative END,
                    published = min(published, (SELECT sort_time FROM entries WHERE id = ?3)),
                    updated = CASE WHEN ?4 THEN max(updated, ?5) ELSE updated END,
                    revisions = revisions + ?4,
                    members = members + 1,
                    last_at = max(last_at, ?6)
                 WHERE id = ?1",
            )?
            .execute(params![
                story,
                representative_changed,
                id,
                substantive_change,
                changed_at(e, now),
                at
            ])?;
            if substantive_change {
                let old_paras = before_rep
                    .map(|b| (step.paragraphs)(&b))
                    .unwrap_or_default();
                let diff = crate::dedup::paragraph_diff(&old_paras, &(step.paragraphs)(e));
                merges::record_revision(tx, story, id, Some(changed_at(e, now)), &diff)?;
            }
            (
                story,
                Placement::Merged {
                    revised: substantive_change,
                },
            )
        }
    };
    store_keys(tx, staged, engine, id, story, e, &fp, at)?;
    Ok(placed)
}

/// Records an entry's story, lookup keys, fingerprint and anchors (the anchors staged: see
/// `store::anchors`). With dedup off, only the story and fingerprint (to tell a later edit
/// of the text from one of its metadata).
#[allow(clippy::too_many_arguments)]
fn store_keys(
    tx: &Connection,
    staged: &mut AnchorBuffer,
    engine: &Dedup,
    id: i64,
    story: i64,
    e: &CleanEntry,
    fp: &Fingerprint,
    at: i64,
) -> rusqlite::Result<()> {
    let keys = if engine.config().enabled {
        engine.keys(e.link.as_deref(), fp)
    } else {
        Keys::default()
    };
    tx.prepare_cached(
        "UPDATE entries SET story_id = ?2, url_key = ?3, text_hash = ?4, dedup_at = ?5,
            fingerprint = ?6, anchor_story = ?2
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        story,
        keys.url_key,
        keys.text_hash,
        at,
        fp.to_bytes()
    ])?;
    for k in keys.anchors {
        staged.stage(tx, k, at, story)?;
    }
    Ok(())
}

/// Re-fingerprints an entry whose stored text was re-cleaned (a block was learned):
/// not a change of the story, but its fingerprint must match what is now stored.
pub(super) fn refingerprint(
    tx: &Connection,
    staged: &mut AnchorBuffer,
    step: &DedupStep<'_>,
    id: i64,
    e: &CleanEntry,
) -> rusqlite::Result<()> {
    let row: Option<(i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT story_id, dedup_at FROM entries WHERE id = ?1 AND story_id IS NOT NULL",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((story, at)) = row {
        let fp = (step.fingerprint)(e);
        let at = at.unwrap_or_else(|| dedup_at(e, chrono::Utc::now().timestamp()));
        store_keys(tx, staged, step.engine, id, story, e, &fp, at)?;
    }
    Ok(())
}
