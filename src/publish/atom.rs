//! Atom 1.0 (RFC 4287) rendering of a published feed.

use atom_syndication::{
    Category, Content, Entry, Feed, Generator, Link, Person, Source, Text, WriteConfig,
};
use chrono::{SubsecRound, Utc};
use url::Url;

use super::{FeedInfo, Format};
use crate::clean::html_to_text;
use crate::model::{StoredEntry, StoredStory};

/// The URL a feed is served at: feed self links must equal it exactly.
pub fn feed_url(base: &Url, feed: &str, ext: &str) -> String {
    format!("{base}feeds/{feed}.{ext}")
}

/// Renders one feed: one Atom entry per story (a feed without dedup passes each entry as
/// a story of its own). `stories` are newest first. The document depends only on its inputs
/// (the feed's `updated` is the newest story's), so an unchanged feed renders to the same
/// bytes and keeps its ETag.
pub fn render_atom(feed: &FeedInfo<'_>, base: &Url, stories: &[StoredStory]) -> String {
    let mut links = feed.feed_links(base, Format::Atom);
    links.insert(
        1,
        Link {
            href: base.to_string(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            ..Default::default()
        },
    );
    let (mut namespaces, extensions) = super::archive::atom_marker(feed.doc);
    if super::media::needs_media_ns(stories.iter().map(|s| &s.entry.media), false) {
        let (prefix, uri) = super::media::MEDIA_NS;
        namespaces.insert(prefix.into(), uri.into());
    }
    // An empty feed was last updated when it was rendered (a render happens once per change),
    // not in 1970, which readers and validators take for an error.
    let updated = stories
        .iter()
        .map(|s| s.entry.updated)
        .max()
        .unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    let doc = Feed {
        title: Text::plain(xml_safe(feed.title)),
        subtitle: Some(Text::plain(xml_safe(&feed.description()))),
        lang: feed.language.clone(),
        // Every document of a feed (live or archive page) is the same feed: one id.
        id: feed_url(base, feed.name, Format::Atom.ext()),
        namespaces,
        extensions,
        updated: updated.fixed_offset(),
        authors: vec![Person {
            name: "wirefeed".into(),
            uri: Some(base.to_string()),
            ..Default::default()
        }],
        generator: Some(Generator {
            value: "wirefeed".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links,
        entries: distinct_updated(stories)
            .iter()
            .zip(stories)
            .map(|(e, s)| atom_entry(e, s, base))
            .collect(),
        ..Default::default()
    };
    let out = doc
        .write_with_config(
            Vec::new(),
            WriteConfig {
                write_document_declaration: true,
                indent_size: None,
            },
        )
        .expect("writing to a Vec cannot fail");
    let s = String::from_utf8(out).expect("atom writer emits UTF-8");
    // The declaration atom_syndication writes names no encoding; say it, for strict readers.
    let rest = s.strip_prefix("<?xml version=\"1.0\"?>").unwrap_or(&s);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}",
        rest.trim_start()
    )
}

/// One story's entry: the representative version's text and links, `rel="related"` links
/// to every other outlet that ran it, `source` naming the representative's feed.
fn atom_entry(e: &StoredEntry, story: &StoredStory, base: &Url) -> Entry {
    let body = e.content.as_deref().or(e.summary.as_deref());
    let summary = e
        .summary
        .as_deref()
        .map(html_to_text)
        .filter(|s| !s.is_empty());
    let mut links = Vec::new();
    if let Some(l) = e.link.as_ref().filter(|l| is_web_url(l)) {
        links.push(Link {
            href: l.clone(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            ..Default::default()
        });
    }
    for url in related_urls(e, story) {
        links.push(Link {
            href: url.to_string(),
            rel: "related".into(),
            mime_type: Some("text/html".into()),
            ..Default::default()
        });
    }
    links.extend(super::media::atom_links(&e.media));
    Entry {
        title: Text::plain(xml_safe(&e.title)),
        id: e.public_id.clone(),
        updated: e.updated.fixed_offset(),
        published: Some(e.published.fixed_offset()),
        authors: e
            .author
            .iter()
            .map(|a| Person {
                name: xml_safe(a),
                ..Default::default()
            })
            .collect(),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                term: xml_safe(c),
                ..Default::default()
            })
            .collect(),
        links,
        summary: summary.map(|s| Text::plain(xml_safe(&s))),
        // RFC 4287 §4.1.1: an entry needs content or an alternate link; always giving content
        // (the title when the feed had no text) also avoids "missing textual content" warnings.
        content: Some(match body {
            Some(b) => Content {
                value: Some(xml_safe(b)),
                content_type: Some("html".into()),
                ..Default::default()
            },
            None => Content {
                value: Some(xml_safe(&e.title)),
                content_type: Some("text".into()),
                ..Default::default()
            },
        }),
        source: Some(source(e, base)),
        extensions: super::media::atom_extensions(&e.media),
        ..Default::default()
    }
}

/// RFC 4287 §4.2.11: the feed the entry came from, as [`super::provenance`] made it fit to
/// publish: its own self link (else its address without credentials) as id and `self`, the
/// site it declares as `alternate`; a local source is named, not linked.
fn source(e: &StoredEntry, base: &Url) -> Source {
    let feed = e.source_url.as_deref().filter(|u| is_web_url(u));
    let mut links: Vec<Link> = feed
        .map(|u| Link {
            href: u.to_string(),
            rel: "self".into(),
            ..Default::default()
        })
        .into_iter()
        .collect();
    if let Some(site) = e.source_site.as_deref().filter(|u| is_web_url(u)) {
        links.push(Link {
            href: site.to_string(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            ..Default::default()
        });
    }
    Source {
        title: Text::plain(xml_safe(
            e.source_title.as_deref().unwrap_or(&e.source_name),
        )),
        id: feed.map_or_else(
            || super::provenance::local_source_id(base, &e.source_name),
            String::from,
        ),
        updated: e.updated.fixed_offset(),
        links,
        ..Default::default()
    }
}

/// The other outlets' links of a story, each once and never the representative's own:
/// Atom forbids two links with the same rel and href. Absolute http(s) only, since a
/// `file://` source's link means nothing to a reader.
pub(super) fn related_urls<'a>(e: &'a StoredEntry, story: &'a StoredStory) -> Vec<&'a str> {
    let mut seen: std::collections::HashSet<&str> = e.link.iter().map(String::as_str).collect();
    story
        .others
        .iter()
        .filter_map(|m| m.url.as_deref())
        .filter(|u| is_web_url(u) && seen.insert(u))
        .collect()
}

/// Whether a URL is one a feed reader can follow (feeds must carry absolute URLs only).
pub(super) fn is_web_url(u: &str) -> bool {
    Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Feed validators warn when two entries share an `updated` instant (entries without dates
/// stored in one batch do). Later duplicates are moved back a second at a time: the order is
/// kept and no instant is claimed twice.
pub(super) fn distinct_updated(stories: &[StoredStory]) -> Vec<StoredEntry> {
    let mut used = std::collections::HashSet::new();
    stories
        .iter()
        .map(|s| {
            let mut e = s.entry.clone();
            while !used.insert(e.updated.timestamp()) {
                e.updated -= chrono::Duration::seconds(1);
            }
            if e.published > e.updated {
                e.published = e.updated;
            }
            e
        })
        .collect()
}

/// Drops characters XML 1.0 forbids (most C0 controls, lone surrogates' replacements stay):
/// one stray control byte in a publisher's feed must not make our whole feed unreadable.
///
/// The same rule as the clean stage's ([`crate::clean::repair::is_publishable`]): no C1
/// controls or other code points XML forbids, whatever was stored before that stage
/// repaired text; U+FFFD (a byte that could not be decoded) is not published either.
pub fn xml_safe(s: &str) -> String {
    if s.chars().all(is_xml_char) {
        return s.to_string();
    }
    s.chars().filter(|c| is_xml_char(*c)).collect()
}

fn is_xml_char(c: char) -> bool {
    crate::clean::repair::is_publishable(c) && c != '\u{FFFD}'
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(id: &str, title: &str) -> StoredStory {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        StoredStory::single(StoredEntry {
            public_id: format!("urn:uuid:{id}"),
            source_name: "src".into(),
            source_title: Some("Source & Co".into()),
            source_url: Some("https://example.org/rss".into()),
            source_site: None,
            link: Some("https://example.org/a?x=1&y=2".into()),
            title: title.into(),
            author: Some("Jane Doe".into()),
            summary: Some("<p>Short &amp; sweet</p>".into()),
            content: Some("<p>Body <a href=\"https://example.org/\">link</a></p>".into()),
            categories: vec!["World".into()],
            published: t,
            updated: t,
            language: None,
            media: Default::default(),
        })
    }

    #[test]
    fn renders_a_feed_that_parses_back() {
        let feed = FeedInfo::named("world", "World <wire>");
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let xml = render_atom(
            &feed,
            &base,
            &[entry("1", "Quake \u{7} hits"), entry("2", "B")],
        );
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        assert_eq!(parsed.title.unwrap().content, "World <wire>");
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(
            parsed.entries[0].title.as_ref().unwrap().content,
            "Quake  hits"
        );
        assert_eq!(
            parsed.entries[0].links[0].href,
            "https://example.org/a?x=1&y=2"
        );
        assert!(xml.contains("<link href=\"http://127.0.0.1:8080/feeds/world.atom\" rel=\"self\""));
        assert!(xml.contains("<content type=\"html\">&lt;p&gt;Body"));
    }

    #[test]
    fn entries_always_have_content_and_distinct_updated_times() {
        let feed = FeedInfo::named("f", "F");
        let mut bare = entry("1", "Bare");
        bare.entry.link = None;
        bare.entry.summary = None;
        bare.entry.content = None;
        let xml = render_atom(
            &feed,
            &Url::parse("http://x.example/").unwrap(),
            &[bare, entry("2", "B"), entry("3", "C")],
        );
        assert!(
            xml.contains("<content type=\"text\">Bare</content>"),
            "{xml}"
        );
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        let times: std::collections::HashSet<_> =
            parsed.entries.iter().map(|e| e.updated).collect();
        assert_eq!(times.len(), 3);
    }

    #[test]
    fn a_story_links_every_other_outlet_as_related() {
        let feed = FeedInfo::named("f", "F");
        let mut s = entry("1", "Story");
        s.others = [
            "https://b.example/x",
            "https://c.example/y",
            "https://b.example/x",
        ]
        .iter()
        .map(|u| crate::model::StoryMember {
            source: "b".into(),
            url: Some(u.to_string()),
            guid: u.to_string(),
        })
        .collect();
        let xml = render_atom(&feed, &Url::parse("http://x.example/").unwrap(), &[s]);
        let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
        let links: Vec<(String, Option<String>)> = parsed.entries[0]
            .links
            .iter()
            .map(|l| (l.href.clone(), l.rel.clone()))
            .collect();
        assert_eq!(
            links,
            vec![
                (
                    "https://example.org/a?x=1&y=2".into(),
                    Some("alternate".into())
                ),
                ("https://b.example/x".into(), Some("related".into())),
                ("https://c.example/y".into(), Some("related".into())),
            ]
        );
        assert!(
            xml.contains("<source><title>Source &amp; Co</title><id>https://example.org/rss</id>"),
            "{xml}"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let feed = FeedInfo::named("f", "F");
        let base = Url::parse("http://x.example/").unwrap();
        let a = render_atom(&feed, &base, &[entry("1", "A")]);
        assert_eq!(a, render_atom(&feed, &base, &[entry("1", "A")]));
    }
}
