//! An in-memory [`StoryStore`]: the engine's rules without a database.
//!
//! Why it exists: the engine's unit tests and experiments (threshold sweeps
//! over a labelled set) run thousands of decisions; the daemon uses the store.

use std::collections::HashMap;
use std::convert::Infallible;

use super::engine::{Decision, Dedup, EntryId, Member, NewEntry, Revision, StoryId, StoryStore};
use super::fingerprint::Fingerprint;

#[derive(Debug, Clone)]
struct Row {
    source: String,
    story: StoryId,
    at: i64,
    fingerprint: Fingerprint,
    url_key: Option<i64>,
    text_hash: Option<i64>,
}

/// Stories held in hash maps, applying decisions as the store does.
#[derive(Debug, Default)]
pub struct MemStories {
    entries: HashMap<EntryId, Row>,
    representative: HashMap<StoryId, EntryId>,
    revisions: HashMap<StoryId, u32>,
    anchors: HashMap<u32, Vec<(StoryId, i64)>>,
    next: i64,
}

impl MemStories {
    /// An empty set of stories.
    pub fn new() -> Self {
        Self::default()
    }

    /// Places a new entry with `engine` and records the outcome; returns its story.
    pub fn add(
        &mut self,
        engine: &Dedup,
        source: &str,
        url: Option<&str>,
        fingerprint: Fingerprint,
        at: i64,
    ) -> (StoryId, Decision) {
        self.next += 1;
        let entry = self.next;
        let decision = engine
            .decide(
                self,
                &NewEntry {
                    entry,
                    source,
                    url,
                    fingerprint: &fingerprint,
                    at,
                },
            )
            .unwrap_or_else(|e: Infallible| match e {});
        let story = match decision {
            Decision::NewStory => {
                self.representative.insert(entry, entry);
                self.revisions.insert(entry, 1);
                entry
            }
            Decision::Merge {
                story,
                ref absorb,
                substantive_change,
                representative_changed,
                ..
            } => {
                for &gone in absorb {
                    self.absorb(story, gone);
                }
                if representative_changed {
                    self.representative.insert(story, entry);
                }
                if substantive_change {
                    *self.revisions.entry(story).or_default() += 1;
                }
                story
            }
        };
        self.index(engine, entry, story, source, url, fingerprint, at);
        (story, decision)
    }

    /// Moves every member of `gone` into `survivor`, as the store does when an entry proves
    /// two stories one; the index keeps naming `gone` and reads through the alias.
    fn absorb(&mut self, survivor: StoryId, gone: StoryId) {
        for r in self.entries.values_mut() {
            if r.story == gone {
                r.story = survivor;
            }
        }
        for list in self.anchors.values_mut() {
            for p in list.iter_mut() {
                if p.0 == gone {
                    p.0 = survivor;
                }
            }
            let mut seen = std::collections::HashSet::new();
            list.retain(|p| seen.insert(*p));
        }
        if let Some(rev) = self.revisions.remove(&gone) {
            let r = self.revisions.entry(survivor).or_default();
            *r = (*r).max(rev);
        }
        self.representative.remove(&gone);
    }

    /// Each story's entries, sorted: the partition, for order-independence checks.
    pub fn partition(&self) -> Vec<Vec<EntryId>> {
        let mut by: HashMap<StoryId, Vec<EntryId>> = HashMap::new();
        for (&id, r) in &self.entries {
            by.entry(r.story).or_default().push(id);
        }
        let mut out: Vec<Vec<EntryId>> = by
            .into_values()
            .map(|mut v| {
                v.sort_unstable();
                v
            })
            .collect();
        out.sort();
        out
    }

    /// The story an entry is in.
    pub fn story_of(&self, entry: EntryId) -> Option<StoryId> {
        self.entries.get(&entry).map(|r| r.story)
    }

    /// Applies an in-place edit of `entry`; returns what it meant.
    pub fn edit(&mut self, engine: &Dedup, entry: EntryId, fingerprint: Fingerprint) -> Revision {
        let row = self.entries[&entry].clone();
        let rev = engine
            .revise(self, row.story, entry, Some(&row.fingerprint), &fingerprint)
            .unwrap_or_else(|e: Infallible| match e {});
        if rev.representative_changed {
            self.representative.insert(row.story, entry);
        }
        if rev.substantive_change {
            *self.revisions.entry(row.story).or_default() += 1;
        }
        let url_key = row.url_key;
        self.entries.remove(&entry);
        self.insert_row(
            engine,
            entry,
            row.story,
            &row.source,
            url_key,
            fingerprint,
            row.at,
        );
        rev
    }

    /// The entry last added (its key).
    pub fn last_entry(&self) -> EntryId {
        self.next
    }

    /// A story's representative entry.
    pub fn representative(&self, story: StoryId) -> Option<EntryId> {
        self.representative.get(&story).copied()
    }

    /// A story's revision count.
    pub fn revisions(&self, story: StoryId) -> u32 {
        self.revisions.get(&story).copied().unwrap_or(0)
    }

    #[allow(clippy::too_many_arguments)]
    fn index(
        &mut self,
        engine: &Dedup,
        entry: EntryId,
        story: StoryId,
        source: &str,
        url: Option<&str>,
        fingerprint: Fingerprint,
        at: i64,
    ) {
        let url_key = engine.keys(url, &fingerprint).url_key;
        self.insert_row(engine, entry, story, source, url_key, fingerprint, at);
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_row(
        &mut self,
        engine: &Dedup,
        entry: EntryId,
        story: StoryId,
        source: &str,
        url_key: Option<i64>,
        fingerprint: Fingerprint,
        at: i64,
    ) {
        let keys = engine.keys(None, &fingerprint);
        for k in keys.anchors {
            let list = self.anchors.entry(k).or_default();
            if !list.contains(&(story, at)) {
                list.push((story, at));
            }
        }
        self.entries.insert(
            entry,
            Row {
                source: source.to_string(),
                story,
                at,
                fingerprint,
                url_key,
                text_hash: keys.text_hash,
            },
        );
    }
}

impl StoryStore for MemStories {
    type Error = Infallible;

    fn story_by_url(&mut self, url_key: i64) -> Result<Option<StoryId>, Infallible> {
        Ok(self
            .entries
            .values()
            .find(|r| r.url_key == Some(url_key))
            .map(|r| r.story))
    }

    fn story_by_text(
        &mut self,
        text_hash: i64,
        since: i64,
        until: i64,
    ) -> Result<Option<StoryId>, Infallible> {
        Ok(self
            .entries
            .values()
            .find(|r| r.text_hash == Some(text_hash) && (since..=until).contains(&r.at))
            .map(|r| r.story))
    }

    fn anchor_stories(
        &mut self,
        key: u32,
        since: i64,
        until: i64,
        cap: usize,
        out: &mut Vec<StoryId>,
    ) -> Result<(), Infallible> {
        if let Some(list) = self.anchors.get(&key) {
            out.extend(
                list.iter()
                    .filter(|p| (since..=until).contains(&p.1))
                    .map(|p| p.0)
                    .take(cap),
            );
        }
        Ok(())
    }

    fn members(&mut self, story: StoryId, max: usize) -> Result<Vec<Member>, Infallible> {
        let rep = self.representative.get(&story).copied();
        let mut ids: Vec<EntryId> = self
            .entries
            .iter()
            .filter(|(_, r)| r.story == story)
            .map(|(&id, _)| id)
            .collect();
        ids.sort_by_key(|&id| (Some(id) != rep, std::cmp::Reverse(id)));
        Ok(ids
            .into_iter()
            .take(max)
            .map(|id| {
                let r = &self.entries[&id];
                Member {
                    entry: id,
                    source: r.source.clone(),
                    fingerprint: r.fingerprint.clone(),
                    representative: Some(id) == rep,
                }
            })
            .collect())
    }
}
