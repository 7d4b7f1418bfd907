//! Raw entries → entries safe to republish.
//!
//! Pure functions, no I/O: given what the feed said and where it came from, produce sanitised
//! HTML with absolute URLs and a plain-text title. Boilerplate removal, tracking-parameter
//! stripping and wire metadata build on this module.

pub mod dom;
pub mod extract;
mod sanitize;
pub mod urls;

pub use sanitize::{html_to_text, sanitize_html};

use url::Url;

use crate::model::{CleanEntry, RawEntry};

/// Cleans one entry. `feed_url` is the feed's own address: relative links in the entry are
/// resolved against the entry's link when it has one, else against the feed.
pub fn clean_entry(raw: &RawEntry, feed_url: &Url) -> CleanEntry {
    let link = raw
        .link
        .as_deref()
        .and_then(|l| feed_url.join(l.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| urls::strip_tracking(&u));
    let base = link.clone().unwrap_or_else(|| feed_url.clone());
    let html = |s: &Option<String>| {
        s.as_deref()
            .map(|h| sanitize_html(h, &base))
            .filter(|h| !h.trim().is_empty())
    };
    let mut title = html_to_text(&raw.title);
    if title.is_empty() {
        // Atom requires a title; a headline-less item gets its first words instead.
        let body = raw
            .summary
            .as_deref()
            .or(raw.content.as_deref())
            .unwrap_or("");
        title = first_words(&html_to_text(body), 12);
    }
    CleanEntry {
        guid: raw.guid.clone(),
        link: link.map(String::from),
        title,
        author: raw
            .author
            .as_deref()
            .map(html_to_text)
            .filter(|a| !a.is_empty()),
        summary: html(&raw.summary),
        content: html(&raw.content),
        categories: raw
            .categories
            .iter()
            .map(|c| html_to_text(c))
            .filter(|c| !c.is_empty())
            .collect(),
        published: raw.published,
        updated: raw.updated,
    }
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
