//! The story model: one decision per incoming entry, read from a [`StoryStore`].
//!
//! Why the engine holds no state: the stories live in the database, so a
//! decision survives restarts, a `wirefeed fetch` beside a running daemon sees
//! the same stories, and a rolled-back transaction takes its decisions with it.
//! The engine only reads (through the trait) and says what to write.

use super::DedupConfig;
use super::fingerprint::{Fingerprint, Paragraph, SHINGLE_WORDS, anchor_window};
use super::normalize::canonical_url;
use super::verify::{Evidence, compare, verify};

/// A story's key in the store.
pub type StoryId = i64;
/// An entry's key in the store.
pub type EntryId = i64;

/// One member of a story as the engine needs it for verification.
#[derive(Debug, Clone)]
pub struct Member {
    /// The entry.
    pub entry: EntryId,
    /// Its source's name (the same-source rule of [`verify`] needs it).
    pub source: String,
    /// Its text's fingerprint.
    pub fingerprint: Fingerprint,
    /// Whether it is the story's representative version.
    pub representative: bool,
}

/// Read access to the stories, implemented by the store over its transaction.
///
/// Why a trait: SQL stays in the store; the engine's rules can be tested on
/// [`super::MemStories`] with no database.
pub trait StoryStore {
    /// The backend's error.
    type Error;
    /// The story holding an entry whose canonical URL hashes to `url_key`.
    fn story_by_url(&mut self, url_key: i64) -> Result<Option<StoryId>, Self::Error>;
    /// A story holding an entry with exactly this content hash, dated in `since..=until`.
    fn story_by_text(
        &mut self,
        text_hash: i64,
        since: i64,
        until: i64,
    ) -> Result<Option<StoryId>, Self::Error>;
    /// Appends up to `cap` stories posted under anchor `key` and dated in `since..=until`.
    fn anchor_stories(
        &mut self,
        key: u32,
        since: i64,
        until: i64,
        cap: usize,
        out: &mut Vec<StoryId>,
    ) -> Result<(), Self::Error>;
    /// Up to `max` members of a story that have a fingerprint: the representative
    /// first, then the newest.
    fn members(&mut self, story: StoryId, max: usize) -> Result<Vec<Member>, Self::Error>;
}

/// A new entry to place.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Its store key.
    pub entry: EntryId,
    /// Its source's name.
    pub source: &'a str,
    /// Its link, if any.
    pub url: Option<&'a str>,
    /// Its text's fingerprint.
    pub fingerprint: &'a Fingerprint,
    /// Unix seconds the entry is dated (published, else first seen): the window is
    /// measured between entries, so a backlog of old items still merges.
    pub at: i64,
}

/// What to do with a new entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Another copy of an existing story.
    Merge {
        /// Target story: the oldest (lowest id) of the stories the entry is a copy of.
        story: StoryId,
        /// Other stories the entry is also a copy of: they are one story with the target
        /// now, and the target absorbs them (see [`Dedup::decide`]). Oldest first.
        absorb: Vec<StoryId>,
        /// The copy changes the story's text (an agency update), not just the outlet.
        substantive_change: bool,
        /// The copy becomes the story's representative version.
        representative_changed: bool,
        /// Verification evidence (absent for the exact URL and text layers).
        evidence: Option<Evidence>,
    },
    /// The first copy of a new story.
    NewStory,
}

/// What an in-place edit of a member (same source and guid) means for its story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    /// The text changed in substance: the story's `updated` moves and its revision count grows.
    pub substantive_change: bool,
    /// The edited member is now the most complete version.
    pub representative_changed: bool,
}

/// The keys a member is found by, for the store to persist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// Hash of the canonical URL.
    pub url_key: Option<i64>,
    /// Hash of the content text, when long enough to identify a story.
    pub text_hash: Option<i64>,
    /// Anchor keys for the candidate index.
    pub anchors: Vec<u32>,
}

/// Minimum content tokens for the exact-text layer (tiny texts collide).
const EXACT_MIN_TOKENS: u32 = 20;

/// Decides which story an entry belongs to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dedup {
    cfg: DedupConfig,
}

fn content(fp: &Fingerprint) -> Vec<&Paragraph> {
    fp.content_paragraphs().collect()
}

impl Dedup {
    /// An engine with these settings.
    pub fn new(cfg: DedupConfig) -> Self {
        Self { cfg }
    }

    /// The settings.
    pub fn config(&self) -> &DedupConfig {
        &self.cfg
    }

    /// A name for how anchors are selected: the store rebuilds its index from the stored
    /// fingerprints when it changes, since expiry recomputes an entry's anchors to delete
    /// them and must find the ones that were stored.
    pub fn anchor_scheme(&self) -> String {
        format!(
            "{} window={} target={} max={}",
            crate::dedup::fingerprint::ANCHOR_SCHEME,
            self.cfg.anchor_window,
            self.cfg.anchor_target,
            self.cfg.max_anchors
        )
    }

    /// Computes what the writer will ask of `fp` (its anchors), so that a caller can do it
    /// off the writer's lock, in parallel.
    pub fn precompute(&self, fp: &Fingerprint) {
        fp.anchors(
            self.cfg.anchor_window,
            self.cfg.anchor_target,
            self.cfg.max_anchors,
        );
    }

    /// The keys under which a member is stored.
    pub fn keys(&self, url: Option<&str>, fp: &Fingerprint) -> Keys {
        Keys {
            url_key: url.map(url_key),
            text_hash: (fp.content_tokens() >= EXACT_MIN_TOKENS).then_some(fp.text_hash as i64),
            anchors: fp.anchors(
                self.cfg.anchor_window,
                self.cfg.anchor_target,
                self.cfg.max_anchors,
            ),
        }
    }

    /// Places a new entry: a copy of an existing story, or a new one.
    ///
    /// Layers, cheapest first: the same canonical URL, the same content hash,
    /// then candidates sharing anchor keys, each verified against the story's
    /// stored versions. Switched off, every entry is its own story.
    ///
    /// Why every layer is asked and every matching story kept: the partition into stories
    /// must not depend on the order entries arrive in. An entry that is a copy of two
    /// stories proves them one story (they would have been one had it arrived first), so
    /// the oldest absorbs the others. The stories are then the connected groups of the
    /// pairwise "copy of" relation over the window, whatever the order; what keeps chains
    /// from snowballing is that relation's own precision ([`super::verify::leads_agree`]),
    /// and that two stories holding one source's templated items (never one story) are
    /// not joined.
    pub fn decide<S: StoryStore>(
        &self,
        store: &mut S,
        e: &NewEntry<'_>,
    ) -> Result<Decision, S::Error> {
        if !self.cfg.enabled {
            return Ok(Decision::NewStory);
        }
        let keys = self.keys(e.url, e.fingerprint);
        // (story, evidence): every story the entry is a copy of, exact layers without evidence.
        let mut matched: Vec<(StoryId, Option<Evidence>)> = Vec::new();
        if let Some(k) = keys.url_key
            && let Some(story) = store.story_by_url(k)?
        {
            matched.push((story, None));
        }
        let (since, until) = (e.at - self.cfg.window_secs, e.at + self.cfg.window_secs);
        if let Some(h) = keys.text_hash
            && let Some(story) = store.story_by_text(h, since, until)?
            && !matched.iter().any(|m| m.0 == story)
            && store
                .members(story, self.cfg.max_versions)?
                .iter()
                .any(|m| m.fingerprint.text_hash == e.fingerprint.text_hash && !templated(e, m))
        {
            matched.push((story, None));
        }
        for (story, ev) in self.verified_candidates(store, e, since, until)? {
            match matched.iter_mut().find(|m| m.0 == story) {
                Some(_) => {}
                None => matched.push((story, Some(ev))),
            }
        }
        if matched.is_empty() {
            return Ok(Decision::NewStory);
        }
        matched.sort_by_key(|m| m.0);
        // The oldest story is the target; the others join it unless a source's templated
        // items would end up in one story.
        let (target, target_ev) = matched[0].clone();
        let mut absorb = Vec::new();
        for (story, _) in &matched[1..] {
            if !self.templated_across(store, target, *story)? {
                absorb.push(*story);
            }
        }
        // The evidence that placed the entry: the exact layers' (none) when the target was
        // found by them, else the strongest verification among the target's.
        let decision = self.join(store, target, e.fingerprint, target_ev)?;
        Ok(match decision {
            Decision::Merge {
                story,
                substantive_change,
                representative_changed,
                evidence,
                ..
            } => Decision::Merge {
                story,
                absorb,
                substantive_change,
                representative_changed,
                evidence,
            },
            d => d,
        })
    }

    /// Whether joining two stories would put one source's templated items (see `templated`)
    /// into one story.
    fn templated_across<S: StoryStore>(
        &self,
        store: &mut S,
        a: StoryId,
        b: StoryId,
    ) -> Result<bool, S::Error> {
        let ma = store.members(a, self.cfg.max_versions)?;
        let mb = store.members(b, self.cfg.max_versions)?;
        Ok(ma.iter().any(|x| {
            mb.iter().any(|y| {
                x.source == y.source
                    && x.fingerprint.title_hash != y.fingerprint.title_hash
                    && x.fingerprint
                        .content_tokens()
                        .min(y.fingerprint.content_tokens())
                        < TEMPLATE_MAX_TOKENS
            })
        }))
    }

    /// Candidate stories: those sharing anchor keys with the entry inside the
    /// window, most shared keys first, at most `max_candidates`.
    ///
    /// Why the entry's own anchors suffice as probes: winnowing selects the
    /// minimum of every window of shingles in both texts, so a shared run of
    /// `anchor_window + 4` words yields a key both sides stored. The cost is
    /// bounded by `max_anchors × per_key_cap` postings, whatever the store's size;
    /// a key carried by `per_key_cap` stories is a common phrase and is skipped.
    pub fn candidates<S: StoryStore>(
        &self,
        store: &mut S,
        fp: &Fingerprint,
        since: i64,
        until: i64,
    ) -> Result<Vec<(StoryId, u32)>, S::Error> {
        let mut hits: std::collections::HashMap<StoryId, u32> = Default::default();
        let mut buf = Vec::new();
        for k in fp.anchors(
            self.cfg.anchor_window,
            self.cfg.anchor_target,
            self.cfg.max_anchors,
        ) {
            buf.clear();
            store.anchor_stories(k, since, until, self.cfg.per_key_cap, &mut buf)?;
            if buf.len() >= self.cfg.per_key_cap {
                continue;
            }
            buf.sort_unstable();
            buf.dedup();
            for &s in &buf {
                *hits.entry(s).or_default() += 1;
            }
        }
        let mut cands: Vec<(StoryId, u32)> = hits.into_iter().collect();
        cands.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        cands.truncate(self.cfg.max_candidates);
        Ok(cands)
    }

    /// Every candidate story the entry verifies against (some version of it, not one of
    /// the entry's source's templated items), with the strongest evidence for each.
    fn verified_candidates<S: StoryStore>(
        &self,
        store: &mut S,
        e: &NewEntry<'_>,
        since: i64,
        until: i64,
    ) -> Result<Vec<(StoryId, Evidence)>, S::Error> {
        let fp = e.fingerprint;
        let cands = self.candidates(store, fp, since, until)?;
        // A single shared key between two long texts cannot reach the containment
        // threshold (a shared run twice the larger of their windows yields at least two).
        let window = |n: usize| anchor_window(n, self.cfg.anchor_window, self.cfg.anchor_target);
        let both_big = |a: usize, b: usize| {
            let w = window(a).max(window(b));
            a >= 4 * w && b >= 4 * w
        };
        let a = content(fp);
        let mut out: Vec<(StoryId, Evidence)> = Vec::new();
        for (sid, hits) in cands {
            let members = store.members(sid, self.cfg.max_versions)?;
            if hits < 2
                && members.first().is_some_and(|m| {
                    both_big(fp.content_shingles(), m.fingerprint.content_shingles())
                })
            {
                continue;
            }
            // One source's templated item in the story: never the entry's story.
            if members.iter().any(|m| templated(e, m)) {
                continue;
            }
            let mut best: Option<Evidence> = None;
            for m in &members {
                let b = content(&m.fingerprint);
                let Some(ev) = verify(
                    &a,
                    &b,
                    m.source == e.source,
                    m.fingerprint.title_hash == fp.title_hash,
                    &self.cfg.verify,
                ) else {
                    continue;
                };
                if best.as_ref().is_none_or(|x| ev.strength() > x.strength()) {
                    best = Some(ev);
                }
            }
            if let Some(ev) = best {
                out.push((sid, ev));
            }
        }
        Ok(out)
    }

    fn join<S: StoryStore>(
        &self,
        store: &mut S,
        story: StoryId,
        fp: &Fingerprint,
        ev: Option<Evidence>,
    ) -> Result<Decision, S::Error> {
        let members = store.members(story, self.cfg.max_versions)?;
        let a = content(fp);
        // Substantive: compared with the union of the known versions, so that a late
        // copy of the *old* text is not mistaken for a change.
        let substantive = match &ev {
            Some(best) if best.b_covered >= 0.7 => {
                let union: Vec<&Paragraph> = members
                    .iter()
                    .flat_map(|m| content(&m.fingerprint))
                    .collect();
                compare(&a, &union, &self.cfg.verify).is_substantive_change()
            }
            _ => false,
        };
        let rep_tokens = members
            .iter()
            .find(|m| m.representative)
            .map_or(0, |m| m.fingerprint.content_tokens());
        Ok(Decision::Merge {
            story,
            absorb: Vec::new(),
            substantive_change: substantive,
            representative_changed: more_complete(fp.content_tokens(), rep_tokens, substantive),
            evidence: ev,
        })
    }

    /// Judges an in-place edit of a member (same source, same guid, new text).
    ///
    /// Why not a new decision: an entry never leaves its story (its id is what
    /// readers hold); the question is only whether the story changed.
    pub fn revise<S: StoryStore>(
        &self,
        store: &mut S,
        story: StoryId,
        entry: EntryId,
        old: Option<&Fingerprint>,
        new: &Fingerprint,
    ) -> Result<Revision, S::Error> {
        // The same outlet's own edit: no furniture allowance at the edges, a sentence
        // added or a number changed anywhere is news (a changed word breaks 5 shingles).
        let substantive = match old {
            Some(old) if old.text_hash == new.text_hash => false,
            Some(old) => {
                let set = |f: &Fingerprint| -> std::collections::HashSet<u32> {
                    f.content_paragraphs()
                        .flat_map(|p| p.shingles.iter().copied())
                        .collect()
                };
                let (a, b) = (set(new), set(old));
                a.symmetric_difference(&b).count() >= SHINGLE_WORDS
            }
            None => true,
        };
        let members = store.members(story, self.cfg.max_versions)?;
        let rep = members.iter().find(|m| m.representative);
        let representative_changed = match rep {
            Some(r) if r.entry == entry => false,
            Some(r) => more_complete(
                new.content_tokens(),
                r.fingerprint.content_tokens(),
                substantive,
            ),
            None => true,
        };
        Ok(Revision {
            substantive_change: substantive,
            representative_changed,
        })
    }
}

/// Two short items of one source under different headlines: a template (fire-brigade
/// dispatches, weather warnings, results tables) that repeats its text for different
/// events, never one story. Real republications by one outlet are long articles.
fn templated(e: &NewEntry<'_>, m: &Member) -> bool {
    m.source == e.source
        && m.fingerprint.title_hash != e.fingerprint.title_hash
        && e.fingerprint
            .content_tokens()
            .min(m.fingerprint.content_tokens())
            < TEMPLATE_MAX_TOKENS
}

/// Below this many content words, one source's items with different headlines are never merged.
const TEMPLATE_MAX_TOKENS: u32 = 80;

/// The representative rule: the most complete version; within 3 % (the same
/// text give or take furniture), or after a substantive update of nearly the
/// same length, the latest.
fn more_complete(new_tokens: u32, rep_tokens: u32, substantive: bool) -> bool {
    new_tokens as f32 >= rep_tokens as f32 * 0.97
        || (substantive && new_tokens as f32 >= rep_tokens as f32 * 0.9)
}

/// The exact-URL key: a hash of the canonical URL (tracking parameters,
/// scheme, `www.` and fragments removed).
pub fn url_key(url: &str) -> i64 {
    xxhash_rust::xxh3::xxh3_64(canonical_url(url).as_bytes()) as i64
}
