//! Near-duplicate story detection for wire copy.
//!
//! Pure logic, no I/O: the store hands in a new entry (source, URL,
//! fingerprint of its cleaned text, date) and gets a [`Decision`], reading
//! the existing stories through the [`StoryStore`] trait. Layers, cheapest first:
//! 1. exact: canonical URL ([`normalize::canonical_url`]) and normalised text hash;
//! 2. candidates: winnowed shingle anchors looked up in the store's index;
//! 3. verification: containment of content shingles plus paragraph alignment
//!    ([`verify`]). Dedup keeps no clutter list of its own: the clean stage hands
//!    it the blocks that tell the story (`clean::clutter::story_blocks`), with
//!    furniture, learned boilerplate and credit lines already left out.

pub mod engine;
pub mod fingerprint;
pub mod memory;
pub mod normalize;
pub mod revision;
pub mod verify;

#[cfg(test)]
mod cases;
#[cfg(test)]
mod tests;

pub use engine::{
    Decision, Dedup, EntryId, Keys, Member, NewEntry, Revision, StoryId, StoryStore, url_key,
};
pub use fingerprint::Fingerprint;
pub use memory::MemStories;
pub use revision::{ParagraphDiff, diff as paragraph_diff};
pub use verify::{Evidence, VerifyConfig};

/// The fingerprint of an entry's cleaned title and story paragraphs.
///
/// Why a free function: ingest computes fingerprints off the writer's lock and
/// needs no engine for it.
pub fn fingerprint(title: &str, paragraphs: &[String]) -> Fingerprint {
    Fingerprint::build(title, paragraphs)
}

/// Configuration of the dedup engine; `Default` is meant to work untuned.
///
/// Why each knob exists is documented on the field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupConfig {
    /// Off: every entry is its own story (an entry edited in place is still
    /// the same entry).
    pub enabled: bool,
    /// Copies dated further apart than this (seconds) are not merged. Default
    /// 7 days: wire copies appear within hours, and a longer window only adds
    /// chances of a false merge with a recurring story.
    pub window_secs: i64,
    /// Thresholds of the verification step.
    pub verify: VerifyConfig,
    /// Smallest winnowing window in shingles: a shared run of `window + 4`
    /// words always yields a common anchor.
    pub anchor_window: usize,
    /// Winnowed anchors wanted per text, about half the number kept: longer
    /// texts get a wider window (see [`Fingerprint::anchors`]).
    pub anchor_target: usize,
    /// Anchors kept per entry at most (the first ones; truncated copies keep the start).
    pub max_anchors: usize,
    /// Stories read per anchor key; a key carried by this many is a common phrase.
    pub per_key_cap: usize,
    /// Candidate stories verified per entry, best anchor overlap first.
    pub max_candidates: usize,
    /// Versions of a candidate story verified against.
    pub max_versions: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 7 * 24 * 3600,
            verify: VerifyConfig::default(),
            anchor_window: 16,
            anchor_target: 16,
            max_anchors: 96,
            per_key_cap: 32,
            max_candidates: 16,
            max_versions: 8,
        }
    }
}
