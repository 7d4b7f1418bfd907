//! Keyword patterns on an item's headline and text: `include` / `exclude` of `[[feeds]]`
//! (which stories a feed carries) and of `[[sources]]` (which entries are stored at all).
//!
//! Patterns are regular expressions, matched case-insensitively against the headline and
//! the text with its tags stripped. With `include` patterns an item must match one; an item
//! matching any `exclude` pattern is left out.

use regex::{Regex, RegexBuilder};

/// Compiled include and exclude patterns.
#[derive(Debug, Default)]
pub struct KeywordFilter {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

fn compile(patterns: &[String]) -> Vec<Regex> {
    // Config loading already rejected invalid patterns; one that fails here is skipped
    // rather than taking a feed or a source down.
    patterns
        .iter()
        .filter_map(|p| RegexBuilder::new(p).case_insensitive(true).build().ok())
        .collect()
}

impl KeywordFilter {
    /// Compiles the patterns (already validated by config loading).
    pub fn new(include: &[String], exclude: &[String]) -> KeywordFilter {
        KeywordFilter {
            include: compile(include),
            exclude: compile(exclude),
        }
    }

    /// Whether there is nothing to filter by (then no text needs to be read).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether an item with this headline and HTML body passes.
    pub fn keeps(&self, title: &str, html: &str) -> bool {
        if self.is_empty() {
            return true;
        }
        let text = format!("{title}\n{}", crate::clean::html_to_text(html));
        (self.include.is_empty() || self.include.iter().any(|r| r.is_match(&text)))
            && !self.exclude.iter().any(|r| r.is_match(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_needs_one_match_and_exclude_wins() {
        let f = KeywordFilter::new(&["flood".into(), "quake".into()], &["sport".into()]);
        assert!(f.keeps("River FLOODS town", "<p>Water</p>"));
        assert!(f.keeps("Town news", "<p>An <b>earthquake</b> at dawn</p>"));
        assert!(!f.keeps("Town news", "<p>Nothing happened</p>"));
        assert!(!f.keeps("Flood ends the sport season", ""));
        assert!(KeywordFilter::default().keeps("anything", ""));
    }
}
