//! The story model: one decision per incoming entry.
//!
//! Why in-memory story state: only stories inside the window can be merge
//! targets, so the daemon reloads that window from its store at start and
//! persists each [`Decision`]'s effect; the engine never does I/O.

use std::collections::HashMap;
use std::sync::Arc;

use super::DedupConfig;
use super::boilerplate::{BuiltinBoilerplate, LearnedBoilerplate};
use super::fingerprint::{Fingerprint, Paragraph};
use super::index::{CandidateIndex, MemIndex, StoryId};
use super::normalize::canonical_url;
use super::verify::{Evidence, compare, verify};

/// One clean entry handed to the engine.
#[derive(Debug, Clone, Copy)]
pub struct EntryInput<'a> {
    /// Source (feed or outlet) key: the learned-boilerplate scope.
    pub source: &'a str,
    /// Entry link; canonicalised for the exact layer.
    pub url: &'a str,
    /// Headline (used for exact hashing only: outlets edit headlines).
    pub title: &'a str,
    /// Plain-text paragraphs of the body, in order.
    pub paragraphs: &'a [String],
    /// Unix seconds at which the entry is considered (publication or fetch time).
    pub at: i64,
}

/// The engine's verdict for one entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The URL was seen before: this is the same entry again (possibly edited in place).
    SameEntry {
        /// Story the entry belongs to.
        story: StoryId,
        /// The entry's normalised text differs from what was stored.
        text_changed: bool,
    },
    /// Another copy of an existing story.
    Merge {
        /// Target story.
        story: StoryId,
        /// The copy changes the story's text (agency update), not just the outlet.
        substantive_change: bool,
        /// The new copy became the story's representative version.
        representative_changed: bool,
        /// Verification evidence (absent for exact text-hash matches).
        evidence: Option<Evidence>,
    },
    /// The first copy of a new story.
    NewStory {
        /// The new story's id.
        story: StoryId,
    },
}

impl Decision {
    /// The story the entry ended up in.
    pub fn story(&self) -> StoryId {
        match *self {
            Decision::SameEntry { story, .. }
            | Decision::Merge { story, .. }
            | Decision::NewStory { story } => story,
        }
    }
}

/// One stored copy of a story.
#[derive(Debug, Clone)]
pub struct Version {
    /// Canonical URL of the copy.
    pub url: String,
    /// Source key of the copy.
    pub source: String,
    /// Unix seconds when the copy was processed.
    pub at: i64,
    /// Its fingerprint (persisted as a blob by the store).
    pub fingerprint: Arc<Fingerprint>,
}

/// A story: all copies of one text.
#[derive(Debug, Clone)]
pub struct Story {
    /// Story id.
    pub id: StoryId,
    /// Copies, oldest first (only the first `max_versions` keep their text for verification).
    pub versions: Vec<Version>,
    /// Index into `versions` of the representative copy.
    pub representative: usize,
    /// Unix seconds of the latest copy (window test).
    pub last_at: i64,
}

/// Near-duplicate detection engine over a pluggable candidate index.
pub struct DedupEngine<I: CandidateIndex = MemIndex> {
    cfg: DedupConfig,
    builtin: BuiltinBoilerplate,
    learned: LearnedBoilerplate,
    index: I,
    stories: HashMap<StoryId, Story>,
    by_url: HashMap<String, (StoryId, usize)>,
    by_text: HashMap<u64, StoryId>,
    next_id: StoryId,
}

impl DedupEngine<MemIndex> {
    /// Engine with the in-memory index and built-in boilerplate rules.
    pub fn new(cfg: DedupConfig) -> Self {
        let index = MemIndex::new(cfg.per_key_cap);
        let builtin = BuiltinBoilerplate::default_set(cfg.short_max_tokens);
        Self::with_parts(cfg, builtin, index)
    }
}

/// Minimum content tokens for the exact-text layer (tiny texts collide).
const EXACT_MIN_TOKENS: u32 = 20;

impl<I: CandidateIndex> DedupEngine<I> {
    /// Engine over any index and rule set (the daemon passes its SQLite index).
    pub fn with_parts(cfg: DedupConfig, builtin: BuiltinBoilerplate, index: I) -> Self {
        let learned = LearnedBoilerplate::new(
            if cfg.learn_boilerplate {
                cfg.learned_min_stories
            } else {
                0
            },
            cfg.window_secs,
        );
        Self {
            cfg,
            builtin,
            learned,
            index,
            stories: HashMap::new(),
            by_url: HashMap::new(),
            by_text: HashMap::new(),
            next_id: 1,
        }
    }

    /// The learned boilerplate layer (for persistence: `export`/`import`).
    pub fn learned_mut(&mut self) -> &mut LearnedBoilerplate {
        &mut self.learned
    }

    /// A story by id.
    pub fn story(&self, id: StoryId) -> Option<&Story> {
        self.stories.get(&id)
    }

    /// The candidate index (for metrics).
    pub fn index(&self) -> &I {
        &self.index
    }

    fn content<'a>(&'a self, fp: &'a Fingerprint, source: &'a str, at: i64) -> Vec<&'a Paragraph> {
        fp.content_paragraphs(move |h| self.learned.is_boilerplate(source, h, at))
            .collect()
    }

    /// Decides what `entry` is and updates the engine's state accordingly.
    pub fn process(&mut self, entry: EntryInput<'_>) -> Decision {
        let url = canonical_url(entry.url);
        let fp = Arc::new(Fingerprint::build(
            entry.title,
            entry.paragraphs,
            &self.builtin,
        ));
        let decision = self.decide(&url, &fp, entry);
        let story = decision.story();
        let blocks: Vec<u64> = fp
            .paragraphs
            .iter()
            .filter(|p| !p.builtin_boilerplate && p.tokens > 0)
            .map(|p| p.hash)
            .collect();
        self.learned.observe(entry.source, story, &blocks, entry.at);
        decision
    }

    fn decide(&mut self, url: &str, fp: &Arc<Fingerprint>, e: EntryInput<'_>) -> Decision {
        if let Some(&(story, vi)) = self.by_url.get(url) {
            let s = self
                .stories
                .get_mut(&story)
                .expect("url map points at a story");
            let text_changed = s.versions[vi].fingerprint.text_hash != fp.text_hash;
            if text_changed {
                s.versions[vi].fingerprint = fp.clone();
                s.last_at = s.last_at.max(e.at);
                self.index_version(story, fp, e.source, e.at);
            }
            return Decision::SameEntry {
                story,
                text_changed,
            };
        }
        let since = e.at - self.cfg.window_secs;
        if self.cfg.enabled {
            let tokens = fp.content_tokens(|h| self.learned.is_boilerplate(e.source, h, e.at));
            if tokens >= EXACT_MIN_TOKENS
                && let Some(&story) = self.by_text.get(&fp.text_hash)
                && self.stories.get(&story).is_some_and(|s| s.last_at >= since)
            {
                return self.merge(story, url, fp, e, None);
            }
            if let Some((story, ev)) = self.best_candidate(fp, e) {
                return self.merge(story, url, fp, e, ev);
            }
        }
        self.new_story(url, fp, e)
    }

    /// Candidate stories for a fingerprint: stories sharing index keys with
    /// it inside the window, most shared keys first, at most `max_candidates`.
    ///
    /// Why public: explainability ("why was this merged?") and the lookup
    /// benchmark. Cost is bounded by `max_query_keys × per_key_cap`,
    /// independent of the number of stored stories. Keys whose posting list
    /// is full (shared by `per_key_cap` stories) are skipped as stop-phrases.
    pub fn candidates(&self, fp: &Fingerprint, source: &str, at: i64) -> Vec<(StoryId, u32)> {
        let keys = fp.query_keys(
            |h| self.learned.is_boilerplate(source, h, at),
            self.cfg.max_query_keys,
        );
        let since = at - self.cfg.window_secs;
        let mut hits: HashMap<StoryId, u32> = HashMap::new();
        let mut buf = Vec::new();
        for &k in &keys {
            buf.clear();
            self.index.lookup(k, since, &mut buf);
            if buf.len() >= self.cfg.per_key_cap {
                continue; // a saturated key is a common phrase: no identifying power
            }
            for &s in &buf {
                *hits.entry(s).or_default() += 1;
            }
        }
        let mut cands: Vec<(StoryId, u32)> = hits.into_iter().collect();
        cands.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        cands.truncate(self.cfg.max_candidates);
        cands
    }

    fn best_candidate(
        &self,
        fp: &Fingerprint,
        e: EntryInput<'_>,
    ) -> Option<(StoryId, Option<Evidence>)> {
        let mut cands = self.candidates(fp, e.source, e.at);
        // A single shared key between two long texts cannot reach the
        // containment threshold (a shared run of 2×window shingles yields ≥ 2
        // keys); skipping such candidates keeps verification cost flat.
        let big = |n: usize| n >= 4 * self.cfg.anchor_window;
        if big(fp.query_keys(|_| false, usize::MAX).len()) {
            cands.retain(|&(sid, hits)| {
                hits >= 2
                    || self.stories.get(&sid).is_some_and(|s| {
                        !big(s.versions[s.representative]
                            .fingerprint
                            .paragraphs
                            .iter()
                            .map(|p| p.shingles.len())
                            .sum())
                    })
            });
        }
        if self.cfg.skip_verification {
            return cands.first().map(|&(s, _)| (s, None));
        }
        let a = self.content(fp, e.source, e.at);
        let mut best: Option<(StoryId, Evidence)> = None;
        for (sid, _) in cands {
            let Some(story) = self.stories.get(&sid) else {
                continue;
            };
            for v in story.versions.iter().take(self.cfg.max_versions) {
                let b = self.content(&v.fingerprint, &v.source, e.at);
                let Some(ev) = verify(
                    &a,
                    &b,
                    v.source == e.source,
                    v.fingerprint.title_hash == fp.title_hash,
                    &self.cfg.verify,
                ) else {
                    continue;
                };
                if best
                    .as_ref()
                    .is_none_or(|(_, x)| ev.strength() > x.strength())
                {
                    best = Some((sid, ev));
                }
            }
        }
        best.map(|(s, ev)| (s, Some(ev)))
    }

    fn index_version(&mut self, story: StoryId, fp: &Fingerprint, source: &str, at: i64) {
        let anchors = fp.anchors(
            |h| self.learned.is_boilerplate(source, h, at),
            self.cfg.anchor_window,
            self.cfg.max_anchors,
        );
        for k in anchors {
            self.index.insert(k, story, at);
        }
        if fp.content_tokens(|h| self.learned.is_boilerplate(source, h, at)) >= EXACT_MIN_TOKENS {
            self.by_text.insert(fp.text_hash, story);
        }
    }

    fn new_story(&mut self, url: &str, fp: &Arc<Fingerprint>, e: EntryInput<'_>) -> Decision {
        let id = self.next_id;
        self.next_id += 1;
        let v = Version {
            url: url.to_string(),
            source: e.source.to_string(),
            at: e.at,
            fingerprint: fp.clone(),
        };
        self.stories.insert(
            id,
            Story {
                id,
                versions: vec![v],
                representative: 0,
                last_at: e.at,
            },
        );
        self.by_url.insert(url.to_string(), (id, 0));
        self.index_version(id, fp, e.source, e.at);
        Decision::NewStory { story: id }
    }

    fn merge(
        &mut self,
        story: StoryId,
        url: &str,
        fp: &Arc<Fingerprint>,
        e: EntryInput<'_>,
        ev: Option<Evidence>,
    ) -> Decision {
        let s = &self.stories[&story];
        // substantive change: compare against the union of all known versions, so
        // a late copy of the *old* text is not mistaken for a change
        let substantive = match &ev {
            None => false,
            Some(best) if best.b_covered >= 0.7 => {
                let a = self.content(fp, e.source, e.at);
                let union: Vec<&Paragraph> = s
                    .versions
                    .iter()
                    .take(self.cfg.max_versions)
                    .flat_map(|v| self.content(&v.fingerprint, &v.source, e.at))
                    .collect();
                compare(&a, &union, &self.cfg.verify).is_substantive_change()
            }
            Some(_) => false,
        };
        let rep = &s.versions[s.representative];
        let rep_tokens = rep
            .fingerprint
            .content_tokens(|h| self.learned.is_boilerplate(&rep.source, h, e.at));
        let new_tokens = fp.content_tokens(|h| self.learned.is_boilerplate(e.source, h, e.at));
        // most complete first; within 3% (same text ± furniture) or on a substantive update, the latest
        let rep_changed = new_tokens as f32 >= rep_tokens as f32 * 0.97
            || (substantive && new_tokens as f32 >= rep_tokens as f32 * 0.9);
        let s = self.stories.get_mut(&story).expect("merge target exists");
        s.versions.push(Version {
            url: url.to_string(),
            source: e.source.to_string(),
            at: e.at,
            fingerprint: fp.clone(),
        });
        let vi = s.versions.len() - 1;
        if rep_changed {
            s.representative = vi;
        }
        s.last_at = s.last_at.max(e.at);
        self.by_url.insert(url.to_string(), (story, vi));
        self.index_version(story, fp, e.source, e.at);
        Decision::Merge {
            story,
            substantive_change: substantive,
            representative_changed: rep_changed,
            evidence: ev,
        }
    }

    /// Puts a persisted copy back (daemon start-up), oldest first per story.
    ///
    /// Why: the engine owns no storage; the store reloads the window's
    /// versions (story id, canonical URL, source, time, fingerprint blob) and
    /// replays them here. The first version restored for a story becomes its
    /// representative until `set_representative` says otherwise; the
    /// candidate index is rebuilt only when `reindex` is true (a SQLite-backed
    /// index already holds its rows).
    pub fn restore(&mut self, story: StoryId, version: Version, reindex: bool) {
        let fp = version.fingerprint.clone();
        let (source, at, url) = (version.source.clone(), version.at, version.url.clone());
        let s = self.stories.entry(story).or_insert_with(|| Story {
            id: story,
            versions: Vec::new(),
            representative: 0,
            last_at: at,
        });
        s.versions.push(version);
        s.last_at = s.last_at.max(at);
        let vi = s.versions.len() - 1;
        self.by_url.insert(url, (story, vi));
        self.next_id = self.next_id.max(story + 1);
        if reindex {
            self.index_version(story, &fp, &source, at);
        } else if fp.content_tokens(|h| self.learned.is_boilerplate(&source, h, at))
            >= EXACT_MIN_TOKENS
        {
            self.by_text.insert(fp.text_hash, story);
        }
    }

    /// Sets a restored story's representative version index.
    pub fn set_representative(&mut self, story: StoryId, version_index: usize) {
        if let Some(s) = self.stories.get_mut(&story)
            && version_index < s.versions.len()
        {
            s.representative = version_index;
        }
    }

    /// Forgets stories and postings that left the window before `now`.
    ///
    /// Why explicit: the daemon calls it once per fetch cycle, not per entry.
    pub fn expire(&mut self, now: i64) {
        let before = now - self.cfg.window_secs;
        self.index.expire(before);
        self.learned.prune(now);
        let gone: Vec<StoryId> = self
            .stories
            .values()
            .filter(|s| s.last_at < before)
            .map(|s| s.id)
            .collect();
        for id in &gone {
            self.stories.remove(id);
        }
        self.by_url.retain(|_, (s, _)| !gone.contains(s));
        self.by_text.retain(|_, s| !gone.contains(s));
    }
}
