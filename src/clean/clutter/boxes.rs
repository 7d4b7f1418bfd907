//! Containers and runs, not just sentences.
//!
//! The rules recognise furniture sentences ("Your support helps us…"), but a donation box
//! also holds sentences no rule knows ("From reproductive rights to climate change…"). So
//! decisions are widened by structure:
//! - a **box** (a `div`, `section`, `aside`, list…) goes whole, with its links, when its
//!   first block is a clutter heading, or when most of its blocks and text are clutter
//!   ([`furniture_box`]);
//! - a **run**: after a clutter heading, a block that is not clutter itself but sits between
//!   that heading (or blocks already swallowed) and more clutter belongs to the same box even
//!   when the page dropped the box's wrapper ([`swallow_runs`]).
//!
//! A container that holds most of the entry's own text is never dropped as a box, so a
//! wrapper around the whole story survives a furniture heading inside it.

use std::collections::HashMap;

use ego_tree::NodeId;

use crate::clean::doc::EntryDoc;

/// Most blocks a furniture box holds: a longer container is page structure.
const MAX_BOX_BLOCKS: usize = 12;

/// Whether a container is a furniture box by its tally: few blocks, at least a third of them
/// clutter, and clutter a quarter of its text or three blocks.
pub fn furniture_box(blocks: usize, hits: usize, chars: usize, hit_chars: usize) -> bool {
    blocks > 0
        && blocks <= MAX_BOX_BLOCKS
        && hits >= 1
        && hits * 3 >= blocks
        && (hit_chars * 4 >= chars || hits >= 3)
}

/// One block as [`swallow_runs`] sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunItem {
    /// Clutter by the rules.
    pub clutter: bool,
    /// A heading (`h1`–`h6`).
    pub heading: bool,
    /// Protected by a `keep` pattern: never swallowed.
    pub protected: bool,
}

/// Which non-clutter blocks belong to a clutter section: after a clutter heading, each block
/// that is followed by more clutter is swallowed, until a block that is not followed by
/// clutter or a heading that is not clutter ends the section.
pub fn swallow_runs(items: &[RunItem]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    let mut in_section = false;
    for i in 0..items.len() {
        let it = items[i];
        if it.clutter {
            in_section = in_section || it.heading;
            continue;
        }
        if !in_section || it.heading || it.protected {
            in_section = false;
            continue;
        }
        if items.get(i + 1).is_some_and(|n| n.clutter) {
            out[i] = true;
        } else {
            in_section = false;
        }
    }
    out
}

/// Containers that can be boxes.
fn is_box(tag: &str) -> bool {
    matches!(
        tag,
        "div"
            | "section"
            | "aside"
            | "ul"
            | "ol"
            | "dl"
            | "figure"
            | "details"
            | "header"
            | "footer"
            | "nav"
            | "form"
            | "table"
    )
}

/// What [`judge`] decided.
#[derive(Debug, Default)]
pub struct BoxVerdict {
    /// Per block: it goes (clutter by the rules, or swallowed by a run).
    pub blocks: Vec<bool>,
    /// Containers dropped whole.
    pub containers: Vec<NodeId>,
}

#[derive(Default)]
struct Tally {
    first: usize,
    blocks: usize,
    hits: usize,
    chars: usize,
    hit_chars: usize,
    kept_chars: usize,
}

/// Widens per-block `clutter` verdicts to runs and boxes; `protected` blocks (a `keep`
/// pattern matched) never go.
pub fn judge(doc: &EntryDoc, clutter: &[bool], protected: &[bool]) -> BoxVerdict {
    let blocks = doc.blocks();
    let items: Vec<RunItem> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| RunItem {
            clutter: clutter[i],
            heading: b.heading,
            protected: protected[i],
        })
        .collect();
    let swallowed = swallow_runs(&items);
    let gone: Vec<bool> = (0..blocks.len())
        .map(|i| (clutter[i] || swallowed[i]) && !protected[i])
        .collect();

    let root = doc.root().id();
    let mut tallies: HashMap<NodeId, Tally> = HashMap::new();
    let mut total_kept = 0usize;
    for (i, b) in blocks.iter().enumerate() {
        let len = b.text.chars().count();
        if !gone[i] {
            total_kept += len;
        }
        let mut cur = doc.html().tree.get(b.owner);
        while let Some(n) = cur {
            if n.id() == root {
                break;
            }
            if let Some(el) = n.value().as_element()
                && is_box(el.name())
            {
                let t = tallies.entry(n.id()).or_insert_with(|| Tally {
                    first: i,
                    ..Tally::default()
                });
                t.blocks += 1;
                t.chars += len;
                if gone[i] {
                    t.hits += 1;
                    t.hit_chars += len;
                } else {
                    t.kept_chars += len;
                }
            }
            cur = n.parent();
        }
    }
    let mut containers: Vec<NodeId> = tallies
        .iter()
        .filter(|(_, t)| {
            let heading_box = blocks[t.first].heading && gone[t.first];
            let holds_story = t.kept_chars * 2 > total_kept;
            let has_protected =
                (t.first..t.first + t.blocks).any(|i| protected.get(i) == Some(&true));
            !holds_story
                && !has_protected
                && (heading_box || furniture_box(t.blocks, t.hits, t.chars, t.hit_chars))
        })
        .map(|(id, _)| *id)
        .collect();
    containers.sort();
    BoxVerdict {
        blocks: gone,
        containers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(clutter: bool, heading: bool) -> RunItem {
        RunItem {
            clutter,
            heading,
            protected: false,
        }
    }

    #[test]
    fn a_clutter_heading_swallows_the_unknown_sentence_inside_its_box() {
        // heading(clutter), appeal sentence no rule knows, appeal(clutter), story
        let items = [
            item(true, true),
            item(false, false),
            item(true, false),
            item(false, false),
        ];
        assert_eq!(swallow_runs(&items), [false, true, false, false]);
    }

    #[test]
    fn a_story_paragraph_between_two_clutter_lines_is_not_swallowed_without_a_heading() {
        let items = [item(true, false), item(false, false), item(true, false)];
        assert_eq!(swallow_runs(&items), [false, false, false]);
    }

    #[test]
    fn boxes_go_whole_but_the_story_wrapper_stays() {
        let html = "<div><p>STORY one is long enough to be the story of this entry, and it goes on.</p>\
                    <div><h3>Support us</h3><p>Unknown sentence</p><ul><li><a href=/d>Give</a></li></ul></div>\
                    <p>STORY two continues the story with more words than the box has.</p></div>";
        let doc = EntryDoc::parse(html);
        let clutter: Vec<bool> = doc
            .blocks()
            .iter()
            .map(|b| b.text == "Support us")
            .collect();
        let protected = vec![false; clutter.len()];
        let v = judge(&doc, &clutter, &protected);
        assert_eq!(v.containers.len(), 1, "only the inner box");
        let boxed = doc.html().tree.get(v.containers[0]).unwrap();
        let text: String = scraper::ElementRef::wrap(boxed).unwrap().text().collect();
        assert_eq!(text, "Support usUnknown sentenceGive");
    }
}
