//! Stories joined after the fact, and a story's revisions.
//!
//! Why stories are joined: an entry that is a copy of two stories proves them one (had it
//! arrived first, they would have been one from the start), so the partition into stories
//! does not depend on arrival order. The older story (the lower id, created first) absorbs
//! the younger: it keeps its public id, dates and representative (the more complete of the
//! two), and takes the younger one's members. The absorbed story's row goes; its public id
//! is kept in `story_aliases`, so that whoever asks for it (`wirefeed story ID`, the
//! candidate index, whose postings still name it) gets the survivor. Published feeds list
//! each story once: the absorbed item is no longer in them, and its outlets appear among
//! the survivor's related links.

use rusqlite::{Connection, OptionalExtension, params};

use crate::dedup::ParagraphDiff;
use crate::model::{CleanEntry, StoryRevision};

/// The live story a story id (perhaps an absorbed one) stands for now.
pub(super) fn resolve(tx: &Connection, story: i64) -> rusqlite::Result<i64> {
    Ok(tx
        .prepare_cached("SELECT survivor FROM story_aliases WHERE story_id = ?1")?
        .query_row([story], |r| r.get(0))
        .optional()?
        .unwrap_or(story))
}

/// Moves every member of story `gone` into `survivor` and records the alias.
pub(super) fn absorb(tx: &Connection, survivor: i64, gone: i64, now: i64) -> rusqlite::Result<()> {
    if survivor == gone {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO story_aliases (story_id, public_id, survivor, merged_at)
         SELECT id, public_id, ?1, ?3 FROM stories WHERE id = ?2",
    )?
    .execute(params![survivor, gone, now])?;
    tx.prepare_cached("UPDATE story_aliases SET survivor = ?1 WHERE survivor = ?2")?
        .execute(params![survivor, gone])?;
    tx.prepare_cached("UPDATE entries SET story_id = ?1 WHERE story_id = ?2")?
        .execute(params![survivor, gone])?;
    // The representative: the more complete of the two (the rule of the engine and of
    // retention: the longer text, the later on a tie).
    tx.prepare_cached(
        "UPDATE stories SET
            published = min(published, (SELECT published FROM stories WHERE id = ?2)),
            updated = max(updated, (SELECT updated FROM stories WHERE id = ?2)),
            revisions = max(revisions, (SELECT revisions FROM stories WHERE id = ?2)),
            members = members + (SELECT members FROM stories WHERE id = ?2),
            last_at = max(last_at, (SELECT last_at FROM stories WHERE id = ?2)),
            representative = (
                SELECT e.id FROM entries e
                WHERE e.id IN (representative, (SELECT representative FROM stories WHERE id = ?2))
                ORDER BY length(coalesce(e.content, e.summary, '')) DESC, e.id DESC LIMIT 1)
         WHERE id = ?1",
    )?
    .execute(params![survivor, gone])?;
    tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?
        .execute([gone])?;
    Ok(())
}

/// The representative version's text, as the revision's "before".
pub(super) fn representative_text(
    tx: &Connection,
    story: i64,
) -> rusqlite::Result<Option<CleanEntry>> {
    tx.prepare_cached(
        "SELECT e.title, e.summary, e.content FROM stories s JOIN entries e
         ON e.id = s.representative WHERE s.id = ?1",
    )?
    .query_row([story], |r| {
        Ok(CleanEntry {
            title: r.get(0)?,
            summary: r.get(1)?,
            content: r.get(2)?,
            ..CleanEntry::default()
        })
    })
    .optional()
}

/// Records the story's latest revision (its `revisions` count, already bumped), dated `at`
/// or, without it, by the story's `updated`.
pub(super) fn record_revision(
    tx: &Connection,
    story: i64,
    entry: i64,
    at: Option<i64>,
    diff: &ParagraphDiff,
) -> rusqlite::Result<()> {
    let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
    tx.prepare_cached(
        "INSERT OR REPLACE INTO story_revisions
            (story_id, seq, at, entry_id, added, removed, changed)
         SELECT id, revisions, coalesce(?2, updated), ?3, ?4, ?5, ?6 FROM stories WHERE id = ?1",
    )?
    .execute(params![
        story,
        at,
        entry,
        json(&diff.added),
        json(&diff.removed),
        json(&diff.changed)
    ])?;
    Ok(())
}

impl super::Store {
    /// The live story's internal id and public id for a public id, absorbed or not.
    fn live_story(&self, public_id: &str) -> Result<Option<(i64, String)>, super::StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, public_id FROM stories WHERE public_id = ?1
                 UNION ALL
                 SELECT s.id, s.public_id FROM story_aliases a JOIN stories s ON s.id = a.survivor
                 WHERE a.public_id = ?1
                 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row([public_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// A story's substantive revisions, oldest first (`revision` 2 and up), by its public id
    /// or the id of a story it absorbed. `None` when no story answers to the id; with it the
    /// public id of the story that answered.
    pub fn story_revisions(
        &self,
        public_id: &str,
    ) -> Result<Option<(String, Vec<StoryRevision>)>, super::StoreError> {
        let Some((id, live)) = self.live_story(public_id)? else {
            return Ok(None);
        };
        let revs = self.revisions_of(id, None)?;
        Ok(Some((live, revs)))
    }

    /// The latest revision of a live story (by public id), for the change note.
    pub fn latest_revision(
        &self,
        public_id: &str,
    ) -> Result<Option<StoryRevision>, super::StoreError> {
        let Some((id, _)) = self.live_story(public_id)? else {
            return Ok(None);
        };
        Ok(self.revisions_of(id, Some(1))?.pop())
    }

    /// Public ids of the stories this one absorbed.
    pub fn absorbed_ids(&self, public_id: &str) -> Result<Vec<String>, super::StoreError> {
        let Some((id, _)) = self.live_story(public_id)? else {
            return Ok(Vec::new());
        };
        self.conn
            .prepare_cached(
                "SELECT public_id FROM story_aliases WHERE survivor = ?1 ORDER BY story_id",
            )
            .and_then(|mut s| s.query_map([id], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))
    }

    /// Revisions of story `id`, oldest first; with `last`, only the newest `last`.
    pub(super) fn revisions_of(
        &self,
        id: i64,
        last: Option<usize>,
    ) -> Result<Vec<StoryRevision>, super::StoreError> {
        let limit = last.map_or(-1, |n| n as i64);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.seq, r.at, s.name, r.added, r.changed, r.removed
                 FROM story_revisions r
                      LEFT JOIN entries e ON e.id = r.entry_id
                      LEFT JOIN sources s ON s.id = e.source_id
                 WHERE r.story_id = ?1 ORDER BY r.seq DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let list = |t: String| serde_json::from_str::<Vec<String>>(&t).unwrap_or_default();
        let mut out: Vec<StoryRevision> = stmt
            .query_map(params![id, limit], |r| {
                Ok(StoryRevision {
                    revision: r.get(0)?,
                    at: super::from_ts(r.get(1)?),
                    source: r.get(2)?,
                    added: list(r.get(3)?),
                    changed: list(r.get(4)?),
                    removed: list(r.get(5)?),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        out.reverse();
        Ok(out)
    }

    /// Every recorded revision by internal story id, for `wirefeed stories`.
    pub(super) fn all_revisions(
        &self,
    ) -> Result<std::collections::HashMap<i64, Vec<StoryRevision>>, super::StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT DISTINCT story_id FROM story_revisions")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))?;
        let mut out = std::collections::HashMap::new();
        for id in ids {
            out.insert(id, self.revisions_of(id, None)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::{STORY, ingest, story_entry, temp_store};

    const DAY: i64 = 24;

    #[test]
    fn a_copy_of_two_stories_joins_them_and_the_absorbed_id_answers_as_the_survivor() {
        let (_dir, mut store) = temp_store();
        // Two copies eight days apart: outside each other's window, two stories.
        ingest(
            &mut store,
            "early",
            &[story_entry("e1", "https://early.example/b", &STORY, 0)],
        );
        ingest(
            &mut store,
            "late",
            &[story_entry("l1", "https://late.example/b", &STORY, 8 * DAY)],
        );
        assert_eq!(store.story_count().unwrap(), 2);
        let ids: Vec<String> = store
            .story_listing()
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        let (late_id, early_id) = (ids[0].clone(), ids[1].clone());
        // A copy dated between them is a copy of both: one story, the older id kept.
        ingest(
            &mut store,
            "middle",
            &[story_entry(
                "m1",
                "https://middle.example/b",
                &STORY,
                4 * DAY,
            )],
        );
        assert_eq!(store.story_count().unwrap(), 1);
        let listing = store.story_listing().unwrap();
        assert_eq!(listing[0].id, early_id, "the older story survives");
        assert_eq!(listing[0].entries.len(), 3);
        let (live, _) = store.story_revisions(&late_id).unwrap().unwrap();
        assert_eq!(live, early_id, "the absorbed id answers as the survivor");
        assert_eq!(store.absorbed_ids(&early_id).unwrap(), vec![late_id]);
        // The candidate index still names the absorbed story: found through the alias.
        ingest(
            &mut store,
            "later",
            &[story_entry(
                "x1",
                "https://later.example/b",
                &STORY[..2],
                9 * DAY,
            )],
        );
        assert_eq!(store.story_count().unwrap(), 1);
        assert_eq!(store.story_listing().unwrap()[0].entries.len(), 4);
        store.flush_anchors().unwrap();
        ingest(
            &mut store,
            "latest",
            &[story_entry(
                "y1",
                "https://latest.example/b",
                &STORY,
                10 * DAY,
            )],
        );
        assert_eq!(store.story_count().unwrap(), 1);
    }
}
