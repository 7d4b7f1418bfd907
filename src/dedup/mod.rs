//! Near-duplicate story detection for wire copy.
//!
//! Pure logic, no I/O: the caller hands in clean entries (source, URL,
//! title, plain-text paragraphs, time) and gets a [`Decision`] per entry.
//! Layers, cheapest first:
//! 1. exact: canonical URL ([`normalize::canonical_url`]) and normalised text hash;
//! 2. candidates: winnowed shingle anchors looked up in a [`CandidateIndex`];
//! 3. verification: containment of content shingles plus paragraph alignment
//!    ([`verify`]), with boilerplate removed by built-in patterns and by the
//!    per-source [`LearnedBoilerplate`] layer.

pub mod boilerplate;
pub mod engine;
pub mod fingerprint;
pub mod index;
pub mod normalize;
pub mod verify;

#[cfg(test)]
mod tests;

pub use boilerplate::{BuiltinBoilerplate, LearnedBlock, LearnedBoilerplate};
pub use engine::{Decision, DedupEngine, EntryInput, Story, Version};
pub use fingerprint::Fingerprint;
pub use index::{CandidateIndex, MemIndex, StoryId};
pub use verify::{Evidence, VerifyConfig};

/// Errors of the dedup component.
///
/// Why so few: the engine itself cannot fail on input text; only
/// user-supplied boilerplate rules can be malformed.
#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    /// A rule line lacks the `KIND: REGEX` shape or names an unknown kind.
    #[error("boilerplate rule on line {line}: expected `line: REGEX` or `short: REGEX`")]
    PatternSyntax {
        /// 1-based line number in the rule text.
        line: usize,
    },
    /// A rule's regex does not compile.
    #[error("boilerplate rule on line {line}: bad regex: {message}")]
    PatternRegex {
        /// 1-based line number (0 when the whole set failed to build).
        line: usize,
        /// The regex engine's message.
        message: String,
    },
}

/// Configuration of the dedup engine; `Default` is meant to work untuned.
///
/// Why each knob exists is documented on the field; the harness's ablation
/// table (NOTES.md) shows the defaults sit on a plateau.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupConfig {
    /// Off: every new URL opens its own story (exact URL repeats are still
    /// reported as `SameEntry`), for feeds where merging is unwanted.
    pub enabled: bool,
    /// Stories older than this (seconds since their last version) are not
    /// merge targets. Default 7 days: wire copies appear within hours, and a
    /// longer window only adds chances of a false merge with a recurring story.
    pub window_secs: i64,
    /// Thresholds of the verification step.
    pub verify: VerifyConfig,
    /// Skip verification and merge the best anchor candidate (ablation only).
    pub skip_verification: bool,
    /// Use the learned per-source boilerplate layer.
    pub learn_boilerplate: bool,
    /// Distinct stories of one source that must carry a block before it is
    /// that source's boilerplate. 3: two stories can legitimately share a
    /// background paragraph; clutter repeats far more.
    pub learned_min_stories: u32,
    /// Winnowing window in shingles: a shared run of `window + 4` words
    /// always yields a common anchor.
    pub anchor_window: usize,
    /// Anchors kept per entry (the first ones; truncation keeps the start).
    pub max_anchors: usize,
    /// Shingles of a new entry probed in the index (bounds lookup cost).
    pub max_query_keys: usize,
    /// Stories kept per anchor key in the index (bounds lookup cost).
    pub per_key_cap: usize,
    /// Candidate stories verified per entry, best anchor overlap first.
    pub max_candidates: usize,
    /// Text versions kept per story for verification.
    pub max_versions: usize,
    /// Paragraphs with at most this many words can be site furniture.
    pub short_max_tokens: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 7 * 24 * 3600,
            verify: VerifyConfig::default(),
            skip_verification: false,
            learn_boilerplate: true,
            learned_min_stories: 3,
            anchor_window: 8,
            max_anchors: 256,
            max_query_keys: 1024,
            per_key_cap: 32,
            max_candidates: 16,
            max_versions: 8,
            short_max_tokens: 60,
        }
    }
}
