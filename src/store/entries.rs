//! Entries: insert-or-update per (source, guid), and the queries feeds are built from.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::learned::write_blocks;
use super::pages::write_pages;
use super::sources::{FetchLog, write_state};
use super::stories::{DedupStep, Placing, place, refingerprint};
use super::{Store, StoreError, from_ts, to_ts};
use crate::model::{
    BlockStats, CleanEntry, EntryChange, EntryMedia, FeedMeta, IngestCounts, Page, SourceState,
    StoredEntry, StoredStory,
};

/// Which entries a published feed carries.
#[derive(Clone)]
pub struct EntryQuery<'a> {
    /// Source names; empty means none (a feed always names its sources after config resolution).
    pub sources: &'a [String],
    pub limit: usize,
    /// Which entries count towards `limit` (a feed's keyword, language and outlet filters).
    pub keep: &'a dyn Fn(&StoredStory) -> bool,
}

impl std::fmt::Debug for EntryQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryQuery")
            .field("sources", &self.sources)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// The columns [`entry_at`] reads, over `entries e JOIN sources s`.
pub(super) const ENTRY_COLUMNS: &str = "e.public_id, s.name, s.feed_title, s.feed_self, e.url,
    e.title, e.author, e.summary, e.content, e.categories, e.sort_time,
    coalesce(e.updated, e.last_changed), s.feed_language, s.feed_link, e.media";

/// One entry as published on its own (a feed without dedup), from [`ENTRY_COLUMNS`]
/// starting at column `at`.
pub(super) fn entry_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<StoredEntry> {
    let cats: String = r.get(at + 9)?;
    let published = from_ts(r.get(at + 10)?);
    Ok(StoredEntry {
        public_id: r.get(at)?,
        source_name: r.get(at + 1)?,
        source_title: r.get(at + 2)?,
        source_url: r.get(at + 3)?,
        source_site: r.get(at + 13)?,
        link: r.get(at + 4)?,
        title: r.get(at + 5)?,
        author: r.get(at + 6)?,
        summary: r.get(at + 7)?,
        content: r.get(at + 8)?,
        categories: serde_json::from_str(&cats).unwrap_or_default(),
        published,
        updated: from_ts(r.get(at + 11)?).max(published),
        language: r.get(at + 12)?,
        media: EntryMedia::from_json(r.get::<_, Option<String>>(at + 14)?.as_deref()),
    })
}

/// How many entries or stories a filtered query examines at most: a filter that matches
/// almost nothing must not make one request read the whole store.
pub(super) fn scan_cap(limit: usize) -> usize {
    limit.saturating_mul(20).max(5000)
}

/// Hash of everything a reader sees, to tell "unchanged" without comparing text.
fn content_hash(e: &CleanEntry) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for part in [
        Some(e.title.as_str()),
        e.link.as_deref(),
        e.author.as_deref(),
        e.summary.as_deref(),
        e.content.as_deref(),
        e.agency.as_deref(),
        e.dateline.as_deref(),
        e.byline.as_deref(),
    ] {
        h.update(part.unwrap_or("").as_bytes());
        h.update(b"\0");
    }
    for c in &e.categories {
        h.update(c.as_bytes());
        h.update(b"\x1f");
    }
    for t in [e.published, e.updated] {
        h.update(&t.map(to_ts).unwrap_or(i64::MIN).to_le_bytes());
    }
    // Only when there is any: entries stored before media were kept hash as they did.
    if let Some(media) = e.media.to_json() {
        h.update(b"\0media\0");
        h.update(media.as_bytes());
    }
    *h.finalize().as_bytes()
}

/// A stable, opaque public id: a UUID (version 8, "custom") derived from source and guid.
fn public_id(source: &str, guid: &str) -> String {
    let h = blake3::hash(format!("{source}\0{guid}").as_bytes());
    let mut b: [u8; 16] = h.as_bytes()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Everything one fetch of one source wants stored, written in one transaction.
#[derive(Debug, Clone)]
pub struct FetchSave<'a> {
    /// The source's new state (validators, schedule, errors, moves).
    pub state: &'a SourceState,
    pub log: FetchLog,
    /// The parsed and cleaned document, when a body was read.
    pub feed: Option<(&'a FeedMeta, &'a [CleanEntry])>,
    /// Whether the state differs from what is stored in a way worth writing. When it does
    /// not, and no entry changed, nothing at all is written: a poll that finds nothing new
    /// costs no disk writes.
    pub state_changed: bool,
    /// Learned-boilerplate statistics that changed.
    pub learned: &'a [BlockStats],
    /// Stored entries re-cleaned because a block was just learned.
    pub rewrites: &'a [CleanEntry],
    /// Article pages fetched for a full-text source.
    pub pages: &'a [Page],
    /// How new and edited entries are placed into stories.
    pub dedup: &'a DedupStep<'a>,
}

impl Store {
    /// Stores one fetch: entries, state and log row, all or nothing.
    pub fn save_fetch(
        &mut self,
        source: &str,
        url: &str,
        save: &FetchSave<'_>,
    ) -> Result<IngestCounts, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        };
        // Settles a group left open for this save before it can fail.
        self.prepare_anchors(save.dedup.engine)?;
        self.join_group()?;
        self.anchors.begin_source();
        let staged = &mut self.anchors;
        let saved = Store::save_in_tx(&mut self.conn, staged, source, url, save).map_err(err);
        if saved.is_err() {
            self.anchors.rollback_source();
        }
        let settled = self.after_save();
        if self.anchors.full()
            && let Err(e) = self.flush_anchors()
        {
            // The postings stay staged (and found); the next flush retries.
            tracing::warn!(error = %e, "could not move staged dedup postings");
        }
        let counts = saved?;
        settled.map(|()| counts)
    }

    fn save_in_tx(
        conn: &mut rusqlite::Connection,
        staged: &mut super::anchors::AnchorBuffer,
        source: &str,
        url: &str,
        save: &FetchSave<'_>,
    ) -> rusqlite::Result<IngestCounts> {
        // A savepoint inside the group transaction (see `group`): this source alone rolls
        // back on error.
        let tx = conn.savepoint()?;
        let source_id = Store::source_id(&tx, source, url)?;
        let mut counts = IngestCounts::default();
        if let Some((meta, entries)) = save.feed {
            let podcast = meta.podcast.as_ref().map(crate::model::Podcast::to_json);
            tx.prepare_cached(
                "UPDATE sources SET feed_title = ?2, feed_link = ?3, feed_language = ?4,
                        feed_self = ?5, feed_podcast = ?6
                 WHERE id = ?1
                   AND (feed_title IS NOT ?2 OR feed_link IS NOT ?3 OR feed_language IS NOT ?4
                        OR feed_self IS NOT ?5 OR feed_podcast IS NOT ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    source_id,
                    meta.title,
                    meta.link,
                    meta.language,
                    meta.self_link,
                    podcast
                ])
            })?;
            let now = Utc::now().timestamp();
            // Oldest first, so that entry ids follow publication: feeds list newest first,
            // and ids order undated entries on the page and a feed's archive pages.
            let mut order: Vec<&CleanEntry> = entries.iter().rev().collect();
            order.sort_by_key(|e| e.published);
            for e in order {
                let (change, id, before) = upsert(&tx, source_id, source, e, now)?;
                counts.record(change);
                if change != EntryChange::Unchanged {
                    let placed = place(
                        &tx,
                        staged,
                        save.dedup,
                        Placing {
                            id,
                            source,
                            entry: e,
                            before: before.as_ref(),
                            change,
                            now,
                        },
                    )?;
                    counts.record_story(placed);
                }
            }
        }
        let now = Utc::now().timestamp();
        for e in save.rewrites {
            let (change, id, _) = upsert(&tx, source_id, source, e, now)?;
            if change == EntryChange::Updated {
                counts.updated += 1;
                refingerprint(&tx, staged, save.dedup, id, e)?;
            }
        }
        write_blocks(&tx, source, save.learned)?;
        write_pages(&tx, save.pages)?;
        if save.state_changed || counts.changed() {
            let mut log = save.log.clone();
            if save.feed.is_some() {
                log.outcome = if counts.new > 0 {
                    "new"
                } else if counts.updated > 0 {
                    "updated"
                } else {
                    "unchanged"
                }
                .into();
            }
            let mut state = save.state.clone();
            state.last_outcome = Some(log.outcome.clone());
            write_state(&tx, source_id, &state, &log, (counts.new, counts.updated))?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// The newest entries of the given sources, newest first.
    pub fn entries(&self, q: &EntryQuery<'_>) -> Result<Vec<StoredStory>, StoreError> {
        if q.sources.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let names = serde_json::to_string(q.sources).expect("strings serialise");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS}
                 FROM entries e JOIN sources s ON s.id = e.source_id
                 WHERE s.name IN (SELECT value FROM json_each(?1))
                 ORDER BY e.sort_time DESC, e.id DESC"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![names], |r| entry_at(r, 0))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows.take(scan_cap(q.limit)) {
            let story = StoredStory::single(row.map_err(|e| self.err(e))?);
            if (q.keep)(&story) {
                out.push(story);
                if out.len() >= q.limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// A source's entries first seen since `since` (Unix seconds), as cleaned entries, for
    /// re-cleaning when a boilerplate block is learned.
    pub fn source_entries(&self, source: &str, since: i64) -> Result<Vec<CleanEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.guid, e.url, e.title, e.author, e.summary, e.content, e.categories,
                        e.published, e.updated, e.agency, e.dateline, e.byline, e.media
                 FROM entries e JOIN sources s ON s.id = e.source_id
                 WHERE s.name = ?1 AND e.first_seen >= ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source, since], |r| {
                let cats: String = r.get(6)?;
                Ok(CleanEntry {
                    guid: r.get(0)?,
                    link: r.get(1)?,
                    title: r.get(2)?,
                    author: r.get(3)?,
                    summary: r.get(4)?,
                    content: r.get(5)?,
                    categories: serde_json::from_str(&cats).unwrap_or_default(),
                    published: r.get::<_, Option<i64>>(7)?.map(from_ts),
                    updated: r.get::<_, Option<i64>>(8)?.map(from_ts),
                    agency: r.get(9)?,
                    dateline: r.get(10)?,
                    byline: r.get(11)?,
                    media: EntryMedia::from_json(r.get::<_, Option<String>>(12)?.as_deref()),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// How many entries a source has stored (for reports and tests).
    pub fn entry_count(&self, source: Option<&str>) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM entries e JOIN sources s ON s.id = e.source_id
                 WHERE ?1 IS NULL OR s.name = ?1",
                [source],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}

/// Inserts or updates one entry; returns what happened and the entry's row id.
fn upsert(
    tx: &rusqlite::Connection,
    source_id: i64,
    source: &str,
    e: &CleanEntry,
    now: i64,
) -> rusqlite::Result<(EntryChange, i64, Option<CleanEntry>)> {
    let hash = content_hash(e);
    let existing: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT id, content_hash FROM entries WHERE source_id = ?1 AND guid = ?2")?
        .query_row(params![source_id, e.guid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let categories = serde_json::to_string(&e.categories).expect("strings serialise");
    let published = e.published.map(to_ts);
    let updated = e.updated.map(to_ts);
    let media = e.media.to_json();
    let fields: [(&str, &dyn rusqlite::ToSql); 13] = [
        (":url", &e.link),
        (":title", &e.title),
        (":author", &e.author),
        (":summary", &e.summary),
        (":content", &e.content),
        (":categories", &categories),
        (":published", &published),
        (":updated", &updated),
        (":hash", &hash.as_slice()),
        (":agency", &e.agency),
        (":dateline", &e.dateline),
        (":byline", &e.byline),
        (":media", &media),
    ];
    let run = |sql: &str, key: &[(&str, &dyn rusqlite::ToSql)]| -> rusqlite::Result<()> {
        let mut all: Vec<(&str, &dyn rusqlite::ToSql)> = fields.to_vec();
        all.extend_from_slice(key);
        all.push((":now", &now));
        tx.prepare_cached(sql)?.execute(all.as_slice())?;
        Ok(())
    };
    match existing {
        Some((id, old)) if old == hash => Ok((EntryChange::Unchanged, id, None)),
        Some((id, _)) => {
            // The text as it was, for the story's "what changed" (read only when it changed).
            let before = tx
                .prepare_cached("SELECT title, summary, content FROM entries WHERE id = ?1")?
                .query_row([id], |r| {
                    Ok(CleanEntry {
                        guid: e.guid.clone(),
                        title: r.get(0)?,
                        summary: r.get(1)?,
                        content: r.get(2)?,
                        ..CleanEntry::default()
                    })
                })?;
            run(
                "UPDATE entries SET url = :url, title = :title, author = :author,
                    summary = :summary, content = :content, categories = :categories,
                    published = :published, updated = :updated, content_hash = :hash,
                    last_changed = :now, sort_time = coalesce(:published, first_seen),
                    agency = :agency, dateline = :dateline, byline = :byline, media = :media
                 WHERE id = :id",
                &[(":id", &id)],
            )?;
            Ok((EntryChange::Updated, id, Some(before)))
        }
        None => {
            // Pruned by retention while its feed still carries it: not new again.
            let pruned = tx
                .prepare_cached("SELECT 1 FROM pruned WHERE source_id = ?1 AND guid = ?2")?
                .exists(params![source_id, e.guid])?;
            if pruned {
                return Ok((EntryChange::Unchanged, 0, None));
            }
            let public = public_id(source, &e.guid);
            run(
                "INSERT INTO entries (source_id, guid, public_id, url, title, author, summary,
                    content, categories, published, updated, content_hash, first_seen,
                    last_changed, sort_time, agency, dateline, byline, media)
                 VALUES (:source, :guid, :public, :url, :title, :author, :summary, :content,
                    :categories, :published, :updated, :hash, :now, :now,
                    coalesce(:published, :now), :agency, :dateline, :byline, :media)",
                &[
                    (":source", &source_id),
                    (":guid", &e.guid),
                    (":public", &public),
                ],
            )?;
            Ok((EntryChange::New, tx.last_insert_rowid(), None))
        }
    }
}

#[cfg(test)]
pub(super) fn public_id_for_test(source: &str, guid: &str) -> String {
    public_id(source, guid)
}
