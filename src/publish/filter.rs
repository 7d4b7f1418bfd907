//! Which stories a feed carries beyond its sources: keyword patterns, language, outlets.

use crate::config::FeedConfig;
use crate::keywords::KeywordFilter;
use crate::model::StoredStory;

/// A feed's story filter, compiled once per rendering.
#[derive(Debug)]
pub struct StoryFilter {
    keywords: KeywordFilter,
    language: Option<String>,
    min_outlets: usize,
}

/// The primary language subtag, lower-cased: `en-GB` and `en_us` are both `en`.
fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

impl StoryFilter {
    /// The filter a feed's configuration asks for.
    pub fn of(feed: &FeedConfig) -> StoryFilter {
        StoryFilter {
            keywords: KeywordFilter::new(&feed.include, &feed.exclude),
            language: feed.language.as_deref().map(primary),
            min_outlets: feed.min_outlets,
        }
    }

    /// Whether the feed carries a story.
    ///
    /// Patterns are matched against the headline and the text (tags stripped); a story
    /// whose source declares no language is kept by a language filter: most feeds do not
    /// say, and dropping them all would empty the feed.
    pub fn keeps(&self, s: &StoredStory) -> bool {
        if s.outlets() < self.min_outlets {
            return false;
        }
        if let (Some(want), Some(have)) = (&self.language, &s.entry.language)
            && primary(have) != *want
        {
            return false;
        }
        let e = &s.entry;
        let body = e.content.as_deref().or(e.summary.as_deref()).unwrap_or("");
        self.keywords.keeps(&e.title, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StoredEntry, StoryMember};

    fn feed() -> FeedConfig {
        FeedConfig {
            name: "f".into(),
            title: "F".into(),
            description: None,
            sources: vec!["a".into()],
            limit: 10,
            dedup: true,
            include: vec![],
            exclude: vec![],
            language: None,
            min_outlets: 1,
            show_changes: true,
        }
    }

    fn story(title: &str, body: &str, lang: Option<&str>, others: &[&str]) -> StoredStory {
        StoredStory {
            entry: StoredEntry {
                public_id: "urn:uuid:1".into(),
                source_name: "a".into(),
                title: title.into(),
                content: Some(format!("<p>{body}</p>")),
                language: lang.map(String::from),
                ..Default::default()
            },
            others: others
                .iter()
                .map(|s| StoryMember {
                    source: s.to_string(),
                    url: None,
                    guid: "g".into(),
                })
                .collect(),
            revisions: 1,
        }
    }

    #[test]
    fn include_and_exclude_match_title_or_text_case_insensitively() {
        let mut f = feed();
        f.include = vec!["earthquake|tsunami".into()];
        f.exclude = vec![r"\bsports?\b".into()];
        let filter = StoryFilter::of(&f);
        assert!(filter.keeps(&story("EARTHQUAKE hits coast", "", None, &[])));
        assert!(filter.keeps(&story("Coast", "A <b>tsunami</b> warning", None, &[])));
        assert!(!filter.keeps(&story("Elections", "Polls open", None, &[])));
        assert!(!filter.keeps(&story("Earthquake halts Sport event", "", None, &[])));
    }

    #[test]
    fn language_compares_primary_subtags_and_keeps_undeclared() {
        let mut f = feed();
        f.language = Some("en-GB".into());
        let filter = StoryFilter::of(&f);
        assert!(filter.keeps(&story("x", "", Some("en-US"), &[])));
        assert!(filter.keeps(&story("x", "", None, &[])));
        assert!(!filter.keeps(&story("x", "", Some("de"), &[])));
    }

    #[test]
    fn min_outlets_counts_distinct_sources() {
        let mut f = feed();
        f.min_outlets = 3;
        let filter = StoryFilter::of(&f);
        assert!(!filter.keeps(&story("x", "", None, &["b", "b"])));
        assert!(filter.keeps(&story("x", "", None, &["b", "c"])));
    }
}
