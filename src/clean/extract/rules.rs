//! Data-driven rules of the extractor: news agencies and time-zone abbreviations, beside the
//! clutter rules it shares with the feed-entry cleaner ([`crate::clean::clutter`]).
//!
//! The rules live in plain-text files (`agencies.txt`, `timezones.txt` here, `clutter.txt` in
//! the clutter module) so editors can extend them without touching code; they are compiled
//! into the binary with `include_str!` and parsed once.

use std::sync::OnceLock;

use regex::Regex;

use super::ExtractError;
use crate::clean::clutter::rules::ClutterRules;
pub use crate::clean::clutter::rules::ascii_boundaries;

const AGENCIES: &str = include_str!("agencies.txt");
const TIMEZONES: &str = include_str!("timezones.txt");

/// One news agency: the code reported in `Article::agency` and a matcher for its names.
#[derive(Debug)]
pub struct Agency {
    /// Short code, e.g. "AP".
    pub code: String,
    /// Whole-word matcher for every alias.
    pub pattern: Regex,
}

/// All compiled rules.
#[derive(Debug)]
pub struct Rules {
    /// What counts as clutter, shared with the feed-entry cleaner.
    pub clutter: &'static ClutterRules,
    /// Agencies in file order (earlier wins on ties).
    pub agencies: Vec<Agency>,
    /// Time-zone abbreviation to offset in seconds east of UTC.
    pub timezones: Vec<(String, i32)>,
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
    pub fn parse(agencies: &str, timezones: &str) -> Result<Self, ExtractError> {
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
            clutter: ClutterRules::builtin(),
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
            Rules::parse(AGENCIES, TIMEZONES).expect("built-in rule files are valid")
        })
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
        Rules::parse(AGENCIES, TIMEZONES).unwrap();
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
