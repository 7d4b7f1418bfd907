//! Structural scoring: finds the element that holds the article body.
//!
//! Paragraph-like blocks vote for their ancestors (more text and more commas mean more prose),
//! link-heavy containers are discounted, and class/id names that describe an article body add
//! weight. This is the Readability family of heuristics, rebuilt on the flat arena of
//! [`super::dom::Page`] so it runs in one linear pass plus short ancestor walks.

use super::dom::{NO_PARENT, Page};
use super::rules::Rules;

/// Minimum characters before a block votes for its ancestors.
const MIN_VOTE_CHARS: usize = 25;
/// How many ancestor levels one block's vote reaches.
const VOTE_LEVELS: usize = 5;

/// Per-element aggregates over the non-junk blocks inside it.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Characters of text in the subtree.
    pub chars: usize,
    /// Characters of link text in the subtree.
    pub link_chars: usize,
    /// Commas in the subtree's text.
    pub commas: usize,
    /// Paragraph blocks (`p`, or prose directly inside a `div`) of at least 80 characters.
    pub long_paras: usize,
    /// Readability-style content score (votes from descendant blocks).
    pub score: f64,
    /// Whether any block voted for this element.
    pub candidate: bool,
}

impl Stats {
    /// Share of the subtree's text that is link text; 0 for empty elements.
    pub fn link_density(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.chars as f64
        }
    }
}

/// Tags whose own text counts as a paragraph of prose.
pub fn is_para_tag(tag: &str) -> bool {
    matches!(tag, "p" | "pre" | "td" | "blockquote" | "dd")
}

/// Tags that can hold prose directly (text nodes between child blocks).
fn is_container_tag(tag: &str) -> bool {
    matches!(
        tag,
        "div" | "section" | "article" | "main" | "span" | "font" | "center"
    )
}

fn tag_weight(tag: &str) -> f64 {
    match tag {
        "div" | "article" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// Counts characters the way all layers do (Unicode scalar values).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Computes [`Stats`] for every element.
pub fn compute(page: &Page, rules: &Rules) -> Vec<Stats> {
    let mut stats = vec![Stats::default(); page.elems.len()];
    for b in page.blocks.iter().filter(|b| !b.junk) {
        let len = char_len(&b.text);
        let commas = b.text.matches([',', '，', '、']).count();
        let owner_tag = page.elems[b.owner].tag.as_str();
        let is_para = is_para_tag(owner_tag) || is_container_tag(owner_tag);
        let mut e = b.owner;
        while e != NO_PARENT {
            let s = &mut stats[e];
            s.chars += len;
            s.link_chars += b.link_chars;
            s.commas += commas;
            if is_para && len >= 80 {
                s.long_paras += 1;
            }
            e = page.elems[e].parent;
        }
        if !is_para || len < MIN_VOTE_CHARS {
            continue;
        }
        let ld = b.link_chars as f64 / len.max(1) as f64;
        let vote = (1.0 + commas as f64 + (len as f64 / 100.0).min(3.0)) * (1.0 - ld);
        let mut anc = if is_para_tag(owner_tag) {
            page.elems[b.owner].parent
        } else {
            b.owner
        };
        for level in 0..VOTE_LEVELS {
            if anc == NO_PARENT {
                break;
            }
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f64 * 3.0,
            };
            let s = &mut stats[anc];
            if !s.candidate {
                s.candidate = true;
                let el = &page.elems[anc];
                s.score += tag_weight(&el.tag);
                if rules.clutter.is_body_class(&el.class_id) {
                    s.score += 25.0;
                }
            }
            s.score += vote / div;
            anc = page.elems[anc].parent;
        }
    }
    stats
}

/// Score after the link-density discount.
fn final_score(s: &Stats) -> f64 {
    s.score * (1.0 - s.link_density())
}

/// Picks the element holding the article body, or `None` for a page without prose.
pub fn top_candidate(page: &Page, stats: &[Stats]) -> Option<usize> {
    let mut ranked: Vec<(f64, usize)> = stats
        .iter()
        .enumerate()
        .filter(|(i, s)| s.candidate && !page.elems[*i].junk)
        .map(|(i, s)| (final_score(s), i))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let &(best_score, mut top) = ranked.first()?;
    // Several strong candidates under one ancestor: the ancestor is the real container.
    let alts: Vec<usize> = ranked
        .iter()
        .skip(1)
        .take(4)
        .filter(|(s, _)| *s >= best_score * 0.75)
        .map(|&(_, i)| i)
        .collect();
    if alts.len() >= 2 {
        let mut anc = page.elems[top].parent;
        while anc != NO_PARENT && page.elems[anc].tag != "body" {
            let shared = alts.iter().filter(|&&a| page.is_within(a, anc)).count();
            if shared >= 2 {
                top = anc;
                break;
            }
            anc = page.elems[anc].parent;
        }
    }
    // Climb while the parent keeps gaining score: the body was split across children.
    let mut last = final_score(&stats[top]);
    let mut parent = page.elems[top].parent;
    while parent != NO_PARENT
        && page.elems[parent].tag != "body"
        && page.elems[parent].tag != "html"
    {
        if !stats[parent].candidate {
            parent = page.elems[parent].parent;
            continue;
        }
        let ps = final_score(&stats[parent]);
        if ps < last / 3.0 {
            break;
        }
        if ps > last {
            top = parent;
            break;
        }
        last = ps;
        parent = page.elems[parent].parent;
    }
    Some(top)
}

/// Elements elsewhere on the page built like `top` (same tag and class list): article bodies
/// split into chunks around ads or embeds.
fn twins(page: &Page, stats: &[Stats], top: usize) -> Vec<usize> {
    let t = &page.elems[top];
    if t.class_id.trim().is_empty() {
        return Vec::new();
    }
    page.elems
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            *i != top
                && !e.junk
                && e.tag == t.tag
                && e.class_id == t.class_id
                && stats[*i].long_paras >= 1
                && stats[*i].link_density() < 0.3
                && !page.is_within(*i, top)
                && !page.is_within(top, *i)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Sibling elements of `top` that also hold article text and should be merged with it.
pub fn related_siblings(page: &Page, stats: &[Stats], top: usize) -> Vec<usize> {
    let mut out = siblings(page, stats, top);
    for t in twins(page, stats, top) {
        if !out.iter().any(|&o| page.is_within(t, o)) {
            out.push(t);
        }
    }
    out
}

fn siblings(page: &Page, stats: &[Stats], top: usize) -> Vec<usize> {
    let parent = page.elems[top].parent;
    if parent == NO_PARENT {
        return vec![top];
    }
    let threshold = (final_score(&stats[top]) * 0.2).max(10.0);
    let mut out = Vec::new();
    for (i, el) in page.elems.iter().enumerate().skip(parent + 1) {
        if el.depth <= page.elems[parent].depth {
            break;
        }
        if el.parent != parent {
            continue;
        }
        if i == top {
            out.push(i);
            continue;
        }
        if el.junk {
            continue;
        }
        let s = &stats[i];
        let ld = s.link_density();
        if (s.candidate && final_score(s) >= threshold)
            || (el.tag == "p" && s.chars > 80 && ld < 0.25)
        {
            out.push(i);
        }
    }
    out
}

/// Share of the best region's net text that the top candidate must hold to stand alone.
const REGION_SHARE: f64 = 0.35;

/// Widens `top` to the page's best text region when `top` is only a part of it: articles
/// split into sibling sections ("text-section-body" after "text-section-body") vote for each
/// section separately, and the best section alone holds a fraction of the article. A region
/// is taken only when it contains `top` and `top` holds under [`REGION_SHARE`] of its net
/// text, so an article followed by a list of teasers with blurbs keeps to the article.
pub fn widen_to_region(page: &Page, top: usize) -> usize {
    let net = net_text(page);
    let mut best: Option<usize> = None;
    for (i, el) in page.elems.iter().enumerate() {
        if el.junk || net[i] <= 0.0 {
            continue;
        }
        // Deepest first among equals: a wrapper that adds nothing does not displace its child.
        let better = best.is_none_or(|b| {
            net[i] > net[b] + 1e-9 || (net[i] >= net[b] - 1e-9 && el.depth > page.elems[b].depth)
        });
        if better {
            best = Some(i);
        }
    }
    match best {
        Some(r) if page.is_within(top, r) && net[top] < REGION_SHARE * net[r] => r,
        _ => top,
    }
}

/// Net article text of every element's subtree: each block weighs its length, positive for
/// prose (few links), negative for link lists, page chrome and stray short lines, so a
/// container gains by taking in sections of the article and loses by taking in menus.
fn net_text(page: &Page) -> Vec<f64> {
    let mut sum = vec![0f64; page.elems.len()];
    for b in &page.blocks {
        let len = char_len(&b.text) as f64;
        let ld = b.link_chars as f64 / len.max(1.0);
        let w = if b.junk {
            -0.5 * len
        } else if ld >= 0.5 {
            -len
        } else if len >= 80.0 && ld < 0.25 {
            len * (1.0 - ld)
        } else if len >= 25.0 {
            0.3 * len * (1.0 - ld)
        } else {
            -0.2 * len
        };
        let mut e = b.owner;
        while e != NO_PARENT {
            sum[e] += w;
            e = page.elems[e].parent;
        }
    }
    sum
}
