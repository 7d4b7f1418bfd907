//! Turns the chosen container into the article text.
//!
//! Inside the winning container some furniture survives structural scoring: link lists,
//! standfirsts, byline and date lines, donation boxes, share prompts. This layer removes them
//! with link density, position (headings above the first paragraph are title material) and the
//! data-driven phrase rules, then joins what is left with one blank line between paragraphs.

use super::date;
use super::dom::{NO_PARENT, Page};
use super::rules::Rules;
use super::score::{Stats, char_len, is_para_tag};
use crate::clean::clutter::boxes::{RunItem, furniture_box, swallow_runs};

/// A paragraph this long is prose, whatever other rule says about short lines.
const LONG_PARA: usize = 120;

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Characters below which an `<article>` nested inside the body is a teaser card.
const TEASER_CHARS: usize = 1500;

/// Why a sub-container of the article is dropped whole, if it is: an image figure, a teaser
/// card, or a link list.
fn drop_container(
    page: &Page,
    stats: &[Stats],
    e: usize,
    root_chars: usize,
) -> Option<&'static str> {
    let el = &page.elems[e];
    let s = &stats[e];
    match el.tag.as_str() {
        // A figure is an image and its caption, unless it holds a table (WordPress wraps
        // every table in `<figure class="wp-block-table">`) or a quotation.
        "figure" => {
            let holds_text = (e + 1..page.elems.len())
                .take_while(|&d| page.elems[d].depth > el.depth)
                .any(|d| matches!(page.elems[d].tag.as_str(), "table" | "blockquote"));
            return (!holds_text).then_some("figure");
        }
        "figcaption" => return Some("figure"),
        // An article inside the article is a related-story card (or a comment), unless it
        // holds most of the text (the scorer climbed above the real article element).
        "article" => {
            return (s.chars < TEASER_CHARS && s.chars * 2 < root_chars).then_some("teaser");
        }
        "div" | "section" | "ul" | "ol" | "table" | "dl" | "span" => {}
        _ => return None,
    }
    if s.chars == 0 {
        return None;
    }
    let ld = s.link_density();
    if s.commas >= 10 && ld < 0.5 {
        return None;
    }
    (ld > 0.5 || (ld > 0.25 && s.long_paras == 0)).then_some("link-list")
}

/// Collects the body paragraphs under the `roots` containers.
pub fn collect(
    page: &Page,
    stats: &[Stats],
    rules: &Rules,
    roots: &[usize],
    title: Option<&str>,
    mut verdicts: Option<&mut Vec<&'static str>>,
) -> Vec<String> {
    // Mark dropped sub-containers in document order (parents precede children).
    let n = page.elems.len();
    let mut inside = vec![false; n];
    let mut dropped = vec![false; n];
    // The reason for each element dropped by its own judgement (for `verdicts`).
    let mut drop_why: Vec<&'static str> = vec![""; n];
    let mut root_of = vec![NO_PARENT; n];
    for e in 0..n {
        let p = page.elems[e].parent;
        let root = roots.contains(&e);
        inside[e] = root || (p != NO_PARENT && inside[p]);
        if !inside[e] {
            continue;
        }
        root_of[e] = if root { e } else { root_of[p] };
        let root_chars = stats[root_of[e]].chars;
        let own = if root {
            None
        } else {
            drop_container(page, stats, e, root_chars)
        };
        drop_why[e] = own.unwrap_or("");
        dropped[e] = page.elems[e].junk || (p != NO_PARENT && !root && dropped[p]) || own.is_some();
    }
    // Furniture boxes (the clutter module's judgement): small containers whose blocks mostly
    // read as furniture, or whose first block is a furniture heading. Then runs: a sentence
    // no rule knows, between a furniture heading and more furniture, is part of the box.
    #[derive(Default, Clone, Copy)]
    struct Tally {
        first: usize,
        blocks: usize,
        hits: usize,
        chars: usize,
        hit_chars: usize,
    }
    let mut tally = vec![Tally::default(); n];
    let mut furniture = vec![false; page.blocks.len()];
    let considered: Vec<usize> = (0..page.blocks.len())
        .filter(|&bi| inside[page.blocks[bi].owner] && !dropped[page.blocks[bi].owner])
        .collect();
    let items: Vec<RunItem> = considered
        .iter()
        .map(|&bi| RunItem {
            clutter: rules.clutter.is_clutter_text(&page.blocks[bi].text),
            heading: is_heading(&page.elems[page.blocks[bi].owner].tag),
            protected: false,
        })
        .collect();
    let swallowed = swallow_runs(&items);
    let mut kept_chars = 0usize;
    for (k, &bi) in considered.iter().enumerate() {
        let b = &page.blocks[bi];
        let hit = items[k].clutter || swallowed[k];
        furniture[bi] = hit;
        let len = char_len(&b.text);
        if !hit {
            kept_chars += len;
        }
        let mut e = b.owner;
        while e != NO_PARENT && inside[e] && !roots.contains(&e) {
            if matches!(page.elems[e].tag.as_str(), "div" | "section" | "aside") {
                let t = &mut tally[e];
                if t.blocks == 0 {
                    t.first = bi;
                }
                t.blocks += 1;
                t.chars += len;
                if hit {
                    t.hits += 1;
                    t.hit_chars += len;
                }
            }
            e = page.elems[e].parent;
        }
    }
    for (e, t) in tally.iter().enumerate() {
        if t.blocks == 0 {
            continue;
        }
        let first = &page.blocks[t.first];
        let heading_box = furniture[t.first] && is_heading(&page.elems[first.owner].tag);
        let holds_story = (t.chars - t.hit_chars) * 2 > kept_chars;
        if !holds_story && (heading_box || furniture_box(t.blocks, t.hits, t.chars, t.hit_chars)) {
            dropped[e] = true;
            drop_why[e] = "furniture-box";
        }
    }
    // Propagate the new drops to descendants.
    for e in 0..n {
        let p = page.elems[e].parent;
        if p != NO_PARENT && inside[e] && !roots.contains(&e) && dropped[p] {
            dropped[e] = true;
        }
    }

    let title_norm = title.map(normalise);
    // Each entry: kept text (None when dropped as a link list) and whether it reads as a heading.
    let mut stream: Vec<(Option<String>, bool)> = Vec::new();
    let mut seen_para = false;
    // Long paragraphs already kept (a set: a page of 100,000 paragraphs compares each once).
    let mut long_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (bi, b) in page.blocks.iter().enumerate() {
        if !inside[b.owner] {
            continue;
        }
        // What happened to each block, for tuning (`verdicts`): the last word set wins.
        let mut why = |w: &'static str| {
            if let Some(v) = verdicts.as_deref_mut() {
                v[bi] = w;
            }
        };
        if b.junk {
            why("junk");
            continue;
        }
        let tag = page.elems[b.owner].tag.as_str();
        let len = char_len(&b.text);
        let ld = b.link_chars as f64 / len.max(1) as f64;
        if dropped[b.owner] || (ld > 0.5 && len < 400) {
            why(if dropped[b.owner] {
                // Named after the outermost dropped container.
                let mut d = b.owner;
                while page.elems[d].parent != NO_PARENT && dropped[page.elems[d].parent] {
                    d = page.elems[d].parent;
                }
                match drop_why[d] {
                    "" => "dropped-junk",
                    w => w,
                }
            } else {
                "link-dense"
            });
            stream.push((None, false));
            continue;
        }
        if tag == "h1" || (is_heading(tag) && !seen_para) {
            why("heading-before-text");
            continue;
        }
        if title_norm.as_deref() == Some(normalise(&b.text).as_str()) {
            why("title");
            continue;
        }
        if len < LONG_PARA && date::is_date_line(&b.text, rules) {
            why("date-line");
            continue;
        }
        if furniture[bi] {
            why("phrase-rule");
            continue;
        }
        // Repeated long paragraphs are pull quotes or embeds; short ones (recipe lines,
        // repeated sub-headings) legitimately recur.
        if len >= 100 && !long_seen.insert(b.text.as_str()) {
            why("repeated");
            continue;
        }
        if is_para_tag(tag) || len >= 80 {
            seen_para = true;
        }
        let heading_like = is_heading(tag) || page.elems[b.owner].class_id.contains("heading");
        why("kept");
        stream.push((Some(b.text.clone()), heading_like));
    }
    // A heading whose section was dropped (a "More stories" list) or that ends the text goes too.
    let mut out = Vec::new();
    for (i, (text, heading)) in stream.iter().enumerate() {
        let Some(text) = text else { continue };
        if *heading {
            // Its section: entries up to the next kept heading.
            let section = stream[i + 1..]
                .iter()
                .take_while(|(t, h)| !(t.is_some() && *h));
            let ends_text = i + 1 + section.clone().count() == stream.len();
            let had_dropped = section.clone().any(|(t, _)| t.is_none());
            if !section.clone().any(|(t, _)| t.is_some()) && (ends_text || had_dropped) {
                continue;
            }
        }
        out.push(text.clone());
    }
    trim_tail(&mut out, rules);
    out
}

/// Drops trailing one-line fragments (credits, sign-offs) that follow the last real paragraph.
fn trim_tail(out: &mut Vec<String>, rules: &Rules) {
    while let Some(last) = out.last() {
        let words = last.split_whitespace().count();
        let agency_only = words <= 3 && rules.agency_in(last).is_some();
        let fragment = words <= 2
            && char_len(last) <= 20
            && !last.ends_with(['.', '!', '?', '"', '”', '。', '！', '？', '」']);
        if agency_only || fragment {
            out.pop();
        } else {
            break;
        }
    }
}

/// Lower-cases and strips punctuation so titles compare equal across small typographic changes.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
