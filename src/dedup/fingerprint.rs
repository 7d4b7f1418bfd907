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

use xxhash_rust::xxh3::xxh3_64;

use super::normalize::words;

/// One normalised paragraph of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// Hash of the space-joined normalised tokens: the learned-boilerplate key.
    pub hash: u64,
    /// Number of word tokens.
    pub tokens: u32,
    /// Word-shingle hashes in text order (may repeat). 32 bits: a pair of texts
    /// shares a spurious shingle with probability ~ n²/2³², far below the
    /// `min_shared` a merge needs, and the stored fingerprint is half the size.
    pub shingles: Vec<u32>,
    /// True when the paragraph is not content: it has no words (a rule of asterisks), or,
    /// in fingerprints stored by versions before the clean stage chose the story's blocks,
    /// a rule of dedup's own list marked it. Kept so that those stored bytes still read.
    pub builtin_boilerplate: bool,
}

/// Everything dedup needs to remember about one entry's text.
///
/// Why serialisable ([`Fingerprint::to_bytes`]): the store keeps it as a blob so
/// that verifying a candidate needs no re-parsing of its article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash of the normalised title (tie-breaking only; titles get edited).
    pub title_hash: u64,
    /// Hash of all non-boilerplate paragraph tokens: the exact-text layer.
    pub text_hash: u64,
    /// Paragraphs in document order, boilerplate included (flagged).
    pub paragraphs: Vec<Paragraph>,
    /// The last [`Fingerprint::anchors`] result, with its parameters.
    memo: AnchorMemo,
}

/// Remembered anchors (window, target, cap → keys); never part of equality or the bytes.
///
/// Why: the single writer computed each new entry's anchors twice (to probe, then to
/// store), about a quarter of its time; ingest now computes them beside the fingerprint,
/// in parallel, and the writer reads them.
#[derive(Debug, Clone, Default)]
struct AnchorMemo(std::sync::OnceLock<((usize, usize, usize), Vec<u32>)>);

impl PartialEq for AnchorMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for AnchorMemo {}

/// Shingle length in words used by [`Fingerprint::build`].
///
/// Why 5: long enough that two writers' shared vocabulary rarely forms
/// common 5-grams, short enough that a one-number edit only breaks 5 of them.
pub const SHINGLE_WORDS: usize = 5;

/// The version of [`Fingerprint::anchors`]' selection rule (with the shingle size); bump it
/// whenever the rule changes, so that stores rebuild their candidate index.
pub const ANCHOR_SCHEME: &str = "winnow-v2 shingle=5 starts=6";

fn hash_tokens(tokens: &[String]) -> u64 {
    xxh3_64(tokens.join(" ").as_bytes())
}

fn shingles(tokens: &[String]) -> Vec<u32> {
    if tokens.len() < 2 {
        return Vec::new();
    }
    if tokens.len() < SHINGLE_WORDS {
        return vec![hash_tokens(tokens) as u32];
    }
    let th: Vec<u64> = tokens.iter().map(|t| xxh3_64(t.as_bytes())).collect();
    th.windows(SHINGLE_WORDS)
        .map(|w| {
            let mut buf = [0u8; 8 * SHINGLE_WORDS];
            for (i, h) in w.iter().enumerate() {
                buf[i * 8..i * 8 + 8].copy_from_slice(&h.to_le_bytes());
            }
            xxh3_64(&buf) as u32
        })
        .collect()
}

impl Fingerprint {
    /// Builds the fingerprint of an entry from its title and plain-text story paragraphs.
    ///
    /// Why paragraphs are given by the caller: HTML-to-text and the choice of which
    /// blocks tell the story live in the cleaning stage; dedup stays pure.
    pub fn build(title: &str, paragraphs: &[String]) -> Self {
        let mut out = Vec::with_capacity(paragraphs.len());
        let mut content_tokens: Vec<String> = Vec::new();
        for p in paragraphs {
            let toks = words(p);
            let bp = toks.is_empty();
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
            memo: AnchorMemo::default(),
        }
    }

    /// The paragraphs that count as content (not boilerplate).
    pub fn content_paragraphs(&self) -> impl Iterator<Item = &Paragraph> {
        self.paragraphs.iter().filter(|p| !p.builtin_boilerplate)
    }

    /// Index keys of an entry (stored, and probed with): the first shingle of each of the
    /// first content paragraphs, then winnowed anchors over all content shingles, in text
    /// order, deduplicated, at most `max_anchors`.
    ///
    /// Why both: winnowing guarantees a common key for any shared run of at least the
    /// window (plus the shingle's words), and paragraph-start keys catch a teaser made of
    /// one or two short paragraphs taken whole from the top.
    ///
    /// Why the window grows with the text (never below `min_window`, so that about
    /// `2 × target` anchors are kept): every posting costs a write and every key a lookup, and
    /// a long article would otherwise cost ten times a short one. Two texts winnowed with
    /// different windows still share a key for every shared run as long as the larger
    /// window: the minimum of that run's larger window is the minimum of every smaller
    /// window around it, so both sides select it.
    pub fn anchors(&self, min_window: usize, target: usize, max_anchors: usize) -> Vec<u32> {
        let params = (min_window, target, max_anchors);
        match self.memo.0.get() {
            Some((p, keys)) if *p == params => keys.clone(),
            Some(_) => self.select_anchors(min_window, target, max_anchors),
            None => {
                let keys = self.select_anchors(min_window, target, max_anchors);
                let _ = self.memo.0.set((params, keys.clone()));
                keys
            }
        }
    }

    fn select_anchors(&self, min_window: usize, target: usize, max_anchors: usize) -> Vec<u32> {
        let content: Vec<&Paragraph> = self.content_paragraphs().collect();
        let seq: Vec<u32> = content
            .iter()
            .flat_map(|p| p.shingles.iter().copied())
            .collect();
        let mut keys: Vec<u32> = content
            .iter()
            .take(PARAGRAPH_START_KEYS)
            .filter_map(|p| p.shingles.first().copied())
            .collect();
        keys.extend(winnow(
            &seq,
            anchor_window(seq.len(), min_window, target),
            usize::MAX,
        ));
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
    pub fn query_keys(&self, max_keys: usize) -> Vec<u32> {
        let mut seen = HashSet::new();
        self.content_paragraphs()
            .flat_map(|p| p.shingles.iter().copied())
            .filter(|k| seen.insert(*k))
            .take(max_keys)
            .collect()
    }

    /// Number of content tokens: the "completeness" of a version.
    pub fn content_tokens(&self) -> u32 {
        self.content_paragraphs().map(|p| p.tokens).sum()
    }

    /// Number of distinct content shingles (the size a candidate is judged by).
    pub fn content_shingles(&self) -> usize {
        self.content_paragraphs().map(|p| p.shingles.len()).sum()
    }

    /// A compact binary form for the store: little-endian fixed-width fields,
    /// 4 bytes per word of text.
    ///
    /// Why hand-written: the layout is trivial, and a versioned first byte lets
    /// a later format be read beside this one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let words: usize = self.paragraphs.iter().map(|p| p.shingles.len()).sum();
        let mut out = Vec::with_capacity(21 + self.paragraphs.len() * 17 + words * 4);
        out.push(FORMAT);
        out.extend_from_slice(&self.title_hash.to_le_bytes());
        out.extend_from_slice(&self.text_hash.to_le_bytes());
        out.extend_from_slice(&(self.paragraphs.len() as u32).to_le_bytes());
        for p in &self.paragraphs {
            out.extend_from_slice(&p.hash.to_le_bytes());
            out.extend_from_slice(&p.tokens.to_le_bytes());
            out.push(u8::from(p.builtin_boilerplate));
            out.extend_from_slice(&(p.shingles.len() as u32).to_le_bytes());
            for s in &p.shingles {
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`Fingerprint::to_bytes`] output; `None` for anything else.
    ///
    /// Why optional: a damaged or foreign blob must cost one candidate, not the ingest.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let mut r = Reader(b);
        if r.take(1)?[0] != FORMAT {
            return None;
        }
        let title_hash = r.u64()?;
        let text_hash = r.u64()?;
        let n = r.u32()? as usize;
        let mut paragraphs = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            let hash = r.u64()?;
            let tokens = r.u32()?;
            let builtin_boilerplate = r.take(1)?[0] != 0;
            let k = r.u32()? as usize;
            let raw = r.take(k.checked_mul(4)?)?;
            let shingles = raw
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            paragraphs.push(Paragraph {
                hash,
                tokens,
                shingles,
                builtin_boilerplate,
            });
        }
        r.0.is_empty().then_some(Self {
            title_hash,
            text_hash,
            paragraphs,
            memo: AnchorMemo::default(),
        })
    }
}

/// Version byte of [`Fingerprint::to_bytes`].
const FORMAT: u8 = 1;

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Paragraphs whose first shingle is a key: teasers are taken from the top.
const PARAGRAPH_START_KEYS: usize = 6;

/// The winnowing window for a text of `n` shingles: `min_window`, or wider so that the
/// expected number of anchors (2n / (w + 1)) stays near `2 × target`.
pub fn anchor_window(n: usize, min_window: usize, target: usize) -> usize {
    min_window
        .max(1)
        .max(n.div_ceil(target.max(1)).saturating_sub(1))
}

/// Winnowing: in every window of `w` consecutive hashes keep the minimum
/// (rightmost on ties), deduplicated in order of first selection.
///
/// Why a queue: the window grows with the text (`anchor_window`), and rescanning each
/// window cost O(n·w), quadratic in a long article's length.
pub fn winnow(seq: &[u32], w: usize, cap: usize) -> Vec<u32> {
    let mut out = Vec::new();
    if seq.is_empty() || cap == 0 {
        return out;
    }
    let w = w.clamp(1, seq.len());
    let mut seen = HashSet::new();
    // Positions whose hashes increase strictly from front to back: the front is the
    // window's rightmost minimum.
    let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut last_pos = usize::MAX;
    for (i, &h) in seq.iter().enumerate() {
        while queue.back().is_some_and(|&b| seq[b] >= h) {
            queue.pop_back();
        }
        queue.push_back(i);
        if i + 1 < w {
            continue;
        }
        while queue.front().is_some_and(|&f| f + w <= i) {
            queue.pop_front();
        }
        let pos = *queue.front().expect("holds position i");
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

    /// The definition, window by window.
    fn winnow_by_rescanning(seq: &[u32], w: usize, cap: usize) -> Vec<u32> {
        let (mut out, mut seen, mut last_pos) = (Vec::new(), HashSet::new(), usize::MAX);
        let w = w.clamp(1, seq.len().max(1));
        for start in 0..=seq.len().saturating_sub(w) {
            let Some(win) = seq.get(start..start + w) else {
                break;
            };
            let mut best = 0;
            for (i, &h) in win.iter().enumerate() {
                if h <= win[best] {
                    best = i;
                }
            }
            if start + best != last_pos {
                last_pos = start + best;
                if seen.insert(seq[last_pos]) {
                    out.push(seq[last_pos]);
                    if out.len() >= cap {
                        break;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_queue_selects_what_rescanning_every_window_selects() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for case in 0..400 {
            let n = case % 97;
            // Small alphabets make ties, large ones make long increasing runs.
            let alphabet = [3u64, 10, 1000, u64::from(u32::MAX)][case % 4];
            let seq: Vec<u32> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % alphabet) as u32
                })
                .collect();
            for w in [1, 2, 5, 16, 40, 200] {
                for cap in [usize::MAX, 3] {
                    assert_eq!(
                        winnow(&seq, w, cap),
                        winnow_by_rescanning(&seq, w, cap),
                        "{seq:?} w={w} cap={cap}"
                    );
                }
            }
        }
    }

    #[test]
    fn shared_run_always_shares_an_anchor() {
        let body: Vec<String> = (0..40)
            .map(|i| format!("word{i} alpha{} beta", i * 7))
            .collect();
        let long = Fingerprint::build("t", &[body.join(" ")]);
        // a copy that keeps only 20 words from the middle, wrapped in other text
        let all: Vec<String> = body.join(" ").split(' ').map(str::to_string).collect();
        let mid = format!(
            "lorem ipsum dolor sit amet {} consectetur adipiscing elit sed do",
            all[30..50].join(" ")
        );
        let short = Fingerprint::build("t", &[mid]);
        let a: HashSet<u32> = long.anchors(8, 1000, 500).into_iter().collect();
        assert!(short.query_keys(500).iter().any(|k| a.contains(k)));
    }

    #[test]
    fn bytes_round_trip_and_garbage_is_refused() {
        let fp = Fingerprint::build(
            "Title here",
            &[
                "One paragraph with enough words to shingle it well.".into(),
                "Via AP news wire".into(),
                String::new(),
            ],
        );
        let bytes = fp.to_bytes();
        assert_eq!(Fingerprint::from_bytes(&bytes), Some(fp));
        assert_eq!(Fingerprint::from_bytes(&bytes[..bytes.len() - 1]), None);
        assert_eq!(Fingerprint::from_bytes(b""), None);
        assert_eq!(Fingerprint::from_bytes(&[1, 0, 0]), None);
    }
}
