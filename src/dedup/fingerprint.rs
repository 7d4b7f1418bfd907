//! Per-entry fingerprints: paragraph block hashes, word shingles and
//! winnowed anchor keys.
//!
//! Why paragraphs: wire copies differ by whole paragraphs (clutter added,
//! tail dropped, one paragraph rewritten), so keeping shingles grouped per
//! paragraph lets verification discount boilerplate blocks learned *after*
//! the entry was stored, and align paragraphs to spot an agency update.
//!
//! Why winnowing for the index (Schleimer et al., 2003) instead of whole-document
//! MinHash: a summary-only outlet keeps 1–3 of 20 paragraphs, so the Jaccard
//! similarity is tiny and MinHash bands miss it, while winnowing guarantees a
//! shared key for every shared run of at least `window + shingle - 1` words.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::boilerplate::BuiltinBoilerplate;
use super::normalize::words;

/// One normalised paragraph of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    /// Hash of the space-joined normalised tokens: the learned-boilerplate key.
    pub hash: u64,
    /// Number of word tokens.
    pub tokens: u32,
    /// Word-shingle hashes in text order (may repeat).
    pub shingles: Vec<u64>,
    /// True when a built-in pattern marks the paragraph as boilerplate.
    pub builtin_boilerplate: bool,
}

/// Everything dedup needs to remember about one entry's text.
///
/// Why serialisable: the store keeps it as a blob so that verification after
/// a restart needs no re-parsing of the article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Hash of the normalised title (tie-breaking only; titles get edited).
    pub title_hash: u64,
    /// Hash of all non-boilerplate paragraph tokens: the exact-text layer.
    pub text_hash: u64,
    /// Paragraphs in document order, boilerplate included (flagged).
    pub paragraphs: Vec<Paragraph>,
}

/// Shingle length in words used by [`Fingerprint::build`].
///
/// Why 5: long enough that two writers' shared vocabulary rarely forms
/// common 5-grams, short enough that a one-number edit only breaks 5 of them.
pub const SHINGLE_WORDS: usize = 5;

fn hash_tokens(tokens: &[String]) -> u64 {
    xxh3_64(tokens.join(" ").as_bytes())
}

fn shingles(tokens: &[String]) -> Vec<u64> {
    if tokens.len() < 2 {
        return Vec::new();
    }
    if tokens.len() < SHINGLE_WORDS {
        return vec![hash_tokens(tokens)];
    }
    let th: Vec<u64> = tokens.iter().map(|t| xxh3_64(t.as_bytes())).collect();
    th.windows(SHINGLE_WORDS)
        .map(|w| {
            let mut buf = [0u8; 8 * SHINGLE_WORDS];
            for (i, h) in w.iter().enumerate() {
                buf[i * 8..i * 8 + 8].copy_from_slice(&h.to_le_bytes());
            }
            xxh3_64(&buf)
        })
        .collect()
}

impl Fingerprint {
    /// Builds the fingerprint of an entry from its title and plain-text paragraphs.
    ///
    /// Why paragraphs are given by the caller: HTML-to-text lives in the
    /// cleaning stage; dedup stays pure.
    pub fn build(title: &str, paragraphs: &[String], builtin: &BuiltinBoilerplate) -> Self {
        let mut out = Vec::with_capacity(paragraphs.len());
        let mut content_tokens: Vec<String> = Vec::new();
        for p in paragraphs {
            let toks = words(p);
            let bp = builtin.matches(&toks);
            if !bp {
                content_tokens.extend(toks.iter().cloned());
            }
            out.push(Paragraph {
                hash: hash_tokens(&toks),
                tokens: toks.len() as u32,
                shingles: shingles(&toks),
                builtin_boilerplate: bp,
            });
        }
        Self {
            title_hash: hash_tokens(&words(title)),
            text_hash: hash_tokens(&content_tokens),
            paragraphs: out,
        }
    }

    /// Indices of paragraphs that count as content, given a learned-boilerplate test.
    pub fn content_paragraphs<'a>(
        &'a self,
        is_learned: impl Fn(u64) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Paragraph> + 'a {
        self.paragraphs
            .iter()
            .filter(move |p| !p.builtin_boilerplate && !is_learned(p.hash))
    }

    /// Index keys of a stored entry: the first shingle of every content
    /// paragraph plus winnowed anchors over all content shingles, in text
    /// order, deduplicated, at most `max_anchors` (the first ones: truncated
    /// copies keep the start).
    ///
    /// Why both: winnowing guarantees a common key for any shared run of
    /// ≥ `window` shingles, and paragraph-start keys catch a teaser that
    /// consists of one short paragraph taken whole.
    pub fn anchors(
        &self,
        is_learned: impl Fn(u64) -> bool,
        window: usize,
        max_anchors: usize,
    ) -> Vec<u64> {
        let content: Vec<&Paragraph> = self.content_paragraphs(is_learned).collect();
        let seq: Vec<u64> = content
            .iter()
            .flat_map(|p| p.shingles.iter().copied())
            .collect();
        let mut keys: Vec<u64> = content
            .iter()
            .filter_map(|p| p.shingles.first().copied())
            .collect();
        keys.extend(winnow(&seq, window.max(1), usize::MAX));
        let mut seen = HashSet::new();
        keys.retain(|k| seen.insert(*k));
        keys.truncate(max_anchors);
        keys
    }

    /// Lookup keys of a new entry: all its distinct content shingles (first
    /// `max_keys`).
    ///
    /// Why all and not only anchors: the stored side's anchors are
    /// content-defined, so probing every shingle finds them wherever the
    /// shared run starts; probes are cheap, index rows are not.
    pub fn query_keys(&self, is_learned: impl Fn(u64) -> bool, max_keys: usize) -> Vec<u64> {
        let mut seen = HashSet::new();
        self.content_paragraphs(is_learned)
            .flat_map(|p| p.shingles.iter().copied())
            .filter(|k| seen.insert(*k))
            .take(max_keys)
            .collect()
    }

    /// Number of content tokens: the "completeness" of a version.
    pub fn content_tokens(&self, is_learned: impl Fn(u64) -> bool) -> u32 {
        self.content_paragraphs(is_learned).map(|p| p.tokens).sum()
    }
}

/// Winnowing: in every window of `w` consecutive hashes keep the minimum
/// (rightmost on ties), deduplicated in order of first selection.
pub fn winnow(seq: &[u64], w: usize, cap: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    if seq.is_empty() {
        return out;
    }
    let w = w.min(seq.len());
    let mut last_pos = usize::MAX;
    for start in 0..=(seq.len() - w) {
        let win = &seq[start..start + w];
        let mut best = 0;
        for (i, &h) in win.iter().enumerate() {
            if h <= win[best] {
                best = i;
            }
        }
        let pos = start + best;
        if pos != last_pos {
            last_pos = pos;
            if seen.insert(seq[pos]) {
                out.push(seq[pos]);
                if out.len() >= cap {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_run_always_shares_an_anchor() {
        let b = BuiltinBoilerplate::empty();
        let body: Vec<String> = (0..40)
            .map(|i| format!("word{i} alpha{} beta", i * 7))
            .collect();
        let long = Fingerprint::build("t", &[body.join(" ")], &b);
        // a copy that keeps only 20 words from the middle, wrapped in other text
        let all: Vec<String> = body.join(" ").split(' ').map(str::to_string).collect();
        let mid = format!(
            "lorem ipsum dolor sit amet {} consectetur adipiscing elit sed do",
            all[30..50].join(" ")
        );
        let short = Fingerprint::build("t", &[mid], &b);
        let a: HashSet<u64> = long.anchors(|_| false, 8, 500).into_iter().collect();
        assert!(
            short
                .query_keys(|_| false, 500)
                .iter()
                .any(|k| a.contains(k))
        );
    }
}
