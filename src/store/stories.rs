//! Stories: placing new and edited entries (the dedup engine decides, this file writes),
//! the candidate index, and the queries feeds and `wirefeed stories` read.
//!
//! Why placement runs inside the ingest transaction: an entry and its story are written
//! together, so a crash can never leave an entry without a story, and two ingests never
//! race to open the same story twice (the single writer serialises them).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::anchors::AnchorBuffer;
use super::{Store, StoreError, from_ts, to_ts};
use crate::dedup::{Decision, Dedup, Fingerprint, Keys, Member, NewEntry, StoryStore};
use crate::model::{
    CleanEntry, EntryChange, Placement, StoredEntry, StoredStory, StoryListing, StoryMember,
};

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

    fn members(&mut self, story: i64, max: usize) -> rusqlite::Result<Vec<Member>> {
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

/// Places a new or edited entry (already upserted as row `id`) into a story.
#[allow(clippy::too_many_arguments)]
pub(super) fn place(
    tx: &Connection,
    staged: &mut AnchorBuffer,
    step: &DedupStep<'_>,
    id: i64,
    source: &str,
    e: &CleanEntry,
    change: EntryChange,
    now: i64,
) -> rusqlite::Result<Placement> {
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
        tx.prepare_cached(
            "UPDATE stories SET
                representative = CASE WHEN ?2 THEN ?3 ELSE representative END,
                updated = CASE WHEN ?4 THEN max(updated, ?5) ELSE updated END,
                revisions = revisions + ?4
             WHERE id = ?1",
        )?
        .execute(params![
            story,
            rev.representative_changed,
            id,
            rev.substantive_change,
            changed_at(e, now)
        ])?;
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
            substantive_change,
            representative_changed,
            ..
        } => {
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
            fingerprint = ?6
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

/// Which stories a published feed carries.
pub struct StoryQuery<'a> {
    /// Source names: a story is in the feed when any of its members is from one of them.
    pub sources: &'a [String],
    pub limit: usize,
    /// Which stories count towards `limit` (a feed's keyword, language and outlet filters).
    pub keep: &'a dyn Fn(&StoredStory) -> bool,
}

impl std::fmt::Debug for StoryQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoryQuery")
            .field("sources", &self.sources)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The newest stories carried by the given sources, newest first, each with its
    /// representative version (from those sources when the chosen one is not) and
    /// every other outlet that ran it.
    pub fn stories(&self, q: &StoryQuery<'_>) -> Result<Vec<StoredStory>, StoreError> {
        if q.sources.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let names = serde_json::to_string(q.sources).expect("strings serialise");
        let wanted: HashSet<&str> = q.sources.iter().map(String::as_str).collect();
        // Walk the sources' entries newest first until `limit` distinct stories pass the
        // filter: the cost follows the feed's size, not the store's.
        let mut out = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT e.story_id FROM entries e
                     WHERE e.source_id IN (SELECT id FROM sources
                                           WHERE name IN (SELECT value FROM json_each(?1)))
                       AND e.story_id IS NOT NULL
                     ORDER BY e.sort_time DESC, e.id DESC",
                )
                .map_err(|e| self.err(e))?;
            let mut rows = stmt.query([&names]).map_err(|e| self.err(e))?;
            let mut seen = HashSet::new();
            let cap = super::entries::scan_cap(q.limit);
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let id: i64 = r.get(0).map_err(|e| self.err(e))?;
                if !seen.insert(id) {
                    continue;
                }
                if let Some(s) = self.story(id, &wanted)?
                    && (q.keep)(&s)
                {
                    out.push(s);
                    if out.len() >= q.limit {
                        break;
                    }
                }
                if seen.len() >= cap {
                    break;
                }
            }
        }
        out.sort_by(|a, b| {
            (b.entry.published, &b.entry.public_id).cmp(&(a.entry.published, &a.entry.public_id))
        });
        Ok(out)
    }

    pub(super) fn story(
        &self,
        id: i64,
        wanted: &HashSet<&str>,
    ) -> Result<Option<StoredStory>, StoreError> {
        let head: Option<(String, i64, i64, i64, u32)> = self
            .conn
            .prepare_cached(
                "SELECT public_id, representative, published, updated, revisions
                 FROM stories WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(|e| self.err(e))?;
        let Some((public_id, rep, published, updated, revisions)) = head else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.id, s.name, s.feed_title, s.feed_self, e.url, e.title, e.author,
                        e.summary, e.content, e.categories, e.guid,
                        length(coalesce(e.content, e.summary, '')), s.feed_language, s.feed_link,
                        e.media
                 FROM entries e JOIN sources s ON s.id = e.source_id
                 WHERE e.story_id = ?1 ORDER BY e.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                let cats: String = r.get(9)?;
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(11)?,
                    r.get::<_, String>(10)?,
                    StoredEntry {
                        public_id: public_id.clone(),
                        source_name: r.get(1)?,
                        source_title: r.get(2)?,
                        source_url: r.get(3)?,
                        source_site: r.get(13)?,
                        link: r.get(4)?,
                        title: r.get(5)?,
                        author: r.get(6)?,
                        summary: r.get(7)?,
                        content: r.get(8)?,
                        categories: serde_json::from_str(&cats).unwrap_or_default(),
                        published: from_ts(published),
                        updated: from_ts(updated.max(published)),
                        language: r.get(12)?,
                        media: crate::model::EntryMedia::from_json(
                            r.get::<_, Option<String>>(14)?.as_deref(),
                        ),
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        let members: Vec<(i64, i64, String, StoredEntry)> =
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        // The story's representative, unless it comes from a source outside this feed:
        // then the most complete member from the feed's own sources, the latest on a tie
        // (the rule the engine and retention use too).
        let in_feed =
            |m: &&(i64, i64, String, StoredEntry)| wanted.contains(m.3.source_name.as_str());
        let chosen = members
            .iter()
            .find(|m| m.0 == rep && in_feed(m))
            .or_else(|| members.iter().filter(in_feed).max_by_key(|m| (m.1, m.0)))
            .map(|m| m.0);
        let Some(chosen) = chosen else {
            return Ok(None);
        };
        let mut entry: Option<StoredEntry> = None;
        let mut others = Vec::new();
        // Files and pictures another outlet's copy carries, for a representative without
        // any (one outlet runs the wire photo, another the longer text).
        let mut spare_media = None;
        for (mid, _, guid, e) in members {
            if mid == chosen {
                entry = Some(e);
            } else {
                if spare_media.is_none() && !e.media.is_empty() {
                    spare_media = Some(e.media.clone());
                }
                others.push(StoryMember {
                    source: e.source_name,
                    url: e.link,
                    guid,
                });
            }
        }
        if let (Some(e), Some(m)) = (entry.as_mut(), spare_media)
            && e.media.is_empty()
        {
            e.media = m;
        }
        Ok(entry.map(|entry| StoredStory {
            entry,
            others,
            revisions,
        }))
    }

    /// Every story with all its members, newest first, for `wirefeed stories`.
    pub fn story_listing(&self) -> Result<Vec<StoryListing>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT st.id, st.public_id, r.title, st.published, st.updated,
                        s.name, e.url, e.guid
                 FROM stories st JOIN entries r ON r.id = st.representative
                      JOIN entries e ON e.story_id = st.id
                      JOIN sources s ON s.id = e.source_id
                 ORDER BY st.published DESC, st.id DESC, e.id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out: Vec<StoryListing> = Vec::new();
        let mut last = None;
        let rfc = |t: i64| from_ts(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get = |r: &rusqlite::Row<'_>| -> rusqlite::Result<_> {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    StoryMember {
                        source: r.get(5)?,
                        url: r.get(6)?,
                        guid: r.get(7)?,
                    },
                ))
            };
            let (id, public_id, title, published, updated, member) =
                get(r).map_err(|e| self.err(e))?;
            if last != Some(id) {
                last = Some(id);
                out.push(StoryListing {
                    id: public_id,
                    title,
                    published: rfc(published),
                    updated: rfc(updated.max(published)),
                    entries: Vec::new(),
                });
            }
            out.last_mut().expect("pushed").entries.push(member);
        }
        Ok(out)
    }

    /// Number of stories stored (for reports and tests).
    pub fn story_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM stories", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}
