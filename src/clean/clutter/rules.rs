//! The built-in clutter rules (`clutter.txt`), compiled once: class and id names of furniture
//! containers, and the wording of furniture paragraphs (notification prompts, appeals,
//! sign-ups, registration notices, "Read more" stubs…).
//!
//! Both the feed-entry cleaner and the page extractor ask these questions here, so what
//! counts as clutter is decided in one file.

use std::sync::OnceLock;

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::clean::CleanError;

const CLUTTER: &str = include_str!("clutter.txt");

/// Word count up to which a paragraph is "short" for `[short-phrase]` rules.
const SHORT_WORDS: usize = 25;

/// What a class/id string says about its element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassMark {
    /// Nothing.
    None,
    /// Furniture by its name, unless its text reads as an article (`[class]`).
    Weak,
    /// Furniture whatever its text (`[class-strong]`: comment threads read like prose).
    Strong,
}

/// The compiled `clutter.txt`.
#[derive(Debug)]
pub struct ClutterRules {
    class: RegexSet,
    class_strong: RegexSet,
    class_keep: RegexSet,
    phrase: RegexSet,
    short_phrase: RegexSet,
    fingerprint_skip: RegexSet,
    fingerprint_skip_short: RegexSet,
}

fn section_lines<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let mut cur = "";
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('[') && l.ends_with(']') {
            cur = &l[1..l.len() - 1];
        } else if cur == name {
            out.push(l);
        }
    }
    out
}

/// Rewrites `\b` to an ASCII word boundary: Unicode boundaries force the slow PikeVM engine
/// on non-ASCII pages, and every rule word is ASCII anyway.
pub fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// Compiles one section as byte-level rules: every rule word is ASCII, and without Unicode
/// classes the lazy DFA keeps a small set of states on text in any script (with Unicode
/// `.`/`\W` it kept building states for Cyrillic and CJK text, most of the stage's time).
/// A non-ASCII literal (`©`) still matches its UTF-8 bytes.
fn set(lines: &[&str]) -> Result<RegexSet, CleanError> {
    RegexSetBuilder::new(lines.iter().map(|l| ascii_boundaries(l)))
        .case_insensitive(true)
        .unicode(false)
        // A roomy lazy-DFA cache keeps the bounded `.{0,N}` rules off the slow NFA fallback.
        .dfa_size_limit(64 << 20)
        .build()
        .map_err(|e| CleanError::Rule(e.to_string()))
}

impl ClutterRules {
    /// Compiles rules given in the `clutter.txt` format; a bad pattern is an error, so that a
    /// broken data edit is caught by the unit tests, not silently ignored.
    pub fn parse(text: &str) -> Result<ClutterRules, CleanError> {
        Ok(ClutterRules {
            class: set(&section_lines(text, "class"))?,
            class_strong: set(&section_lines(text, "class-strong"))?,
            class_keep: set(&section_lines(text, "class-keep"))?,
            phrase: set(&section_lines(text, "phrase"))?,
            short_phrase: set(&section_lines(text, "short-phrase"))?,
            fingerprint_skip: set(&section_lines(text, "fingerprint-skip"))?,
            fingerprint_skip_short: set(&section_lines(text, "fingerprint-skip-short"))?,
        })
    }

    /// The rules shipped with the crate, compiled once per process.
    pub fn builtin() -> &'static ClutterRules {
        static RULES: OnceLock<ClutterRules> = OnceLock::new();
        RULES.get_or_init(|| {
            // The data file is part of the build and covered by `builtin_rules_parse`; a
            // failure here is a packaging bug, never caused by input.
            ClutterRules::parse(CLUTTER).expect("clutter.txt is valid")
        })
    }

    /// How strongly a lower-cased `class id` string names page furniture; a name that also
    /// names an article body (`[class-keep]`) is no mark.
    pub fn class_mark(&self, class_id: &str) -> ClassMark {
        let c = class_id.as_bytes();
        if class_id.trim().is_empty() || self.class_keep.is_match(c) {
            ClassMark::None
        } else if self.class_strong.is_match(c) {
            ClassMark::Strong
        } else if self.class.is_match(c) {
            ClassMark::Weak
        } else {
            ClassMark::None
        }
    }

    /// Whether a lower-cased `class id` string names an article-body container.
    pub fn is_body_class(&self, class_id: &str) -> bool {
        self.class_keep.is_match(class_id.as_bytes())
    }

    /// Whether a paragraph's text is furniture by its wording.
    pub fn is_clutter_text(&self, text: &str) -> bool {
        if self.phrase.is_match(text.as_bytes()) {
            return true;
        }
        text.split_whitespace().count() <= SHORT_WORDS
            && self.short_phrase.is_match(text.as_bytes())
    }

    /// Whether a kept paragraph credits, signs, corrects or introduces the story rather than
    /// telling it (`[fingerprint-skip]`): readers keep it, dedup does not fingerprint it,
    /// because outlets add and drop such lines freely around the same wire text.
    pub fn is_not_story_text(&self, text: &str) -> bool {
        // Every rule is bounded (the longest matches about 450 bytes of plain words, the
        // short rules 60 words), so a long paragraph is story text without a scan.
        if text.len() > MAX_NOT_STORY_BYTES {
            return false;
        }
        let plain = plain_words(text);
        if plain.is_empty() {
            return true; // "* * *", a lone dash: nothing of the story
        }
        self.fingerprint_skip.is_match(plain.as_bytes())
            || (plain.split(' ').count() <= NOT_STORY_SHORT_WORDS
                && self.fingerprint_skip_short.is_match(plain.as_bytes()))
    }
}

/// Word count up to which `[fingerprint-skip-short]` rules apply.
const NOT_STORY_SHORT_WORDS: usize = 60;

/// Paragraph length beyond which no `[fingerprint-skip]` rule can match.
const MAX_NOT_STORY_BYTES: usize = 4096;

/// A paragraph's plain words: lowercase, apostrophes inside words removed, every other run of
/// non-alphanumerics one space. Rules are written against this form so that punctuation and
/// quote style never decide a match.
fn plain_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_alnum = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            prev_alnum = true;
        } else if prev_alnum && matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}') {
            // "don't" reads "dont": a joiner, not a separator
        } else {
            if prev_alnum {
                out.push(' ');
            }
            prev_alnum = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        ClutterRules::parse(CLUTTER).unwrap();
    }

    #[test]
    fn class_rules_respect_body_veto_and_strength() {
        let r = ClutterRules::builtin();
        assert_eq!(r.class_mark("social-share-bar "), ClassMark::Weak);
        assert_eq!(r.class_mark("support-box "), ClassMark::Weak);
        assert_eq!(r.class_mark("comment-list "), ClassMark::Strong);
        assert_eq!(r.class_mark("article-body share-enabled"), ClassMark::None);
        assert_eq!(r.class_mark("headline "), ClassMark::None);
        // Page builders call their text boxes widgets: no mark.
        assert_eq!(
            r.class_mark("elementor-widget elementor-widget-text-editor"),
            ClassMark::None
        );
    }

    #[test]
    fn wording_marks_furniture_and_short_rules_only_short_paragraphs() {
        let r = ClutterRules::builtin();
        assert!(r.is_clutter_text("Notifications can be managed in browser preferences."));
        assert!(r.is_clutter_text("Sign up for our daily newsletter"));
        let long = format!("{} newsletter", "word ".repeat(40));
        assert!(!r.is_clutter_text(&long));
        assert!(!r.is_clutter_text("The minister said the plan would be published on Monday."));
    }

    #[test]
    fn credits_and_notes_are_not_story_text_but_stories_are() {
        let r = ClutterRules::builtin();
        assert_eq!(
            plain_words("“Don’t” — Copyright 2024 The A.P."),
            "dont copyright 2024 the a p"
        );
        for line in [
            "Via AP news wire",
            "The Associated Press contributed to this report.",
            "Reporting by Jane Roe; Editing by John Doe",
            "Correction: An earlier version misspelled a name.",
            "This story has been corrected to show the vote was on Tuesday.",
            "* * *",
            "Sign up for our newsletter to get the news in your inbox.",
        ] {
            assert!(r.is_not_story_text(line), "{line}");
        }
        for line in [
            "The minister said the plan would be published on Monday.",
            "Reporters from three agencies waited outside the court for the verdict.",
            &format!("{} subscribe", "word ".repeat(70)),
        ] {
            assert!(!r.is_not_story_text(line), "{line}");
        }
    }
}
