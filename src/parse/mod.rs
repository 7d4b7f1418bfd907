//! Feed bytes → [`ParsedFeed`]: decoding, dialect bridges, feed-rs, and stable entry identity.
//!
//! feed-rs does the format work (RSS 0.91/0.92/1.0/2.0, Atom 1.0, JSON Feed 1.0/1.1). Around it
//! this module adds what a long-running ingester needs: text decoded from any declared charset
//! (see [`encoding`]), old dialects bridged (see [`legacy`]), and an entry identity that never
//! changes between fetches even when the feed gives no guid — feed-rs would otherwise invent a
//! random one, and every fetch would look like a new story.

pub mod encoding;
mod json;
pub mod legacy;
mod lenient;
pub mod limits;
mod media;

use std::time::Duration;

use crate::model::{EntryMedia, FeedMeta, Media, MediaRole, ParsedFeed, RawEntry, SkippedItem};

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
    // A parser keeps per-entry state that a failed parse leaves behind (feed-rs then panics
    // on its next entry): every parse gets a fresh one.
    let parser = || {
        feed_rs::parser::Builder::new()
            .base_uri(base)
            // An empty id marks "the feed gave none"; `stable_guid` then derives one we control.
            .id_generator(|_, _, _| String::new())
            .build()
    };
    if bytes[first] == b'{' {
        let text = String::from_utf8_lossy(&bytes[first..]);
        return parse_json(&text, &parser(), limits);
    }
    let decoded = encoding::decode(bytes, http_charset);
    let sy_interval = syndication_interval(&decoded.text);
    let kept = limits::truncate_entries(&decoded.text, limits.max_entries);
    let repaired = legacy::repair(&kept);
    let text = legacy::bridge(&repaired);
    let text = strip_late_declarations(&text);
    let mut parsed = match guarded(|| parser().parse(text.as_bytes())) {
        // Most news feeds carry no media at all: then the scan is skipped.
        Ok(feed) if media::may_carry_media(&text) => {
            let scan = media::scan(&text).unwrap_or_default();
            let mut parsed = convert(feed, limits, Some(scan.items));
            parsed.meta.podcast = scan.podcast;
            parsed
        }
        Ok(feed) => convert(feed, limits, None),
        Err(e @ ParseError::Malformed(_)) => item_by_item(&text, &parser, limits, e)?,
        Err(e) => return Err(e),
    };
    parsed.meta.update_interval = parsed.meta.update_interval.max(sy_interval);
    Ok(parsed)
}

/// A JSON Feed: checked item by item ([`json`]), then read by feed-rs.
fn parse_json(
    text: &str,
    parser: &feed_rs::parser::Parser,
    limits: ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    let checked = json::check(text).map_err(|e| match e {
        json::Unreadable::NotJson(m) => ParseError::Malformed(format!("not valid JSON: {m}")),
        json::Unreadable::NotAFeed(m) => ParseError::NotAFeed(m),
    })?;
    let feed = guarded(|| parser.parse(checked.text.as_bytes()))?;
    let mut parsed = convert(feed, limits, Some(checked.media));
    parsed.skipped = checked.skipped;
    Ok(parsed)
}

/// A document feed-rs rejected as a whole, read one item at a time inside its shell
/// ([`lenient`]): the items that parse are kept, the others reported. `whole` (the
/// document's own error) is returned when the shell itself does not parse or no item does.
fn item_by_item(
    text: &str,
    parser: &dyn Fn() -> feed_rs::parser::Parser,
    limits: ParseLimits,
    whole: ParseError,
) -> Result<ParsedFeed, ParseError> {
    let Some(split) = lenient::split(text) else {
        return Err(whole);
    };
    let shell = split.with("");
    let Ok(mut feed) = guarded(|| parser().parse(shell.as_bytes())) else {
        return Err(whole);
    };
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for (i, item) in split.items.iter().enumerate() {
        let doc = split.with(item);
        let why = match guarded(|| parser().parse(doc.as_bytes())) {
            Ok(one) if !one.entries.is_empty() => {
                let scanned = media::scan(&doc).map(|s| s.items).unwrap_or_default();
                let n = one.entries.len();
                let mut m = scanned.into_iter();
                for e in one.entries {
                    found.push((
                        e,
                        if n == 1 {
                            m.next().unwrap_or_default()
                        } else {
                            EntryMedia::default()
                        },
                    ));
                }
                continue;
            }
            Ok(_) => "nothing in it reads as an item".to_string(),
            Err(ParseError::Malformed(m) | ParseError::NotAFeed(m)) => m,
            Err(ParseError::Empty) => "it is empty".to_string(),
        };
        skipped.push(SkippedItem {
            position: i + 1,
            label: lenient::label(item),
            reason: why,
        });
    }
    if found.is_empty() {
        return Err(whole);
    }
    let (entries, media): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    feed.entries = entries;
    let mut parsed = convert(feed, limits, Some(media));
    parsed.meta.podcast = media::scan(&shell).and_then(|s| s.podcast);
    parsed.skipped = skipped;
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
    crate::model::valid_language(&l.replace('_', "-"))
}

/// feed-rs's model → ours. `media` is each entry's media as scanned from the document (in
/// order); when it does not line up with feed-rs's entries, what feed-rs kept is used.
fn convert(
    feed: feed_rs::model::Feed,
    limits: ParseLimits,
    media: Option<Vec<EntryMedia>>,
) -> ParsedFeed {
    let media = media.filter(|m| m.len() == feed.entries.len());
    let mut media = media.map(Vec::into_iter);
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
        podcast: None,
    };
    let mut seen = std::collections::HashSet::new();
    let entries = feed
        .entries
        .into_iter()
        .take(limits.max_entries)
        .map(|e| {
            let media = match media.as_mut() {
                Some(m) => m.next().unwrap_or_default(),
                None => feed_rs_media(&e),
            };
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
                media,
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
    ParsedFeed {
        meta,
        entries,
        skipped: Vec::new(),
    }
}

/// What feed-rs kept of an entry's media, when our own scan could not be lined up with its
/// entries: Atom enclosure links, media contents, thumbnails and a duration.
fn feed_rs_media(e: &feed_rs::model::Entry) -> EntryMedia {
    let mut out = EntryMedia::default();
    for l in e
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
    {
        out.files.push(Media {
            url: l.href.clone(),
            mime: l.media_type.clone(),
            length: l.length.filter(|n| *n > 0),
            title: l.title.clone(),
            ..Default::default()
        });
    }
    for m in &e.media {
        for c in &m.content {
            if let Some(url) = &c.url {
                out.files.push(Media {
                    url: url.to_string(),
                    mime: c.content_type.as_ref().map(ToString::to_string),
                    length: c.size.filter(|n| *n > 0),
                    width: c.width,
                    height: c.height,
                    duration: c.duration.map(|d| d.as_secs()),
                    ..Default::default()
                });
            }
        }
        for t in &m.thumbnails {
            out.files.push(Media {
                url: t.image.uri.clone(),
                role: MediaRole::Thumbnail,
                width: t.image.width,
                height: t.image.height,
                ..Default::default()
            });
        }
        out.duration = out.duration.or(m.duration.map(|d| d.as_secs()));
    }
    out
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
mod tests;
