//! Data-driven rules: boilerplate patterns, news agencies and time-zone abbreviations.
//!
//! The rules live in plain-text files beside this module (`boilerplate.txt`, `agencies.txt`,
//! `timezones.txt`) so editors can extend them without touching code; they are compiled into
//! the binary with `include_str!` and parsed once.

use std::sync::OnceLock;

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::ExtractError;

const BOILERPLATE: &str = include_str!("boilerplate.txt");
const AGENCIES: &str = include_str!("agencies.txt");
const TIMEZONES: &str = include_str!("timezones.txt");

/// Word count up to which a paragraph is "short" for `[short-phrase]` rules.
const SHORT_WORDS: usize = 25;

/// One news agency: the code reported in `Article::agency` and a matcher for its names.
#[derive(Debug)]
pub struct Agency {
    /// Short code, e.g. "AP".
    pub code: String,
    /// Whole-word matcher for every alias.
    pub pattern: Regex,
}

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

/// All compiled rules.
#[derive(Debug)]
pub struct Rules {
    class: RegexSet,
    class_strong: RegexSet,
    class_keep: RegexSet,
    phrase: RegexSet,
    short_phrase: RegexSet,
    /// Agencies in file order (earlier wins on ties).
    pub agencies: Vec<Agency>,
    /// Time-zone abbreviation to offset in seconds east of UTC.
    pub timezones: Vec<(String, i32)>,
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

fn set(lines: &[&str]) -> Result<RegexSet, ExtractError> {
    RegexSetBuilder::new(lines.iter().map(|l| ascii_boundaries(l)))
        .case_insensitive(true)
        // A roomy lazy-DFA cache keeps the bounded `.{0,N}` rules off the slow NFA fallback.
        .dfa_size_limit(64 << 20)
        .build()
        .map_err(|e| ExtractError::Rule(e.to_string()))
}

fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    Some(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60))
}

impl Rules {
    /// Compiles rule files given as text; fails on a bad regex or a malformed line so that a
    /// broken data edit is caught by the unit tests, not silently ignored.
    pub fn parse(boilerplate: &str, agencies: &str, timezones: &str) -> Result<Self, ExtractError> {
        let mut ag = Vec::new();
        for line in agencies.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (code, aliases) = line
                .split_once('=')
                .ok_or_else(|| ExtractError::Rule(format!("agency line without '=': {line}")))?;
            let alts: Vec<String> = aliases
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    let esc = regex::escape(a);
                    let short_code = a.len() <= 5 && a.chars().all(|c| c.is_ascii_uppercase());
                    if short_code {
                        esc
                    } else {
                        format!("(?i:{esc})")
                    }
                })
                .collect();
            let pattern = Regex::new(&ascii_boundaries(&format!(r"\b(?:{})\b", alts.join("|"))))
                .map_err(|e| ExtractError::Rule(e.to_string()))?;
            ag.push(Agency {
                code: code.trim().to_string(),
                pattern,
            });
        }
        let mut tz = Vec::new();
        for line in timezones.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut it = line.split_whitespace();
            let (Some(abbr), Some(off)) = (it.next(), it.next()) else {
                return Err(ExtractError::Rule(format!("bad time-zone line: {line}")));
            };
            let off = parse_offset(off)
                .ok_or_else(|| ExtractError::Rule(format!("bad offset: {line}")))?;
            tz.push((abbr.to_string(), off));
        }
        Ok(Self {
            class: set(&section_lines(boilerplate, "class"))?,
            class_strong: set(&section_lines(boilerplate, "class-strong"))?,
            class_keep: set(&section_lines(boilerplate, "class-keep"))?,
            phrase: set(&section_lines(boilerplate, "phrase"))?,
            short_phrase: set(&section_lines(boilerplate, "short-phrase"))?,
            agencies: ag,
            timezones: tz,
        })
    }

    /// The rules shipped with the crate, compiled once per process.
    pub fn builtin() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(|| {
            // The data files are part of the build and covered by `builtin_rules_parse`;
            // a failure here is a packaging bug, never caused by page input.
            Rules::parse(BOILERPLATE, AGENCIES, TIMEZONES).expect("built-in rule files are valid")
        })
    }

    /// Whether a lower-cased `class id` string names page furniture (and no body container).
    pub fn is_boilerplate_class(&self, class_id: &str) -> bool {
        self.boilerplate_class(class_id) != ClassMark::None
    }

    /// How strongly a lower-cased `class id` string names page furniture; a name that also
    /// names an article body (`[class-keep]`) is no mark.
    pub fn boilerplate_class(&self, class_id: &str) -> ClassMark {
        if class_id.trim().is_empty() || self.class_keep.is_match(class_id) {
            ClassMark::None
        } else if self.class_strong.is_match(class_id) {
            ClassMark::Strong
        } else if self.class.is_match(class_id) {
            ClassMark::Weak
        } else {
            ClassMark::None
        }
    }

    /// Whether a lower-cased `class id` string names an article-body container.
    pub fn is_body_class(&self, class_id: &str) -> bool {
        self.class_keep.is_match(class_id)
    }

    /// Whether a paragraph's text is site furniture by its wording.
    pub fn is_boilerplate_text(&self, text: &str) -> bool {
        if self.phrase.is_match(text) {
            return true;
        }
        text.split_whitespace().count() <= SHORT_WORDS && self.short_phrase.is_match(text)
    }

    /// The agency whose name appears in `text`, if any (first in file order).
    pub fn agency_in(&self, text: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.pattern.is_match(text))
    }

    /// Offset in seconds east of UTC for a time-zone abbreviation.
    pub fn tz_offset(&self, abbr: &str) -> Option<i32> {
        self.timezones
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(abbr))
            .map(|(_, o)| *o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        Rules::parse(BOILERPLATE, AGENCIES, TIMEZONES).unwrap();
    }

    #[test]
    fn class_rules_respect_body_veto() {
        let r = Rules::builtin();
        assert!(r.is_boilerplate_class("social-share-bar "));
        assert!(r.is_boilerplate_class("support-box "));
        assert!(!r.is_boilerplate_class("article-body share-enabled"));
        assert!(!r.is_boilerplate_class("headline "));
    }

    #[test]
    fn agency_codes_are_case_sensitive() {
        let r = Rules::builtin();
        assert_eq!(
            r.agency_in("Via AP news wire").map(|a| a.code.as_str()),
            Some("AP")
        );
        assert!(r.agency_in("a map of the area").is_none());
        assert_eq!(
            r.agency_in("(Reuters) -").map(|a| a.code.as_str()),
            Some("Reuters")
        );
    }
}
