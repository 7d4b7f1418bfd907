//! Raw entries → entries safe to republish.
//!
//! Pure functions, no I/O: given what the feed said and where it came from, produce sanitised
//! HTML with absolute URLs and a plain-text title. Boilerplate removal, tracking-parameter
//! stripping and wire metadata build on this module.

pub mod depth;
pub mod dom;
pub mod extract;
pub mod learned;
mod sanitize;
pub mod urls;

pub use sanitize::{escape_html, html_to_text, sanitize_html};

use url::Url;

use crate::model::{CleanEntry, RawEntry};

/// The cleaning rules for one source: the built-in boilerplate rules (data files of the
/// extractor), the source's selectors and patterns, the global patterns, and whatever the
/// caller has learned about the source.
#[derive(Debug, Clone, Default)]
pub struct Cleaner {
    rules: dom::CompiledRules,
    drop: Vec<regex::Regex>,
    keep: Vec<regex::Regex>,
}

fn compile(patterns: &[String]) -> Vec<regex::Regex> {
    patterns
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
}

impl Cleaner {
    /// Compiles one source's rules (already validated by config loading).
    pub fn new(source: &crate::config::SourceRules, clean: &crate::config::CleanConfig) -> Cleaner {
        let mut drop = compile(&source.drop);
        drop.extend(compile(&clean.drop));
        Cleaner {
            rules: dom::CompiledRules::compile(&source.remove, &source.keep),
            drop,
            keep: compile(&clean.keep),
        }
    }

    /// Whether a block of text is clutter: kept by a `keep` pattern never; else a built-in
    /// rule, a `drop` pattern or the learned layer (`learned`) decides.
    pub fn is_clutter(&self, text: &str, learned: &dyn Fn(&str) -> bool) -> bool {
        if self.keep.iter().any(|k| k.is_match(text)) {
            return false;
        }
        let rules = extract::Rules::builtin();
        rules.is_boilerplate_text(text)
            || self.drop.iter().any(|d| d.is_match(text))
            || learned(text)
            // A line that is only a date stamp is metadata (read into `published`), not text.
            || (text.len() < 120
                && text.bytes().any(|b| b.is_ascii_digit())
                && extract::is_date_line(text, rules))
    }

    /// Cleans one entry. `feed_url` is the feed's own address: relative links in the entry are
    /// resolved against the entry's link when it has one, else against the feed.
    pub fn clean(
        &self,
        raw: &RawEntry,
        feed_url: &Url,
        learned: &dyn Fn(&str) -> bool,
    ) -> CleanEntry {
        let flat = |h: &Option<String>| {
            h.as_deref()
                .map(|h| depth::limit_nesting(h, depth::MAX_DEPTH))
                .filter(|c| matches!(c, std::borrow::Cow::Owned(_)))
                .map(std::borrow::Cow::into_owned)
        };
        let (content, summary) = (flat(&raw.content), flat(&raw.summary));
        if content.is_none() && summary.is_none() {
            return self.clean_blocks(raw, feed_url, &blocks_of(body_of(raw)), learned);
        }
        // A pathologically nested body: cleaned from its flattened copy.
        let raw = &RawEntry {
            content: content.or_else(|| raw.content.clone()),
            summary: summary.or_else(|| raw.summary.clone()),
            ..raw.clone()
        };
        self.clean_blocks(raw, feed_url, &blocks_of(body_of(raw)), learned)
    }

    /// [`Cleaner::clean`] for a caller that already split the entry's body into blocks
    /// (`blocks_of(body_of(raw))`), to parse the HTML once less.
    pub fn clean_blocks(
        &self,
        raw: &RawEntry,
        feed_url: &Url,
        blocks: &[String],
        learned: &dyn Fn(&str) -> bool,
    ) -> CleanEntry {
        let link = raw
            .link
            .as_deref()
            .and_then(|l| feed_url.join(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| urls::strip_tracking(&u));
        let base = link.clone().unwrap_or_else(|| feed_url.clone());
        let body = body_of(raw);
        let wire =
            extract::wire_from_blocks(blocks, raw.author.as_deref(), extract::Rules::builtin());
        let is_clutter = |t: &str| self.is_clutter(t, learned);
        let body_clutter = blocks.iter().any(|b| is_clutter(b));
        let html = |s: &Option<String>| {
            s.as_deref()
                .map(|h| {
                    // Pruning parses the HTML again; most entries need none of it.
                    let clutter = if std::ptr::eq(h, body) {
                        body_clutter
                    } else {
                        blocks_of(h).iter().any(|b| is_clutter(b))
                    };
                    if clutter || !self.rules.is_empty() || dom::may_hold_widgets(h) {
                        sanitize_html(&dom::prune(h, &self.rules, &is_clutter), &base)
                    } else {
                        sanitize_html(h, &base)
                    }
                })
                .filter(|h| has_text(h))
        };
        let mut title = html_to_text(&raw.title);
        if title.is_empty() {
            // Atom requires a title; a headline-less item gets its first words instead.
            title = first_words(&html_to_text(body), 12);
        }
        let author = raw
            .author
            .as_deref()
            .map(html_to_text)
            .filter(|a| !a.is_empty())
            .or_else(|| {
                wire.byline
                    .as_deref()
                    .and_then(|b| extract::authors_from_byline(b, extract::Rules::builtin()))
            });
        let mut categories: Vec<String> = raw
            .categories
            .iter()
            .map(|c| html_to_text(c))
            .filter(|c| !c.is_empty())
            .collect();
        if let Some(a) = &wire.agency
            && !categories.contains(a)
        {
            categories.push(a.clone());
        }
        CleanEntry {
            guid: raw.guid.clone(),
            link: link.map(String::from),
            title,
            author,
            summary: html(&raw.summary),
            content: html(&raw.content),
            categories,
            published: raw
                .published
                .or(wire.published.map(|d| d.with_timezone(&chrono::Utc))),
            updated: raw.updated,
            agency: wire.agency,
            dateline: wire.dateline,
            byline: wire.byline,
            media: raw.media.resolved(feed_url),
        }
    }
}

/// Removes the blocks `hit` selects from an already cleaned entry (when a block has just been
/// learned as boilerplate); `None` when the entry does not carry any of them.
pub fn strip_blocks(e: &CleanEntry, hit: &dyn Fn(&str) -> bool) -> Option<CleanEntry> {
    let none = dom::CompiledRules::default();
    let strip = |h: &Option<String>| -> Option<String> {
        h.as_deref()
            .map(|h| dom::prune(h, &none, hit))
            .filter(|h| has_text(h))
    };
    let carries = |h: &Option<String>| {
        h.as_deref()
            .is_some_and(|h| blocks_of(h).iter().any(|b| hit(b)))
    };
    if !carries(&e.summary) && !carries(&e.content) {
        return None;
    }
    Some(CleanEntry {
        summary: strip(&e.summary),
        content: strip(&e.content),
        ..e.clone()
    })
}

/// The HTML an entry's text is read from: its content, else its summary.
pub fn body_of(raw: &RawEntry) -> &str {
    raw.content
        .as_deref()
        .or(raw.summary.as_deref())
        .unwrap_or("")
}

/// Whether HTML has any visible text: a cheap scan instead of another parse.
fn has_text(html: &str) -> bool {
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => return true,
            _ => {}
        }
    }
    false
}

/// Cleans one entry with no source rules and nothing learned.
pub fn clean_entry(raw: &RawEntry, feed_url: &Url) -> CleanEntry {
    Cleaner::default().clean(raw, feed_url, &|_| false)
}

/// The text of each block (paragraph, list item, heading…) of an HTML fragment, in order:
/// what boilerplate rules and the learned layer judge, and where wire metadata is read.
pub fn blocks_of(html: &str) -> Vec<String> {
    dom::blocks(html)
}

/// Drops dates no reader should see: in the future (beyond a day of clock skew) or before
/// the web had news feeds. Such dates would pin an entry to the top of every feed or bury it;
/// without them the entry is dated when wirefeed first saw it.
pub fn plausible_dates(e: &mut CleanEntry, now: chrono::DateTime<chrono::Utc>) {
    let earliest = chrono::DateTime::from_timestamp(631_152_000, 0).unwrap_or_default(); // 1990-01-01
    let latest = now + chrono::Duration::days(1);
    let ok =
        |d: &Option<chrono::DateTime<chrono::Utc>>| d.filter(|d| *d >= earliest && *d <= latest);
    e.published = ok(&e.published);
    e.updated = ok(&e.updated);
}

fn first_words(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut s = words[..words.len().min(n)].join(" ");
    if words.len() > n {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_become_absolute_and_titles_plain() {
        let raw = RawEntry {
            guid: "g".into(),
            link: Some("/world/story-1".into()),
            title: "Quakes &amp; <b>floods</b>".into(),
            summary: Some(
                r#"<p>See <a href="../photos">photos</a><script>alert(1)</script></p>"#.into(),
            ),
            ..Default::default()
        };
        let feed = Url::parse("https://news.example/rss/world.xml").unwrap();
        let c = clean_entry(&raw, &feed);
        assert_eq!(
            c.link.as_deref(),
            Some("https://news.example/world/story-1")
        );
        assert_eq!(c.title, "Quakes & floods");
        let s = c.summary.unwrap();
        assert!(s.contains(r#"href="https://news.example/photos""#), "{s}");
        assert!(!s.contains("script"), "{s}");
    }

    #[test]
    fn untitled_entries_get_their_first_words() {
        let raw = RawEntry {
            guid: "g".into(),
            summary: Some(
                "<p>One two three four five six seven eight nine ten eleven twelve thirteen</p>"
                    .into(),
            ),
            ..Default::default()
        };
        let c = clean_entry(&raw, &Url::parse("https://x.example/").unwrap());
        assert_eq!(
            c.title,
            "One two three four five six seven eight nine ten eleven twelve…"
        );
    }

    #[test]
    fn a_date_stamp_in_the_text_dates_an_entry_the_feed_left_undated() {
        let raw = RawEntry {
            guid: "g".into(),
            title: "t".into(),
            content: Some("<p>Via AP news wire</p><p>Tuesday 13 June 2023 03:03 BST</p><p>CARACAS, Venezuela (AP) — The two presidents signed agreements on Monday in the capital.</p>".into()),
            ..Default::default()
        };
        let c = clean_entry(&raw, &Url::parse("https://x.example/").unwrap());
        assert_eq!(
            c.published.unwrap().to_rfc3339(),
            "2023-06-13T02:03:00+00:00"
        );
        assert_eq!(c.agency.as_deref(), Some("AP"));
        let content = c.content.unwrap();
        assert!(
            !content.contains("Via AP") && !content.contains("03:03 BST"),
            "{content}"
        );
    }

    #[test]
    fn javascript_links_are_dropped() {
        let raw = RawEntry {
            guid: "g".into(),
            link: Some("javascript:alert(1)".into()),
            title: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            clean_entry(&raw, &Url::parse("https://x.example/").unwrap()).link,
            None
        );
    }
}
