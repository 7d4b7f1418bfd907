//! RSS 2.0 rendering of a published feed, for readers that take nothing else.
//!
//! Written with the `rss` crate. What the RSS Advisory Board's profile and the W3C validator
//! expect is followed: `atom:link rel="self"` equal to the served URL, RFC 822 dates, a guid
//! that says it is not a permalink (ours are `urn:uuid:` ids, links change), authors as
//! `dc:creator` (RSS `author` must be an e-mail address), absolute http(s) URLs only.

use atom_syndication::Link;
use chrono::{SubsecRound, Utc};
use rss::extension::atom::AtomExtension;
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Image, Item, Source};
use url::Url;

use super::atom::{distinct_updated, is_web_url, xml_safe};
use super::{FeedInfo, Format};
use crate::model::{StoredEntry, StoredStory};

/// Renders one feed as RSS 2.0: one item per story, newest first. Deterministic, like
/// [`super::atom::render_atom`], so an unchanged feed keeps its ETag.
pub fn render_rss(feed: &FeedInfo<'_>, base: &Url, stories: &[StoredStory]) -> String {
    let updated = stories
        .iter()
        .map(|s| s.entry.updated)
        .max()
        // An empty feed was last built when it was rendered, not in 1970.
        .unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    let links = feed.feed_links(base, Format::Rss);
    let (mut namespaces, extensions) = super::archive::rss_marker(feed.doc);
    if super::media::needs_media_ns(stories.iter().map(|s| &s.entry.media), true) {
        let (prefix, uri) = super::media::MEDIA_NS;
        namespaces.insert(prefix.into(), uri.into());
    }
    let podcast = feed.podcast.as_ref();
    // A podcast app wants a language; the podcast's own serves when the feed names none.
    let language = feed
        .language
        .clone()
        .or_else(|| podcast.and_then(|p| p.language.clone()));
    let itunes = podcast.filter(|p| super::media::itunes_ready(p, language.as_deref()));
    let channel = Channel {
        title: xml_safe(feed.title),
        link: base.to_string(),
        description: xml_safe(&feed.description()),
        language,
        image: podcast.and_then(|p| p.image.as_ref()).map(|url| Image {
            url: url.clone(),
            title: xml_safe(feed.title),
            link: base.to_string(),
            ..Default::default()
        }),
        itunes_ext: itunes.map(super::media::itunes_channel),
        last_build_date: Some(updated.to_rfc2822()),
        generator: Some(format!("wirefeed {}", env!("CARGO_PKG_VERSION"))),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        ttl: feed.ttl_minutes.map(|m| m.to_string()),
        atom_ext: Some(AtomExtension { links }),
        items: distinct_updated(stories)
            .iter()
            .zip(stories)
            .map(|(e, s)| item(e, s, itunes.is_some()))
            .collect(),
        namespaces,
        extensions,
        ..Default::default()
    };
    let out = channel
        .write_to(Vec::new())
        .expect("writing to a Vec cannot fail");
    let body = String::from_utf8(out).expect("rss writer emits UTF-8");
    // Our own declaration, naming the encoding, for strict readers.
    let rest = match body.strip_prefix("<?xml") {
        Some(decl) => decl.split_once("?>").map_or("", |(_, r)| r),
        None => &body,
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}",
        rest.trim_start()
    )
}

/// One story's item; `podcast` when the channel is one (items then carry iTunes elements).
fn item(e: &StoredEntry, story: &StoredStory, podcast: bool) -> Item {
    let body = e.content.as_deref().or(e.summary.as_deref());
    let related: Vec<Link> = super::atom::related_urls(e, story)
        .into_iter()
        .map(|href| Link {
            href: href.to_string(),
            rel: "related".into(),
            mime_type: Some("text/html".into()),
            ..Default::default()
        })
        .collect();
    Item {
        title: Some(xml_safe(&e.title)),
        link: e.link.clone().filter(|l| is_web_url(l)),
        // An item needs text; a headline-only entry repeats its title.
        description: Some(xml_safe(body.unwrap_or(&e.title))),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                name: xml_safe(c),
                domain: None,
            })
            .collect(),
        guid: Some(Guid {
            value: e.public_id.clone(),
            permalink: false,
        }),
        pub_date: Some(e.published.to_rfc2822()),
        // A local source (no public address) is left out: RSS requires the url.
        source: e
            .source_url
            .as_ref()
            .filter(|u| is_web_url(u))
            .map(|u| Source {
                url: u.clone(),
                title: Some(xml_safe(
                    e.source_title.as_deref().unwrap_or(&e.source_name),
                )),
            }),
        dublin_core_ext: e.author.as_ref().map(|a| DublinCoreExtension {
            creators: vec![xml_safe(a)],
            ..Default::default()
        }),
        atom_ext: (!related.is_empty()).then_some(AtomExtension { links: related }),
        enclosure: super::media::rss_enclosure(&e.media),
        extensions: super::media::rss_extensions(&e.media),
        itunes_ext: podcast
            .then(|| super::media::itunes_item(&e.media))
            .flatten(),
        ..Default::default()
    }
}
