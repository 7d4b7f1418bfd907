//! Feed bytes → [`ParsedFeed`]: decoding, dialect bridges, feed-rs, and stable entry identity.
//!
//! feed-rs does the format work (RSS 0.91/0.92/1.0/2.0, Atom 1.0, JSON Feed 1.0/1.1). Around it
//! this module adds what a long-running ingester needs: text decoded from any declared charset
//! (see [`encoding`]), old dialects bridged (see [`legacy`]), and an entry identity that never
//! changes between fetches even when the feed gives no guid — feed-rs would otherwise invent a
//! random one, and every fetch would look like a new story.

pub mod encoding;
pub mod legacy;
pub mod limits;

use std::time::Duration;

use crate::model::{FeedMeta, ParsedFeed, RawEntry};

/// Why bytes could not be read as a feed; shown per source in logs and the status page.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: the document is empty")]
    Empty,
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("malformed feed: {0}")]
    Malformed(String),
}

/// Limits that protect memory from a hostile or broken feed.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Entries beyond this many (in document order) are ignored.
    pub max_entries: usize,
    /// Any single text field (title, summary, content) is cut at this many bytes.
    pub max_field: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_entries: 1000,
            max_field: 1 << 20,
        }
    }
}

/// Parses feed bytes. `http_charset` is the response's charset parameter; `base` is the feed's
/// own URL, against which feed-rs resolves relative links.
pub fn parse_feed(
    bytes: &[u8],
    http_charset: Option<&str>,
    base: Option<&str>,
    limits: ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF))
        .ok_or(ParseError::Empty)?;
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        // An empty id marks "the feed gave none"; `stable_guid` then derives one we control.
        .id_generator(|_, _, _| String::new())
        .build();
    let mut sy_interval = None;
    let feed = if bytes[first] == b'{' {
        let text = String::from_utf8_lossy(&bytes[first..]);
        // JSON Feed 1.0 was announced with an http:// version URL that feed-rs rejects.
        let text = text.replacen(
            "\"http://jsonfeed.org/version/",
            "\"https://jsonfeed.org/version/",
            1,
        );
        guarded(|| parser.parse(text.as_bytes()))
    } else {
        let decoded = encoding::decode(bytes, http_charset);
        sy_interval = syndication_interval(&decoded.text);
        let kept = limits::truncate_entries(&decoded.text, limits.max_entries);
        let repaired = legacy::repair(&kept);
        let text = legacy::bridge(&repaired);
        let text = strip_late_declarations(&text);
        guarded(|| parser.parse(text.as_bytes()))
    }?;
    let mut parsed = convert(feed, limits);
    parsed.meta.update_interval = parsed.meta.update_interval.max(sy_interval);
    Ok(parsed)
}

/// Runs the feed parser, turning a panic inside it into a parse error: a hostile document
/// must cost one source one fetch, never a task. (Fuzzing found one: quick-xml panics on an
/// XML declaration inside the document.)
fn guarded(
    parse: impl FnOnce() -> Result<feed_rs::model::Feed, feed_rs::parser::ParseFeedError>,
) -> Result<feed_rs::model::Feed, ParseError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(r) => r.map_err(classify),
        Err(_) => Err(ParseError::Malformed(
            "the XML parser failed on this document (an internal error, reported above)".into(),
        )),
    }
}

/// Removes XML declarations that are not at the start of the document: they are malformed
/// there, and the text is already decoded, so an encoding they name means nothing.
fn strip_late_declarations(text: &str) -> std::borrow::Cow<'_, str> {
    let start = text.len()
        - text
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .len();
    let body = &text[start..];
    let skip = if body.starts_with("<?xml") {
        body.find("?>").map_or(0, |e| e + 2)
    } else {
        0
    };
    let rest = &body[skip..];
    let late = |s: &str| {
        s.match_indices("<?xml")
            .any(|(i, _)| s[i + 5..].starts_with(|c: char| c.is_whitespace() || c == '?'))
    };
    if !late(rest) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start + skip]);
    let mut r = rest;
    while let Some(i) = r.find("<?xml") {
        let after = &r[i + 5..];
        if after.starts_with(|c: char| c.is_whitespace() || c == '?') {
            out.push_str(&r[..i]);
            r = after.find("?>").map_or("", |e| &after[e + 2..]);
        } else {
            out.push_str(&r[..i + 5]);
            r = after;
        }
    }
    out.push_str(r);
    std::borrow::Cow::Owned(out)
}

/// The RSS syndication module's hint (`sy:updatePeriod` / `sy:updateFrequency`): "hourly"
/// with frequency 2 means every 30 minutes. Only the document head is searched: the elements
/// belong to the channel, before the items.
fn syndication_interval(text: &str) -> Option<Duration> {
    let head = &text[..text.floor_char_boundary(16 * 1024)];
    let value = |local: &str| -> Option<&str> {
        let open = head.find(&format!(":{local}>"))? + local.len() + 2;
        let close = head[open..].find('<')? + open;
        Some(head[open..close].trim())
    };
    let period: u64 = match value("updatePeriod")?.to_ascii_lowercase().as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency: u64 = value("updateFrequency")
        .and_then(|f| f.parse().ok())
        .filter(|f| *f > 0)
        .unwrap_or(1);
    Some(Duration::from_secs(period / frequency))
}

fn classify(e: feed_rs::parser::ParseFeedError) -> ParseError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => ParseError::NotAFeed(
            "no RSS, Atom or JSON Feed root element (is this an HTML page?)".into(),
        ),
        other => ParseError::Malformed(other.to_string()),
    }
}

/// Feeds write `en_US` and `EN-us`; a tag with an underscore is accepted and normalised by
/// readers of it (the publish filter compares primary subtags only).
fn valid_loose_language(l: &str) -> bool {
    crate::config::valid_language(&l.replace('_', "-"))
}

fn convert(feed: feed_rs::model::Feed, limits: ParseLimits) -> ParsedFeed {
    let meta = FeedMeta {
        title: feed.title.map(|t| cap(t.content, limits.max_field)),
        link: pick_link(&feed.links),
        self_link: feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("self"))
            .map(|l| l.href.trim().to_string())
            .filter(|h| h.starts_with("http://") || h.starts_with("https://")),
        update_interval: feed
            .ttl
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
        language: feed
            .language
            .map(|l| l.trim().to_string())
            .filter(|l| valid_loose_language(l)),
    };
    let mut seen = std::collections::HashSet::new();
    let entries = feed
        .entries
        .into_iter()
        .take(limits.max_entries)
        .map(|e| {
            let link = pick_link(&e.links);
            let title = e
                .title
                .map(|t| cap(t.content, limits.max_field))
                .unwrap_or_default();
            let author = e
                .authors
                .iter()
                .filter_map(|p| p.name.as_deref().map(str::trim))
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let mut raw = RawEntry {
                guid: e.id.trim().to_string(),
                link,
                title,
                author: (!author.is_empty()).then_some(author),
                summary: e.summary.map(|t| cap(t.content, limits.max_field)),
                content: e
                    .content
                    .and_then(|c| c.body)
                    .map(|b| cap(b, limits.max_field)),
                categories: e
                    .categories
                    .into_iter()
                    .map(|c| c.label.unwrap_or(c.term))
                    .filter(|c| !c.trim().is_empty())
                    .collect(),
                published: e.published,
                updated: e.updated,
            };
            if raw.guid.is_empty() {
                raw.guid = stable_guid(&raw);
            }
            raw
        })
        // Two items with one guid would overwrite each other in the store on every fetch;
        // the first (usually the newest) is the one kept.
        .filter(|e| seen.insert(e.guid.clone()))
        .collect();
    ParsedFeed { meta, entries }
}

/// The alternate (article) link: `rel="alternate"` or no rel, else the first link.
fn pick_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Identity for an entry without a guid: its link, else a hash of title and date, else of its
/// text. Never random, so a re-fetch maps onto the same stored entry.
pub fn stable_guid(e: &RawEntry) -> String {
    if let Some(link) = &e.link {
        return link.clone();
    }
    let mut h = blake3::Hasher::new();
    h.update(e.title.as_bytes());
    h.update(b"\0");
    match e.published.or(e.updated) {
        Some(d) => {
            h.update(d.to_rfc3339().as_bytes());
        }
        None => {
            for part in [&e.summary, &e.content] {
                h.update(part.as_deref().unwrap_or("").as_bytes());
                h.update(b"\0");
            }
        }
    }
    format!("wirefeed:{}", &h.finalize().to_hex()[..32])
}

fn cap(mut s: String, max: usize) -> String {
    let end = s.floor_char_boundary(max);
    s.truncate(end);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> ParsedFeed {
        parse_feed(
            doc.as_bytes(),
            None,
            Some("https://example.org/feed"),
            ParseLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn entries_without_guid_get_the_same_id_on_every_parse() {
        let doc = r#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>https://example.org/a</link></item>
            <item><title>B</title><pubDate>Tue, 13 Jun 2023 03:03:00 +0100</pubDate></item>
            <item><title>C</title><description>only text</description></item>
            </channel></rss>"#;
        let a = parse(doc);
        let b = parse(doc);
        assert_eq!(a, b);
        assert_eq!(a.entries[0].guid, "https://example.org/a");
        assert!(a.entries[1].guid.starts_with("wirefeed:"));
        assert_ne!(a.entries[1].guid, a.entries[2].guid);
    }

    #[test]
    fn ttl_and_syndication_hints_become_an_update_interval() {
        let ttl = r#"<rss version="2.0"><channel><ttl>45</ttl></channel></rss>"#;
        assert_eq!(
            parse(ttl).meta.update_interval,
            Some(Duration::from_secs(2700))
        );
        let sy = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
            <sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel></rss>"#;
        assert_eq!(
            parse(sy).meta.update_interval,
            Some(Duration::from_secs(1800))
        );
        let none = r#"<rss version="2.0"><channel><title>x</title></channel></rss>"#;
        assert_eq!(parse(none).meta.update_interval, None);
    }

    #[test]
    fn a_repeated_guid_keeps_only_the_first_item() {
        let doc = r#"<rss version="2.0"><channel><item><guid>x</guid><title>First</title></item><item><guid>x</guid><title>Second</title></item></channel></rss>"#;
        let f = parse(doc);
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].title, "First");
    }

    #[test]
    fn guid_is_kept_when_present() {
        let doc = r#"<rss version="2.0"><channel><item><guid>abc-1</guid><title>A</title></item></channel></rss>"#;
        assert_eq!(parse(doc).entries[0].guid, "abc-1");
    }

    #[test]
    fn json_feed_is_read() {
        let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://example.org/1","title":"One","content_html":"<p>x</p>"}]}"#;
        let f = parse(doc);
        assert_eq!(f.meta.title.as_deref(), Some("J"));
        assert_eq!(f.entries[0].content.as_deref(), Some("<p>x</p>"));
    }

    #[test]
    fn html_is_not_a_feed() {
        let e = parse_feed(
            b"<!DOCTYPE html><html><body>hi</body></html>",
            None,
            None,
            ParseLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ParseError::NotAFeed(_)), "{e}");
        assert!(matches!(
            parse_feed(b"  ", None, None, ParseLimits::default()),
            Err(ParseError::Empty)
        ));
    }

    #[test]
    fn entry_and_field_caps_apply() {
        let items: String = (0..50)
            .map(|i| {
                format!(
                    "<item><guid>{i}</guid><title>{}</title></item>",
                    "x".repeat(100)
                )
            })
            .collect();
        let doc = format!("<rss version=\"2.0\"><channel>{items}</channel></rss>");
        let f = parse_feed(
            doc.as_bytes(),
            None,
            None,
            ParseLimits {
                max_entries: 10,
                max_field: 20,
            },
        )
        .unwrap();
        assert_eq!(f.entries.len(), 10);
        assert_eq!(f.entries[0].title.len(), 20);
    }

    #[test]
    fn an_xml_declaration_inside_the_document_is_dropped_not_fatal() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
                   <title>T</title><item><title>A</title>\
                   <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><guid>a</guid></item>\
                   </channel></rss>";
        let feed = parse_feed(doc.as_bytes(), None, None, ParseLimits::default()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].title, "A");
        let pi = "<?xml version=\"1.0\"?><a><?xml-stylesheet href=\"x\"?></a>";
        assert_eq!(strip_late_declarations(pi), pi);
    }
}
