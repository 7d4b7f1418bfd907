//! Paragraphs left out of fingerprints: agency credit lines, correction notes,
//! "read more" stubs and short subscribe/newsletter furniture.
//!
//! Why here and not only in cleaning: the cleaning stage removes what it is
//! sure of (built-in rules, per-source rules, blocks learned because they
//! repeat across a source's entries) from what readers see. Fingerprints can
//! afford to be bolder: a line such as "Associated Press writers contributed"
//! stays in the published text, but it must not make two different AP stories
//! look alike, nor make a copy without it look different.

use regex::Regex;
use regex::bytes::{RegexSet, RegexSetBuilder};

use super::DedupError;

/// The built-in pattern file, compiled into the binary so that defaults work
/// without any setup.
pub const BUILTIN_PATTERNS: &str = include_str!("boilerplate.txt");

/// Compiled built-in boilerplate rules (see `boilerplate.txt` for the format).
///
/// Why a data file: the list will grow from real feeds; editing a text file
/// is safer than editing code.
#[derive(Debug, Clone)]
pub struct BuiltinBoilerplate {
    line: RegexSet,
    short: RegexSet,
    short_max_tokens: usize,
}

impl BuiltinBoilerplate {
    /// Parses rules in the `boilerplate.txt` format.
    ///
    /// Why fallible: a store- or config-supplied list can contain a bad regex,
    /// which must surface as an error, not a panic.
    pub fn parse(text: &str, short_max_tokens: usize) -> Result<Self, DedupError> {
        let (mut line, mut short) = (Vec::new(), Vec::new());
        for (n, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (kind, pat) = l
                .split_once(':')
                .ok_or(DedupError::PatternSyntax { line: n + 1 })?;
            let pat = pat.trim();
            Regex::new(pat).map_err(|e| DedupError::PatternRegex {
                line: n + 1,
                message: e.to_string(),
            })?;
            match kind.trim() {
                "line" => line.push(pat.to_string()),
                "short" => short.push(pat.to_string()),
                _ => return Err(DedupError::PatternSyntax { line: n + 1 }),
            }
        }
        let build = |v: &[String]| {
            RegexSetBuilder::new(v.iter().map(|p| byte_level(p)))
                .build()
                .map_err(|e| DedupError::PatternRegex {
                    line: 0,
                    message: e.to_string(),
                })
        };
        Ok(Self {
            line: build(&line)?,
            short: build(&short)?,
            short_max_tokens,
        })
    }

    /// The compiled-in default rules.
    ///
    /// Why: the engine must work without configuration.
    pub fn default_set(short_max_tokens: usize) -> Self {
        Self::parse(BUILTIN_PATTERNS, short_max_tokens).expect("built-in boilerplate.txt is valid")
    }

    /// A rule set that matches nothing (for ablations and tests).
    pub fn empty() -> Self {
        Self::parse("", 0).expect("empty rule set is valid")
    }

    /// True when a paragraph, given as its tokens, is boilerplate.
    ///
    /// Why tokens: rules are written against the space-joined token form, so
    /// punctuation never decides a match.
    pub fn matches(&self, tokens: &[String]) -> bool {
        if tokens.is_empty() {
            return true; // "___", "* * *", lone punctuation
        }
        let joined = tokens.join(" ");
        self.line.is_match(joined.as_bytes())
            || (tokens.len() <= self.short_max_tokens && self.short.is_match(joined.as_bytes()))
    }
}

/// The rule with `.` matching one byte and `\b` an ASCII boundary.
///
/// Why: with Unicode `.`, the bounded gaps of the `line` rules (`.{0,200}`) overflow the
/// lazy DFA's cache and the set falls back to the NFA, five times slower, on every paragraph
/// of every new entry; a Unicode `\b` does the same on non-ASCII text. Rule words are
/// ASCII, and a gap counted in bytes is only shorter on non-ASCII text.
fn byte_level(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let (mut chars, mut class) = (pattern.chars(), 0usize);
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b') if class == 0 => out.push_str(r"(?-u:\b)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' => {
                class += 1;
                out.push(c);
            }
            ']' if class > 0 => {
                class -= 1;
                out.push(c);
            }
            '.' if class == 0 => out.push_str("(?-u:.)"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::normalize::words;

    #[test]
    fn rules_become_byte_level_outside_classes_and_escapes() {
        assert_eq!(
            byte_level(r"^a.{0,9}\.b\b[.\]x]$"),
            r"^a(?-u:.){0,9}\.b(?-u:\b)[.\]x]$"
        );
    }

    #[test]
    fn builtin_rules_match_agency_lines_but_not_news() {
        let b = BuiltinBoilerplate::default_set(60);
        for s in [
            "Via AP news wire",
            "Copyright 2024 The Associated Press. All rights reserved.",
            "___",
            "Associated Press writers Jane Doe and John Roe contributed to this report.",
            "Sign up for our daily newsletter to get the news in your inbox.",
            "Continue reading…",
        ] {
            assert!(b.matches(&words(s)), "{s}");
        }
        let news = "The company said subscription revenue rose 12 percent in the third quarter, \
            beating analysts' forecasts, as customers signed up for its new streaming bundle \
            across Europe and Asia, and executives raised their outlook for the full year \
            while warning that costs for content and marketing would keep climbing.";
        assert!(!b.matches(&words(news)));
    }
}
