//! Learned boilerplate: a text block that keeps turning up in *different* entries of one
//! source is that source's clutter ("Sign up for our morning briefing", a standing donation
//! appeal, a syndication credit), whatever its wording.
//!
//! Blocks are compared by a hash of their normalised text. Each block remembers the distinct
//! entries (by guid hash) it was seen in during the window; once that count reaches the
//! threshold it is removed from the source's entries. State is plain data so the store can
//! persist it, and only changes worth writing are reported as changed.

use std::collections::{HashMap, HashSet};

use crate::clean::doc::EntryDoc;
use crate::model::CleanEntry;

/// Longest block (in words) considered: whole story paragraphs repeated in a follow-up
/// article are news, not clutter, and clutter is short.
pub const MAX_BLOCK_WORDS: usize = 80;
/// Remembered entries per block; beyond the threshold only the count matters.
const RECENT_CAP: usize = 8;
/// `last_seen` is refreshed at most this often, so re-reading an unchanged feed writes nothing.
const LAST_SEEN_GRANULARITY: i64 = 86_400;

/// Hash of a block's normalised text (lowercase words of letters and digits, one space
/// apart). xxh3: fast, and stable across builds, which matters because hashes are stored.
pub fn block_hash(text: &str) -> u64 {
    let mut norm = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        let word = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        };
        if word {
            if gap && !norm.is_empty() {
                norm.push(' ');
            }
            gap = false;
            if c.is_ascii() {
                norm.push(c.to_ascii_lowercase());
            } else {
                norm.extend(c.to_lowercase());
            }
        } else {
            gap = true;
        }
    }
    xxhash_rust::xxh3::xxh3_64(norm.as_bytes())
}

/// Whether a block is a candidate for learning at all.
pub fn learnable(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (2..=MAX_BLOCK_WORDS).contains(&words)
}

/// Whether a paragraph is one of the learned blocks `hashes` (see
/// [`LearnedBlocks::learned_hashes`]): how full-text pages and `extract --learn` leave a
/// site's learned clutter out.
pub fn is_learned(text: &str, hashes: &[u64]) -> bool {
    !hashes.is_empty() && learnable(text) && hashes.contains(&block_hash(text))
}

pub use crate::model::BlockStats;

/// One source's learned blocks.
#[derive(Debug, Clone, Default)]
pub struct LearnedBlocks {
    blocks: HashMap<u64, BlockStats>,
    changed: Vec<u64>,
}

impl LearnedBlocks {
    /// Restores persisted state.
    pub fn from_stats(stats: impl IntoIterator<Item = BlockStats>) -> LearnedBlocks {
        LearnedBlocks {
            blocks: stats.into_iter().map(|b| (b.hash, b)).collect(),
            changed: Vec::new(),
        }
    }

    /// Records that the entry with `guid` carried these blocks (texts) at `now`.
    pub fn observe<'a>(
        &mut self,
        guid: &str,
        blocks: impl IntoIterator<Item = &'a str>,
        now: i64,
        window: i64,
    ) {
        let entry = block_hash(guid);
        for text in blocks.into_iter().filter(|t| learnable(t)) {
            let h = block_hash(text);
            let b = self.blocks.entry(h).or_insert_with(|| BlockStats {
                hash: h,
                entries: 0,
                recent: Vec::new(),
                first_seen: now,
                last_seen: now,
                sample: text.chars().take(500).collect(),
            });
            let mut changed = b.entries == 0;
            if now - b.last_seen > window {
                // Not seen for a whole window: start counting afresh.
                b.entries = 0;
                b.recent.clear();
                b.first_seen = now;
                changed = true;
            }
            if now - b.last_seen >= LAST_SEEN_GRANULARITY {
                b.last_seen = now;
                changed = true;
            }
            if !b.recent.contains(&entry) {
                b.entries += 1;
                b.recent.push(entry);
                if b.recent.len() > RECENT_CAP {
                    b.recent.remove(0);
                }
                changed = true;
            }
            if changed && !self.changed.contains(&h) {
                self.changed.push(h);
            }
        }
    }

    /// Whether the block is learned boilerplate: seen in `threshold` distinct entries and
    /// not forgotten (unseen for a whole window).
    pub fn is_learned(&self, text: &str, threshold: u32, now: i64, window: i64) -> bool {
        learnable(text)
            && self
                .blocks
                .get(&block_hash(text))
                .is_some_and(|b| b.entries >= threshold && now - b.last_seen <= window)
    }

    /// The hashes learned as of now.
    pub fn learned_hashes(&self, threshold: u32, now: i64, window: i64) -> Vec<u64> {
        self.blocks
            .values()
            .filter(|b| b.entries >= threshold && now - b.last_seen <= window)
            .map(|b| b.hash)
            .collect()
    }

    /// Blocks whose stats changed since loading, for the store to write.
    pub fn changed(&self) -> Vec<&BlockStats> {
        self.changed
            .iter()
            .filter_map(|h| self.blocks.get(h))
            .collect()
    }
}

/// The scope a site's article pages learn under (`page:HOST`): the same block on several
/// pages of one host is that host's clutter, as it is for a source's entries.
pub fn site_scope(page_url: &str) -> Option<String> {
    let host = url::Url::parse(page_url)
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    Some(format!("page:{host}"))
}

/// A source's stored entries without the blocks learned just now (`newly`): what the store
/// writes back when a block becomes boilerplate, so it leaves what was already published
/// too. Entries whose guid is in `fresh` were cleaned with the new knowledge already; their
/// stored versions must not overwrite them.
pub fn strip_stored(
    stored: Vec<CleanEntry>,
    fresh: &HashSet<&str>,
    newly: &[u64],
) -> Vec<CleanEntry> {
    let hit = |t: &str| learnable(t) && newly.contains(&block_hash(t));
    stored
        .iter()
        .filter(|e| !fresh.contains(e.guid.as_str()))
        .filter_map(|e| strip_blocks(e, &hit))
        .collect()
}

/// An already cleaned entry without the blocks `hit` selects; `None` when it carries none.
pub fn strip_blocks(e: &CleanEntry, hit: &dyn Fn(&str) -> bool) -> Option<CleanEntry> {
    // Stored HTML is sanitised with absolute URLs already; the base only matters for a
    // relative URL that cannot be there.
    let base = e
        .link
        .as_deref()
        .and_then(|l| url::Url::parse(l).ok())
        .unwrap_or_else(|| url::Url::parse("https://invalid.invalid/").expect("literal URL"));
    let strip = |h: &Option<String>| -> (Option<String>, bool) {
        let Some(h) = h.as_deref() else {
            return (None, false);
        };
        let doc = EntryDoc::parse(h);
        let mut drop = HashSet::new();
        for b in doc.blocks().iter().filter(|b| hit(&b.text)) {
            if b.whole && b.owner != doc.root().id() {
                drop.insert(b.owner);
            } else {
                drop.extend(b.texts.iter().copied());
            }
        }
        if drop.is_empty() {
            return (Some(h.to_string()), false);
        }
        let out = crate::clean::sanitize::render(&doc, &drop, &base);
        (crate::clean::has_text(&out).then_some(out), true)
    };
    let (summary, s_hit) = strip(&e.summary);
    let (content, c_hit) = strip(&e.content);
    (s_hit || c_hit).then(|| CleanEntry {
        summary,
        content,
        ..e.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 30 * 86_400;

    #[test]
    fn a_block_becomes_boilerplate_after_three_distinct_entries() {
        let mut l = LearnedBlocks::default();
        let clutter = "Sign up for our morning briefing, free every weekday";
        l.observe("g1", [clutter, "Story one text here"], 0, W);
        l.observe("g1", [clutter], 10, W);
        l.observe("g2", [clutter, "Story two text here"], 20, W);
        assert!(!l.is_learned(clutter, 3, 20, W));
        l.observe("g3", [clutter], 30, W);
        assert!(l.is_learned(clutter, 3, 30, W));
        assert!(l.is_learned(
            "SIGN UP for our morning briefing — free every weekday!",
            3,
            30,
            W
        ));
        assert!(!l.is_learned("Story one text here", 3, 30, W));
        assert!(
            !l.is_learned(clutter, 3, 30 + W + 1, W),
            "forgotten after a quiet window"
        );
    }

    #[test]
    fn reobserving_the_same_entries_changes_nothing() {
        let mut l = LearnedBlocks::default();
        l.observe("g1", ["A repeated block of text"], 0, W);
        let mut again = LearnedBlocks::from_stats(l.changed().into_iter().cloned());
        again.observe("g1", ["A repeated block of text"], 60, W);
        assert!(again.changed().is_empty());
    }

    #[test]
    fn long_paragraphs_and_single_words_are_not_learnable() {
        assert!(!learnable("Advertisement"));
        assert!(!learnable(&"word ".repeat(MAX_BLOCK_WORDS + 1)));
        assert!(learnable("Read more"));
    }
}
