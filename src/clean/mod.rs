//! Raw entries → entries safe to republish, with the text dedup compares.
//!
//! Pure functions, no I/O. An entry's body is parsed once ([`doc::EntryDoc`]); from that one
//! tree the stage finds the blocks of text, decides what is clutter ([`clutter`]: trackers,
//! the source's rules, the built-in rules, what was learned, boxes), reads wire metadata
//! ([`extract::wire_from_blocks`]), writes sanitised HTML with absolute, tracking-free URLs
//! ([`sanitize`]) and hands the kept blocks to the fingerprint. Text is repaired on the way
//! ([`repair`]: mojibake, code points XML forbids). [`extract`] reads whole article pages
//! (`full_text` sources, `wirefeed extract`) with the same clutter knowledge.

pub mod clutter;
pub mod depth;
pub mod doc;
pub mod extract;
pub mod repair;
pub mod sanitize;
pub mod urls;

pub use clutter::{Clutter, ClutterSettings};
pub use sanitize::{escape_html, html_to_text, sanitize_html};

use url::Url;

use crate::model::{CleanEntry, RawEntry};
use doc::EntryDoc;

/// Errors of the clean stage: only rule files supplied as data can fail to compile.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// A rule line could not be parsed or compiled.
    #[error("invalid clutter rule: {0}")]
    Rule(String),
}

/// An entry's HTML fields, each parsed once: the body (content, else summary) and, when the
/// feed gave both, the summary.
#[derive(Debug)]
pub struct ParsedEntry {
    body: EntryDoc,
    /// `Some` only when the entry has both a content and a different summary.
    summary: Option<EntryDoc>,
    /// Whether `body` is the entry's content (else its summary).
    body_is_content: bool,
}

impl ParsedEntry {
    /// Parses the entry's HTML fields.
    pub fn parse(raw: &RawEntry) -> ParsedEntry {
        let body_is_content = raw.content.is_some();
        let summary = match (&raw.content, &raw.summary) {
            (Some(c), Some(s)) if c != s => Some(EntryDoc::parse(s)),
            _ => None,
        };
        ParsedEntry {
            body: EntryDoc::parse(body_of(raw)),
            summary,
            body_is_content,
        }
    }

    /// The text blocks of the body, clutter included: what learning counts.
    pub fn block_texts(&self) -> impl Iterator<Item = &str> {
        self.body.blocks().iter().map(|b| b.text.as_str())
    }
}

/// A cleaned entry, and the text of its kept body blocks that tell the story (what dedup
/// fingerprints; see [`clutter::story_blocks`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cleaned {
    pub entry: CleanEntry,
    pub blocks: Vec<String>,
}

/// The cleaning rules for one source: the clutter layers and nothing else.
#[derive(Debug, Clone, Default)]
pub struct Cleaner {
    clutter: Clutter,
}

impl Cleaner {
    /// A cleaner with the source's clutter settings (already validated by config loading).
    pub fn new(settings: &ClutterSettings) -> Cleaner {
        Cleaner {
            clutter: Clutter::new(settings),
        }
    }

    /// Parses and cleans one entry. `feed_url` is the feed's own address: relative links are
    /// resolved against the entry's link when it has one, else against the feed.
    /// `learned(text)` says whether a block is learned clutter of the source.
    pub fn clean(&self, raw: &RawEntry, feed_url: &Url, learned: &dyn Fn(&str) -> bool) -> Cleaned {
        self.clean_parsed(raw, &ParsedEntry::parse(raw), feed_url, learned)
    }

    /// [`Cleaner::clean`] for an entry already parsed (learning read its blocks first).
    pub fn clean_parsed(
        &self,
        raw: &RawEntry,
        parsed: &ParsedEntry,
        feed_url: &Url,
        learned: &dyn Fn(&str) -> bool,
    ) -> Cleaned {
        let link = raw
            .link
            .as_deref()
            .and_then(|l| feed_url.join(l.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| urls::strip_tracking(&u));
        let base = link.clone().unwrap_or_else(|| feed_url.clone());
        let rules = extract::Rules::builtin();
        let all: Vec<String> = parsed.block_texts().map(str::to_string).collect();
        let wire = extract::wire_from_blocks(&all, raw.author.as_deref(), rules);

        let body = self.clutter.judge(&parsed.body, learned);
        let body_html =
            Some(sanitize::render(&parsed.body, &body.drop, &base)).filter(|h| has_text(h));
        let other_html = parsed.summary.as_ref().map(|doc| {
            let j = self.clutter.judge(doc, learned);
            Some(sanitize::render(doc, &j.drop, &base)).filter(|h| has_text(h))
        });
        let (content, summary) = match (parsed.body_is_content, other_html) {
            (true, Some(s)) => (body_html, s),
            // Content and summary the same text: one rendering serves both.
            (true, None) if raw.summary.is_some() => (body_html.clone(), body_html),
            (true, None) => (body_html, None),
            (false, _) => (None, body_html),
        };
        let blocks = clutter::story_blocks(body.kept.iter().map(|&i| all[i].as_str()));

        let mut title = html_to_text(&raw.title);
        if title.is_empty() {
            // Atom requires a title, and readers show a blank one as nothing at all: a
            // headline-less item gets its first words, else its address.
            title = first_words(&blocks.join(" "), 12);
        }
        if title.is_empty() {
            title = link
                .as_ref()
                .map_or_else(|| "Untitled".to_string(), Url::to_string);
        }
        let author = raw
            .author
            .as_deref()
            .map(html_to_text)
            .filter(|a| !a.is_empty())
            .or_else(|| {
                wire.byline
                    .as_deref()
                    .and_then(|b| extract::authors_from_byline(b, rules))
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
        Cleaned {
            entry: CleanEntry {
                guid: raw.guid.clone(),
                link: link.as_ref().map(urls::publishable),
                title,
                author,
                summary,
                content,
                categories,
                published: raw
                    .published
                    .or(wire.published.map(|d| d.with_timezone(&chrono::Utc))),
                updated: raw.updated,
                agency: wire.agency,
                dateline: wire.dateline,
                byline: wire.byline,
                media: publishable_media(raw.media.resolved(feed_url)),
            },
            blocks,
        }
    }
}

/// Media with every address percent-encoded as a URI (see [`urls::publishable`]).
fn publishable_media(mut m: crate::model::EntryMedia) -> crate::model::EntryMedia {
    let fix = |u: &mut String| {
        if let Ok(parsed) = Url::parse(u) {
            *u = urls::publishable(&parsed);
        }
    };
    m.files.iter_mut().for_each(|f| fix(&mut f.url));
    m.image.iter_mut().for_each(fix);
    m.banner_image.iter_mut().for_each(fix);
    m
}

/// The HTML an entry's text is read from: its content, else its summary.
pub fn body_of(raw: &RawEntry) -> &str {
    raw.content
        .as_deref()
        .or(raw.summary.as_deref())
        .unwrap_or("")
}

/// Whether HTML has any visible text: a cheap scan instead of another parse.
pub(crate) fn has_text(html: &str) -> bool {
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
    Cleaner::default().clean(raw, feed_url, &|_| false).entry
}

/// The story blocks of an already cleaned entry's body (content, else summary), one parse:
/// what dedup fingerprints for an entry read back from the store.
pub fn stored_blocks(e: &CleanEntry) -> Vec<String> {
    let body = e.content.as_deref().or(e.summary.as_deref()).unwrap_or("");
    let doc = EntryDoc::parse(body);
    clutter::story_blocks(doc.blocks().iter().map(|b| b.text.as_str()))
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
mod tests;
