//! The story queries: what feeds publish, and what `wirefeed stories` lists.
//!
//! Why apart from placement (`stories`): reads and writes of stories change for different
//! reasons; this side only reads, through the reader connection.

use std::collections::HashSet;

use rusqlite::OptionalExtension;

use super::{Store, StoreError, from_ts};
use crate::model::{RevisionInfo, StoredEntry, StoredStory, StoryListing, StoryMember};

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
        let mut revisions = self.all_revisions()?;
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
                let first = RevisionInfo {
                    revision: 1,
                    at: rfc(published),
                    added: 0,
                    changed: 0,
                    removed: 0,
                };
                let later = revisions.remove(&id).unwrap_or_default();
                out.push(StoryListing {
                    id: public_id,
                    title,
                    published: rfc(published),
                    updated: rfc(updated.max(published)),
                    entries: Vec::new(),
                    revisions: std::iter::once(first)
                        .chain(later.into_iter().map(|r| RevisionInfo {
                            revision: r.revision,
                            at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            added: r.added.len(),
                            changed: r.changed.len(),
                            removed: r.removed.len(),
                        }))
                        .collect(),
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
