//! Clutter: everything publishers wrap a story in, and the one place that decides it goes.
//!
//! Where is boilerplate removed? Here, in four layers, cheapest first:
//! - [`trackers`]: tracking pixels, analytics beacons, FeedBurner "flare" links and share
//!   widgets, by element;
//! - the source's own rules ([`SourceRules`]: `remove`/`keep` selectors, `drop` patterns) and
//!   the global `[clean] drop`/`keep` patterns;
//! - the built-in rules ([`rules`], data in `clutter.txt`): furniture by wording, and for
//!   pages by class name;
//! - what was [`learned`]: a block seen in several entries of one source is its clutter, and
//!   leaves the stored entries too ([`learned::strip_stored`]).
//!
//! Then [`boxes`] judges containers and runs, not just sentences: a box whose heading or
//! most of whose text is clutter goes whole, with its links.
//!
//! The feed-entry cleaner asks [`Clutter::judge`] once per parsed entry; the page extractor
//! (`clean::extract`) reads the same rules and box decisions.
//!
//! Last, [`story_blocks`] says which kept blocks tell the story: credits, corrections and
//! sign-up lines stay for readers, but dedup fingerprints only the rest (it keeps no list of
//! its own).

pub mod boxes;
pub mod learned;
pub mod rules;
pub mod trackers;

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use super::doc::EntryDoc;
use rules::ClutterRules;

/// The kept blocks that tell the story: what dedup fingerprints. Credit, correction and
/// sign-up lines (`[fingerprint-skip]` in `clutter.txt`) stay on display but are left out,
/// because outlets add and drop them around the same wire text.
pub fn story_blocks<'a>(kept: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let rules = ClutterRules::builtin();
    kept.into_iter()
        .filter(|t| !rules.is_not_story_text(t))
        .map(str::to_string)
        .collect()
}

/// One source's clutter settings, as the config states them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClutterSettings {
    /// CSS selectors of elements removed from the source's entries.
    pub remove: Vec<String>,
    /// CSS selectors: when given, only matching elements are kept.
    pub keep: Vec<String>,
    /// Regular expressions: paragraphs matching are dropped (the source's and the global).
    pub drop: Vec<String>,
    /// Regular expressions: paragraphs matching are never clutter (overrides every layer).
    pub never: Vec<String>,
}

/// One source's rules, compiled once.
#[derive(Debug, Clone, Default)]
pub struct SourceRules {
    remove: Vec<Selector>,
    keep: Vec<Selector>,
    drop: Vec<regex::Regex>,
    never: Vec<regex::Regex>,
}

impl SourceRules {
    /// Compiles settings already validated by config loading; an invalid item is skipped.
    pub fn compile(s: &ClutterSettings) -> SourceRules {
        let sel = |list: &[String]| {
            list.iter()
                .filter_map(|s| Selector::parse(s).ok())
                .collect()
        };
        let re = |list: &[String]| {
            list.iter()
                .filter_map(|p| regex::Regex::new(p).ok())
                .collect()
        };
        SourceRules {
            remove: sel(&s.remove),
            keep: sel(&s.keep),
            drop: re(&s.drop),
            never: re(&s.never),
        }
    }
}

/// What to take out of one parsed entry field.
#[derive(Debug, Default)]
pub struct Judgement {
    /// Nodes to leave out of the published HTML (with everything inside them).
    pub drop: HashSet<NodeId>,
    /// Indices of the blocks that stay: the text dedup fingerprints.
    pub kept: Vec<usize>,
}

/// The clutter knowledge for one source.
#[derive(Debug, Clone, Default)]
pub struct Clutter {
    source: SourceRules,
}

impl Clutter {
    /// The built-in rules plus this source's settings.
    pub fn new(settings: &ClutterSettings) -> Clutter {
        Clutter {
            source: SourceRules::compile(settings),
        }
    }

    fn rules() -> &'static ClutterRules {
        ClutterRules::builtin()
    }

    /// Whether one block of text is clutter: never when a `keep` pattern matches; else by
    /// built-in wording, a `drop` pattern, the learned layer, or because it is only a date
    /// stamp (read into the entry's date, not text).
    pub fn is_clutter(&self, text: &str, learned: &dyn Fn(&str) -> bool) -> bool {
        if self.source.never.iter().any(|k| k.is_match(text)) {
            return false;
        }
        Self::rules().is_clutter_text(text)
            || self.source.drop.iter().any(|d| d.is_match(text))
            || learned(text)
            || is_date_stamp(text)
    }

    /// Decides what of `doc` is clutter, in one pass over its elements and one over its
    /// blocks.
    pub fn judge(&self, doc: &EntryDoc, learned: &dyn Fn(&str) -> bool) -> Judgement {
        let mut drop: HashSet<NodeId> = HashSet::new();
        for sel in &self.source.remove {
            drop.extend(doc.html().select(sel).map(|e| e.id()));
        }
        if !self.source.keep.is_empty() {
            keep_only(doc, &self.source.keep, &mut drop);
        }
        for el in doc.root().descendants().filter_map(ElementRef::wrap) {
            if trackers::is_tracker(&el) || trackers::is_share_widget(&el) {
                drop.insert(el.id());
            }
        }
        let blocks = doc.blocks();
        let protected: Vec<bool> = blocks
            .iter()
            .map(|b| self.source.never.iter().any(|k| k.is_match(&b.text)))
            .collect();
        let clutter: Vec<bool> = blocks
            .iter()
            .zip(&protected)
            .map(|(b, &p)| !p && self.is_clutter(&b.text, learned))
            .collect();
        let verdict = boxes::judge(doc, &clutter, &protected);
        for (b, gone) in blocks.iter().zip(&verdict.blocks) {
            if *gone {
                if b.whole && b.owner != doc.root().id() {
                    drop.insert(b.owner);
                } else {
                    drop.extend(b.texts.iter().copied());
                }
            }
        }
        drop.extend(verdict.containers);
        let kept = (0..blocks.len())
            .filter(|&i| !verdict.blocks[i] && !inside(doc, blocks[i].owner, &drop))
            .collect();
        Judgement { drop, kept }
    }
}

/// A line that is only a date stamp ("Tuesday 13 June 2023 03:03 BST").
fn is_date_stamp(text: &str) -> bool {
    text.len() < 120
        && text.bytes().any(|b| b.is_ascii_digit())
        && super::extract::is_date_line(text, super::extract::Rules::builtin())
}

/// Whether `node` or one of its ancestors is dropped.
fn inside(doc: &EntryDoc, node: NodeId, drop: &HashSet<NodeId>) -> bool {
    let mut cur = doc.html().tree.get(node);
    while let Some(n) = cur {
        if drop.contains(&n.id()) {
            return true;
        }
        cur = n.parent();
    }
    false
}

/// Drops everything that neither is inside an element `keep` selects nor contains one.
fn keep_only(doc: &EntryDoc, keep: &[Selector], drop: &mut HashSet<NodeId>) {
    let kept: HashSet<NodeId> = keep
        .iter()
        .flat_map(|s| doc.html().select(s).map(|e| e.id()))
        .collect();
    if kept.is_empty() {
        return;
    }
    let mut holds: HashSet<NodeId> = HashSet::new();
    for id in &kept {
        let mut cur = doc.html().tree.get(*id).and_then(|n| n.parent());
        while let Some(n) = cur {
            if !holds.insert(n.id()) {
                break;
            }
            cur = n.parent();
        }
    }
    let mut stack = vec![doc.root().id()];
    while let Some(id) = stack.pop() {
        let Some(node) = doc.html().tree.get(id) else {
            continue;
        };
        for child in node.children() {
            if kept.contains(&child.id()) {
                continue;
            }
            if holds.contains(&child.id()) {
                stack.push(child.id());
            } else {
                drop.insert(child.id());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_text(doc: &EntryDoc, j: &Judgement) -> Vec<String> {
        j.kept
            .iter()
            .map(|&i| doc.blocks()[i].text.clone())
            .collect()
    }

    #[test]
    fn selector_rules_remove_and_keep() {
        let html = "<div class=\"ad\">Buy</div><article><p>Story</p></article><p>Footer</p>";
        let c = Clutter::new(&ClutterSettings {
            remove: vec![".ad".into()],
            ..Default::default()
        });
        let doc = EntryDoc::parse(html);
        assert_eq!(
            ids_text(&doc, &c.judge(&doc, &|_| false)),
            ["Story", "Footer"]
        );
        let c = Clutter::new(&ClutterSettings {
            keep: vec!["article".into()],
            ..Default::default()
        });
        assert_eq!(ids_text(&doc, &c.judge(&doc, &|_| false)), ["Story"]);
    }

    #[test]
    fn drop_and_never_patterns_and_the_learned_layer() {
        let html = "<p>Sign up for our newsletter</p><p>The story.</p><p>Sponsored by Acme</p><p>From our sponsor</p>";
        let c = Clutter::new(&ClutterSettings {
            drop: vec!["^Sponsored by".into()],
            never: vec!["newsletter".into()],
            ..Default::default()
        });
        let doc = EntryDoc::parse(html);
        let j = c.judge(&doc, &|t| t == "From our sponsor");
        assert_eq!(
            ids_text(&doc, &j),
            ["Sign up for our newsletter", "The story."]
        );
    }
}
