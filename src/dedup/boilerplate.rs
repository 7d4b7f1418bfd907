//! Boilerplate detection for fingerprinting: built-in patterns plus a learned
//! per-source layer.
//!
//! Why two layers: agency credit lines and common site furniture look alike
//! everywhere and can be listed once (`boilerplate.txt`), while each outlet
//! also has its own clutter (newsletter boxes, donate appeals) that no list
//! can anticipate. That clutter is recognisable because the same outlet
//! repeats it verbatim under *different* stories; the learned layer counts that.

use std::collections::HashMap;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::DedupError;

/// The built-in pattern file, compiled into the binary so that defaults work
/// without any setup.
pub const BUILTIN_PATTERNS: &str = include_str!("boilerplate.txt");

/// Compiled built-in boilerplate rules (see `boilerplate.txt` for the format).
///
/// Why a data file: the list will grow from real feeds; editing a text file
/// is safer than editing code.
#[derive(Debug, Clone)]
pub struct BuiltinBoilerplate {
    line: RegexSet,
    short: RegexSet,
    short_max_tokens: usize,
}

impl BuiltinBoilerplate {
    /// Parses rules in the `boilerplate.txt` format.
    ///
    /// Why fallible: a store- or config-supplied list can contain a bad regex,
    /// which must surface as an error, not a panic.
    pub fn parse(text: &str, short_max_tokens: usize) -> Result<Self, DedupError> {
        let (mut line, mut short) = (Vec::new(), Vec::new());
        for (n, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (kind, pat) = l
                .split_once(':')
                .ok_or(DedupError::PatternSyntax { line: n + 1 })?;
            let pat = pat.trim();
            Regex::new(pat).map_err(|e| DedupError::PatternRegex {
                line: n + 1,
                message: e.to_string(),
            })?;
            match kind.trim() {
                "line" => line.push(pat.to_string()),
                "short" => short.push(pat.to_string()),
                _ => return Err(DedupError::PatternSyntax { line: n + 1 }),
            }
        }
        let build = |v: &[String]| {
            RegexSet::new(v).map_err(|e| DedupError::PatternRegex {
                line: 0,
                message: e.to_string(),
            })
        };
        Ok(Self {
            line: build(&line)?,
            short: build(&short)?,
            short_max_tokens,
        })
    }

    /// The compiled-in default rules.
    ///
    /// Why: the engine must work without configuration.
    pub fn default_set(short_max_tokens: usize) -> Self {
        Self::parse(BUILTIN_PATTERNS, short_max_tokens).expect("built-in boilerplate.txt is valid")
    }

    /// A rule set that matches nothing (for ablations and tests).
    pub fn empty() -> Self {
        Self::parse("", 0).expect("empty rule set is valid")
    }

    /// True when a paragraph, given as its tokens, is boilerplate.
    ///
    /// Why tokens: rules are written against the space-joined token form, so
    /// punctuation never decides a match.
    pub fn matches(&self, tokens: &[String]) -> bool {
        if tokens.is_empty() {
            return true; // "___", "* * *", lone punctuation
        }
        let joined = tokens.join(" ");
        self.line.is_match(&joined)
            || (tokens.len() <= self.short_max_tokens && self.short.is_match(&joined))
    }
}

/// Per-(source, block) statistics of the learned layer.
///
/// Why these fields: `stories` gives the distinct-story count that decides
/// boilerplate, `first_seen`/`last_seen` let the store expire blocks an
/// outlet no longer prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedBlock {
    /// Source (feed/outlet) key, as given by the caller.
    pub source: String,
    /// Hash of the normalised block (see `Paragraph::hash`).
    pub block_hash: u64,
    /// Number of distinct stories of this source that carried the block.
    pub story_count: u32,
    /// Recently seen story ids (bounded), so re-observing a story never double counts.
    pub recent_stories: Vec<u64>,
    /// Unix seconds of the first sighting in the current window.
    pub first_seen: i64,
    /// Unix seconds of the latest sighting.
    pub last_seen: i64,
}

/// Learns per-source boilerplate: a block repeated under ≥ `min_stories`
/// distinct stories of the same source within `window_secs` is clutter.
///
/// Why distinct *stories* and not entries: an outlet that republishes the
/// agency's update of one story repeats real paragraphs across two entries;
/// those must stay evidence. Only text that follows the outlet across
/// different stories is furniture.
#[derive(Debug, Clone, Default)]
pub struct LearnedBoilerplate {
    min_stories: u32,
    window_secs: i64,
    blocks: HashMap<(String, u64), LearnedBlock>,
}

/// Cap on remembered story ids per block; beyond the threshold only the count matters.
const RECENT_CAP: usize = 8;

impl LearnedBoilerplate {
    /// Creates an empty layer.
    ///
    /// Why parameters: the threshold and window come from `DedupConfig`.
    pub fn new(min_stories: u32, window_secs: i64) -> Self {
        Self {
            min_stories,
            window_secs,
            blocks: HashMap::new(),
        }
    }

    /// Records that `story` of `source` carried these blocks at time `now`.
    ///
    /// Why after the decision: the story id is only known once the entry has
    /// been merged or opened as a new story.
    pub fn observe(&mut self, source: &str, story: u64, block_hashes: &[u64], now: i64) {
        for &h in block_hashes {
            let b = self
                .blocks
                .entry((source.to_string(), h))
                .or_insert_with(|| LearnedBlock {
                    source: source.to_string(),
                    block_hash: h,
                    story_count: 0,
                    recent_stories: Vec::new(),
                    first_seen: now,
                    last_seen: now,
                });
            if now - b.last_seen > self.window_secs {
                b.story_count = 0;
                b.recent_stories.clear();
                b.first_seen = now;
            }
            b.last_seen = b.last_seen.max(now);
            if !b.recent_stories.contains(&story) {
                b.story_count += 1;
                b.recent_stories.push(story);
                if b.recent_stories.len() > RECENT_CAP {
                    b.recent_stories.remove(0);
                }
            }
        }
    }

    /// True when `block_hash` is learned boilerplate for `source` at `now`.
    ///
    /// Why `now`: a block not seen for a whole window is forgotten, so an
    /// outlet's redesign does not keep hiding text forever.
    pub fn is_boilerplate(&self, source: &str, block_hash: u64, now: i64) -> bool {
        if self.min_stories == 0 {
            return false;
        }
        self.blocks
            .get(&(source.to_string(), block_hash))
            .is_some_and(|b| {
                b.story_count >= self.min_stories && now - b.last_seen <= self.window_secs
            })
    }

    /// Drops blocks not seen within the window.
    ///
    /// Why: bounds memory and the persisted table.
    pub fn prune(&mut self, now: i64) {
        let w = self.window_secs;
        self.blocks.retain(|_, b| now - b.last_seen <= w);
    }

    /// All block statistics, for the store to persist.
    pub fn export(&self) -> Vec<LearnedBlock> {
        let mut v: Vec<LearnedBlock> = self.blocks.values().cloned().collect();
        v.sort_by(|a, b| (&a.source, a.block_hash).cmp(&(&b.source, b.block_hash)));
        v
    }

    /// Restores statistics saved by [`export`](Self::export), replacing same keys.
    pub fn import(&mut self, blocks: impl IntoIterator<Item = LearnedBlock>) {
        for b in blocks {
            self.blocks.insert((b.source.clone(), b.block_hash), b);
        }
    }

    /// Number of (source, block) pairs tracked.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// True when nothing has been learned yet.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::normalize::words;

    #[test]
    fn builtin_rules_match_agency_lines_but_not_news() {
        let b = BuiltinBoilerplate::default_set(60);
        for s in [
            "Via AP news wire",
            "Copyright 2024 The Associated Press. All rights reserved.",
            "___",
            "Associated Press writers Jane Doe and John Roe contributed to this report.",
            "Sign up for our daily newsletter to get the news in your inbox.",
            "Continue reading…",
        ] {
            assert!(b.matches(&words(s)), "{s}");
        }
        let news = "The company said subscription revenue rose 12 percent in the third quarter, \
            beating analysts' forecasts, as customers signed up for its new streaming bundle \
            across Europe and Asia, and executives raised their outlook for the full year \
            while warning that costs for content and marketing would keep climbing.";
        assert!(!b.matches(&words(news)));
    }

    #[test]
    fn learned_needs_distinct_stories_and_round_trips() {
        let mut l = LearnedBoilerplate::new(3, 100);
        l.observe("s", 1, &[7], 0);
        l.observe("s", 1, &[7], 1); // same story again: no count
        l.observe("s", 2, &[7], 2);
        assert!(!l.is_boilerplate("s", 7, 2));
        l.observe("s", 3, &[7], 3);
        assert!(l.is_boilerplate("s", 7, 3));
        assert!(!l.is_boilerplate("other", 7, 3), "per source");
        assert!(!l.is_boilerplate("s", 7, 500), "expires after the window");
        let mut m = LearnedBoilerplate::new(3, 100);
        m.import(l.export());
        assert!(m.is_boilerplate("s", 7, 3));
    }
}
