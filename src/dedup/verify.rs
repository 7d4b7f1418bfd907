//! Verification of a candidate pair: shingle containment plus paragraph
//! alignment.
//!
//! Why containment, not Jaccard: a summary-only outlet's copy is a small
//! subset of the full story, so |A∩B| / min(|A|,|B|) is near 1 while the
//! Jaccard index is near 0. Why paragraph alignment on top: it tells an
//! agency update (an interior paragraph edited or inserted) from a copy that
//! merely adds furniture at its edges.

use std::collections::HashSet;

use super::fingerprint::Paragraph;

/// Thresholds of the same-story test.
///
/// Why these defaults: two independent write-ups of one event share
/// vocabulary but few 5-word runs (≤ 0.27 containment between distinct
/// articles in the dev corpus; typically < 0.1 in news), while copies of
/// one text keep ≥ 0.8 of the smaller side unless clutter dilutes it. 0.5
/// sits in the middle of that gap; `min_shared` stops a single shared quote
/// from merging two short items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerifyConfig {
    /// Minimum containment |A∩B| / min(|A|,|B|) over content shingles.
    pub min_containment: f32,
    /// Minimum number of shared distinct content shingles.
    pub min_shared: u32,
    /// A paragraph counts as "present" in the other text when at least this
    /// share of its shingles occurs there.
    pub paragraph_match: f32,
    /// Paragraphs with at most this many tokens at the edges of an entry are
    /// treated as furniture when they match nothing (see [`Evidence::novel_paragraphs`]).
    pub edge_short_tokens: u32,
    /// Apply the same-source rule of [`verify`] (off only for ablations).
    pub same_source_guard: bool,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            min_containment: 0.6,
            min_shared: 8,
            paragraph_match: 0.5,
            edge_short_tokens: 60,
            same_source_guard: true,
        }
    }
}

/// What the comparison of a new entry A with an existing text B found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Distinct content shingles shared by A and B.
    pub shared: u32,
    /// Distinct content shingles of A.
    pub a_len: u32,
    /// Distinct content shingles of B.
    pub b_len: u32,
    /// shared / min(a_len, b_len).
    pub containment: f32,
    /// Share of B's distinct shingles that A contains (1.0 = A is complete w.r.t. B).
    pub b_covered: f32,
    /// A's paragraphs that are edited versions of a B paragraph (partly present).
    pub edited_paragraphs: u32,
    /// A's paragraphs absent from B that are not short edge furniture.
    pub novel_paragraphs: u32,
}

fn distinct(paras: &[&Paragraph]) -> HashSet<u32> {
    paras
        .iter()
        .flat_map(|p| p.shingles.iter().copied())
        .collect()
}

/// Compares content paragraphs of A (new) against B (existing).
///
/// Why the caller passes content paragraphs: which blocks are boilerplate
/// depends on each side's source and on what has been learned by now.
pub fn compare(a: &[&Paragraph], b: &[&Paragraph], cfg: &VerifyConfig) -> Evidence {
    let sa = distinct(a);
    let sb = distinct(b);
    let shared = sa.intersection(&sb).count() as u32;
    let (a_len, b_len) = (sa.len() as u32, sb.len() as u32);
    let small = a_len.min(b_len).max(1);
    // paragraph alignment of A against B
    let presence: Vec<(f32, usize)> = a
        .iter()
        .map(|p| {
            let d: HashSet<u32> = p.shingles.iter().copied().collect();
            if d.is_empty() {
                return (1.0, 0);
            }
            let found = d.iter().filter(|h| sb.contains(h)).count();
            (found as f32 / d.len() as f32, d.len() - found)
        })
        .collect();
    let first = presence.iter().position(|x| x.0 >= cfg.paragraph_match);
    let last = presence.iter().rposition(|x| x.0 >= cfg.paragraph_match);
    let mut edited = 0;
    let mut novel = 0;
    for (i, (&(pr, missing), p)) in presence.iter().zip(a).enumerate() {
        // a changed number alone breaks up to SHINGLE_WORDS shingles: that is
        // an edit; one or two stray shingles are tokenisation noise
        if missing < 3 || p.shingles.is_empty() {
            continue;
        }
        if pr >= 0.15 {
            edited += 1;
            continue;
        }
        let interior = matches!((first, last), (Some(f), Some(l)) if i > f && i < l);
        if interior || p.tokens > cfg.edge_short_tokens {
            novel += 1;
        }
    }
    Evidence {
        shared,
        a_len,
        b_len,
        containment: shared as f32 / small as f32,
        b_covered: shared as f32 / b_len.max(1) as f32,
        edited_paragraphs: edited,
        novel_paragraphs: novel,
    }
}

impl Evidence {
    /// True when A and B are copies of one text under `cfg`.
    pub fn is_same_text(&self, cfg: &VerifyConfig) -> bool {
        self.shared >= cfg.min_shared && self.containment >= cfg.min_containment
    }

    /// True when A changes the text of B (an agency update), not merely
    /// shortens it or adds furniture.
    ///
    /// Why `b_covered`: a truncated copy lacks most of B and is not an update;
    /// an update keeps (nearly) everything and edits or inserts paragraphs.
    pub fn is_substantive_change(&self) -> bool {
        self.b_covered >= 0.7 && (self.edited_paragraphs + self.novel_paragraphs) > 0
    }

    /// A ranking score among verified candidates.
    pub fn strength(&self) -> f32 {
        self.containment * (self.shared as f32).sqrt()
    }
}

/// Full verification of A (new) against B (existing): `Some(evidence)` when
/// they are copies of one text.
///
/// Why the same-source rule: an outlet repeats its own furniture (author bio,
/// donate box) verbatim under different stories, and a summary-only copy can
/// be as short as that furniture. So when both sides come from the same
/// source, paragraphs present verbatim in both are set aside: the rest must
/// still verify on its own, unless the two texts are nearly identical overall
/// (the outlet republished the same story under a new URL).
///
/// Why the title fallback: a teaser-only feed item can be a single short
/// sentence, too short for `min_shared`; it is accepted only when its
/// headline is unchanged *and* every one of its shingles occurs in B (a
/// headline alone is not enough: unrelated stories do share headlines).
pub fn verify(
    a: &[&Paragraph],
    b: &[&Paragraph],
    same_source: bool,
    titles_equal: bool,
    cfg: &VerifyConfig,
) -> Option<Evidence> {
    let ev = compare(a, b, cfg);
    let tiny = ev.a_len.min(ev.b_len) < cfg.min_shared;
    let short_ok = tiny && titles_equal && ev.shared > 0 && ev.containment >= 0.999;
    if !ev.is_same_text(cfg) && !short_ok {
        return None;
    }
    if !leads_agree(a, b, &ev) {
        return None;
    }
    if !same_source || !cfg.same_source_guard {
        return Some(ev);
    }
    let ah: HashSet<u64> = a.iter().map(|p| p.hash).collect();
    let bh: HashSet<u64> = b.iter().map(|p| p.hash).collect();
    // republication of the same story by the same outlet (e.g. the agency's
    // update under a new URL): several verbatim paragraphs and most of both texts
    let verbatim = a
        .iter()
        .filter(|p| bh.contains(&p.hash) && !p.shingles.is_empty())
        .count();
    let a_cov = ev.shared as f32 / ev.a_len.max(1) as f32;
    if verbatim >= 3 && a_cov >= 0.6 && ev.b_covered >= 0.6 {
        return Some(ev);
    }
    let a2: Vec<&Paragraph> = a
        .iter()
        .filter(|p| !bh.contains(&p.hash))
        .copied()
        .collect();
    let b2: Vec<&Paragraph> = b
        .iter()
        .filter(|p| !ah.contains(&p.hash))
        .copied()
        .collect();
    let strict = compare(&a2, &b2, cfg);
    (strict.is_same_text(cfg) || (short_ok && strict.containment >= 0.999)).then_some(ev)
}

/// A paragraph this long (words) can be a story's lead; shorter ones at the top are
/// datelines, bylines and furniture.
const LEAD_MIN_TOKENS: u32 = 15;

/// A lead counts as present in the other text when this share of its shingles occurs there:
/// an agency's write-thru edits its lead (a number, a clause) and keeps most of it, while two
/// different agency stories on one event share at most a phrase of their leads.
const LEAD_MATCH: f32 = 0.3;

/// Words of its own a longer text may have before the start of a text it is the teaser or
/// truncated copy of (a standfirst, a byline, an editor's note); a roundup's or column's
/// own introduction before an embedded story is longer.
const PREFIX_MAX_TOKENS: u32 = 40;

/// The lead of a text: its first paragraph long enough to be one, else its first with words.
fn lead<'a>(paras: &[&'a Paragraph]) -> Option<&'a Paragraph> {
    paras
        .iter()
        .find(|p| p.tokens >= LEAD_MIN_TOKENS && !p.shingles.is_empty())
        .or_else(|| paras.iter().find(|p| !p.shingles.is_empty()))
        .copied()
}

/// Share of `p`'s distinct shingles that occur in `other`.
fn presence(p: &Paragraph, other: &HashSet<u32>) -> f32 {
    let d: HashSet<u32> = p.shingles.iter().copied().collect();
    if d.is_empty() {
        return 0.0;
    }
    d.iter().filter(|h| other.contains(h)).count() as f32 / d.len() as f32
}

/// Whether two texts that share enough to be copies are copies of one *item*, judged by their
/// leads (what a story is about is said in its first paragraph):
///
/// - Background paragraphs shared by two different agency stories on one event: neither
///   text's lead occurs in the other, so they are two stories however much else they share.
/// - The larger text is mostly its own (a roundup or column that embeds a whole wire story,
///   a story that quotes what a short comment or video page quotes): the smaller one is a
///   copy only when it holds the larger one's lead or is its beginning (a teaser or a
///   truncated copy, give or take a standfirst of at most 40 words). Text shared further
///   in is embedded, and they stay apart.
/// - Only one paragraph shared, and both have others (a quote both carry): a copy only
///   when it is the larger text's first.
///
/// Why the lead and not a containment threshold: a teaser and an embedded story are both
/// fully contained in the larger text; what tells them apart is where the shared text sits.
pub fn leads_agree(a: &[&Paragraph], b: &[&Paragraph], ev: &Evidence) -> bool {
    let (big, small, big_len) = if ev.a_len >= ev.b_len {
        (a, b, ev.a_len)
    } else {
        (b, a, ev.b_len)
    };
    let (Some(big_lead), Some(small_lead)) = (lead(big), lead(small)) else {
        return true;
    };
    let big_set = distinct(big);
    let small_set = distinct(small);
    // One paragraph shared and nothing else (a quote both carry): a copy only when it is the
    // larger text's very first, i.e. the smaller one is its teaser.
    let shared_paras = |xs: &[&Paragraph], other: &HashSet<u32>| -> Vec<usize> {
        xs.iter()
            .enumerate()
            .filter(|(_, p)| !p.shingles.is_empty() && presence(p, other) >= 0.5)
            .map(|(i, _)| i)
            .collect()
    };
    let (in_big, in_small) = (shared_paras(big, &small_set), shared_paras(small, &big_set));
    let words = |xs: &[&Paragraph]| xs.iter().filter(|p| !p.shingles.is_empty()).count();
    if in_big.len() == 1 && in_small.len() == 1 && words(big) > 1 && words(small) > 1 {
        let first = big.iter().position(|p| !p.shingles.is_empty());
        return first == Some(in_big[0]);
    }
    let big_lead_in_small = presence(big_lead, &small_set) >= LEAD_MATCH;
    if big_lead_in_small {
        return true;
    }
    // The larger text has as much of its own as it shares: the smaller one is a copy only
    // when it is the larger one's beginning (a teaser, a truncated copy), give or take a
    // standfirst or byline; shared text further in is embedded, not copied.
    let own = big_len.saturating_sub(ev.shared);
    if own >= ev.shared {
        let before: u32 = in_big
            .first()
            .map_or(u32::MAX, |&i| big[..i].iter().map(|p| p.tokens).sum());
        return before <= PREFIX_MAX_TOKENS;
    }
    presence(small_lead, &big_set) >= LEAD_MATCH
}
