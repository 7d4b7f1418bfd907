//! An entry's files and pictures in each output format's own vocabulary, so that a
//! republished podcast or photo feed keeps what made it one.
//!
//! - Atom: every file as `link rel="enclosure"` (RFC 4287 §4.2.7.2) with `type` and, when
//!   known, `length`; pictures as Media RSS `media:thumbnail`.
//! - RSS 2.0: one `<enclosure>` per item, as the specification allows (url, length — `0`
//!   when unknown, as the RSS Board's profile says — and type); every other file as
//!   `media:content` and pictures as `media:thumbnail`; for a podcast channel, the iTunes
//!   elements a podcast app reads (episode picture and duration; the channel's cover,
//!   category, owner and explicitness).
//! - JSON Feed: `attachments`, `image` and `banner_image` (spec 1.1).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{EntryMedia, Media, MediaRole, Podcast};

/// The Media RSS namespace and its usual prefix.
pub const MEDIA_NS: (&str, &str) = ("media", "http://search.yahoo.com/mrss/");

/// Whether any of these entries needs the Media RSS namespace in Atom (a picture) or in RSS
/// (a picture, or a file beyond the one `<enclosure>`).
pub fn needs_media_ns<'a>(entries: impl IntoIterator<Item = &'a EntryMedia>, rss: bool) -> bool {
    entries
        .into_iter()
        .any(|m| !media_elements(m, rss).is_empty())
}

/// The entry's pictures, each once: its own image, then its thumbnails.
fn pictures(m: &EntryMedia) -> Vec<&Media> {
    let mut seen = std::collections::HashSet::new();
    m.files
        .iter()
        .filter(|f| f.role == MediaRole::Thumbnail)
        .filter(|f| seen.insert(f.url.as_str()))
        .collect()
}

/// The entry's own picture when it is not one of its thumbnails (it is written as one).
fn own_picture(m: &EntryMedia) -> Option<&str> {
    m.image.as_deref().filter(|i| {
        !m.files
            .iter()
            .any(|f| f.role == MediaRole::Thumbnail && f.url == *i)
    })
}

/// Atom `link rel="enclosure"` for every file that is not a thumbnail.
pub fn atom_links(m: &EntryMedia) -> Vec<atom_syndication::Link> {
    m.attachments()
        .map(|f| atom_syndication::Link {
            href: f.url.clone(),
            rel: "enclosure".into(),
            mime_type: Some(f.mime_or_guess()),
            length: f.length.map(|l| l.to_string()),
            title: f.title.clone(),
            ..Default::default()
        })
        .collect()
}

/// Attributes of a `media:thumbnail`.
fn thumbnail_attrs(url: &str, f: Option<&Media>) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::from([("url".to_string(), url.to_string())]);
    if let Some(f) = f {
        for (k, v) in [("width", f.width), ("height", f.height)] {
            if let Some(v) = v.filter(|v| *v > 0) {
                attrs.insert(k.into(), v.to_string());
            }
        }
    }
    attrs
}

/// Attributes of a `media:content`.
fn content_attrs(f: &Media) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::from([
        ("url".to_string(), f.url.clone()),
        ("type".to_string(), f.mime_or_guess()),
    ]);
    let numbers = [
        ("fileSize", f.length),
        ("width", f.width.map(u64::from)),
        ("height", f.height.map(u64::from)),
        ("duration", f.duration),
    ];
    for (k, v) in numbers {
        if let Some(v) = v.filter(|v| *v > 0) {
            attrs.insert(k.into(), v.to_string());
        }
    }
    if let Some(medium) = f
        .medium
        .as_deref()
        .filter(|m| matches!(*m, "image" | "audio" | "video" | "document" | "executable"))
    {
        attrs.insert("medium".into(), medium.into());
    }
    attrs
}

/// The Media RSS elements of an entry, as (name, attributes): its own picture and thumbnails,
/// and, for RSS, the files beyond its `<enclosure>`.
fn media_elements(m: &EntryMedia, rss: bool) -> Vec<(&'static str, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    if rss {
        for f in rss_contents(m) {
            out.push(("content", content_attrs(f)));
        }
    }
    if let Some(i) = own_picture(m) {
        out.push(("thumbnail", thumbnail_attrs(i, None)));
    }
    for f in pictures(m) {
        out.push(("thumbnail", thumbnail_attrs(&f.url, Some(f))));
    }
    out
}

/// Files RSS writes as `media:content`: all but the one `<enclosure>` and the thumbnails.
fn rss_contents(m: &EntryMedia) -> Vec<&Media> {
    let primary = m.primary().map(|p| p.url.as_str());
    m.attachments()
        .filter(|f| Some(f.url.as_str()) != primary)
        .collect()
}

/// The entry's Media RSS elements for the Atom writer.
pub fn atom_extensions(m: &EntryMedia) -> atom_syndication::extension::ExtensionMap {
    let mut by_name: BTreeMap<String, Vec<atom_syndication::extension::Extension>> =
        BTreeMap::new();
    for (name, attrs) in media_elements(m, false) {
        // atom_syndication 0.12 writes extension attributes as raw bytes (quick-xml's
        // `(&[u8], &[u8])` attribute, which is not escaped): a URL with `&` in its query
        // would make the document not well-formed. Escaped here, for that writer only.
        let attrs = attrs
            .into_iter()
            .map(|(k, v)| (k, escape_xml_attr(&v)))
            .collect();
        by_name
            .entry(name.to_string())
            .or_default()
            .push(atom_syndication::extension::Extension {
                name: format!("{}:{name}", MEDIA_NS.0),
                attrs,
                ..Default::default()
            });
    }
    if by_name.is_empty() {
        return BTreeMap::new();
    }
    BTreeMap::from([(MEDIA_NS.0.to_string(), by_name)])
}

fn escape_xml_attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The entry's Media RSS elements for the RSS writer.
pub fn rss_extensions(m: &EntryMedia) -> rss::extension::ExtensionMap {
    let mut by_name: BTreeMap<String, Vec<rss::extension::Extension>> = BTreeMap::new();
    for (name, attrs) in media_elements(m, true) {
        by_name
            .entry(name.to_string())
            .or_default()
            .push(rss::extension::Extension {
                name: format!("{}:{name}", MEDIA_NS.0),
                attrs,
                ..Default::default()
            });
    }
    if by_name.is_empty() {
        return BTreeMap::new();
    }
    BTreeMap::from([(MEDIA_NS.0.to_string(), by_name)])
}

/// The item's one RSS `<enclosure>`.
pub fn rss_enclosure(m: &EntryMedia) -> Option<rss::Enclosure> {
    m.primary().map(|f| rss::Enclosure {
        url: f.url.clone(),
        length: f.length.unwrap_or(0).to_string(),
        mime_type: f.mime_or_guess(),
    })
}

/// `itunes:duration` as `H:MM:SS` (or `M:SS`).
fn clock(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The item's iTunes elements (episode picture and duration), for a podcast channel.
pub fn itunes_item(m: &EntryMedia) -> Option<rss::extension::itunes::ITunesItemExtension> {
    let image = m.image.clone();
    let duration = m.running_time().map(clock);
    (image.is_some() || duration.is_some()).then(|| rss::extension::itunes::ITunesItemExtension {
        image,
        duration,
        ..Default::default()
    })
}

/// The podcast's category and subcategory as Apple lists them today
/// (`itunes-categories.txt`): a retired subcategory is dropped, a retired category drops both.
fn current_category(p: &Podcast) -> Vec<String> {
    static LIST: std::sync::OnceLock<Vec<(String, Vec<String>)>> = std::sync::OnceLock::new();
    let list = LIST.get_or_init(|| {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for line in include_str!("itunes-categories.txt").lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with(' ') {
                if let Some(last) = out.last_mut() {
                    last.1.push(line.trim().to_string());
                }
            } else {
                out.push((line.trim().to_string(), Vec::new()));
            }
        }
        out
    });
    let Some((top, subs)) = p
        .category
        .first()
        .and_then(|t| list.iter().find(|(name, _)| name == t))
    else {
        return Vec::new();
    };
    let mut out = vec![top.clone()];
    if let Some(sub) = p.category.get(1).filter(|s| subs.contains(s)) {
        out.push(sub.clone());
    }
    out
}

/// Whether a podcast's own iTunes data is complete enough to republish as an iTunes channel
/// (a current category, an owner's email, a language): Apple's directory and the W3C
/// validator expect all three once the iTunes vocabulary appears. Without them the feed is
/// still a podcast (every episode keeps its `<enclosure>` and Media RSS), just not an
/// iTunes one: its channel and episode iTunes tags are left out rather than invented.
pub fn itunes_ready(p: &Podcast, language: Option<&str>) -> bool {
    !current_category(p).is_empty()
        && p.owner_email.as_deref().is_some_and(|e| e.contains('@'))
        && language.is_some_and(|l| !l.trim().is_empty())
}

/// The channel's iTunes elements, from the podcast source the feed carries.
pub fn itunes_channel(p: &Podcast) -> rss::extension::itunes::ITunesChannelExtension {
    use rss::extension::itunes::{ITunesCategory, ITunesChannelExtension, ITunesOwner};
    let current = current_category(p);
    let category = current.first().map(|top| ITunesCategory {
        text: top.clone(),
        subcategory: current.get(1).map(|sub| {
            Box::new(ITunesCategory {
                text: sub.clone(),
                subcategory: None,
            })
        }),
    });
    ITunesChannelExtension {
        author: p.author.clone(),
        categories: category.into_iter().collect(),
        image: p.image.clone(),
        explicit: Some(
            if p.explicit == Some(true) {
                "true"
            } else {
                "false"
            }
            .into(),
        ),
        owner: (p.owner_name.is_some() || p.owner_email.is_some()).then(|| ITunesOwner {
            name: p.owner_name.clone(),
            email: p.owner_email.clone(),
        }),
        ..Default::default()
    }
}

/// A JSON Feed attachment.
#[derive(Debug, Serialize)]
pub struct JsonAttachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
}

/// The entry's files as JSON Feed attachments.
pub fn json_attachments(m: &EntryMedia) -> Vec<JsonAttachment> {
    let primary = m.primary().map(|p| p.url.as_str());
    m.attachments()
        .map(|f| JsonAttachment {
            url: f.url.clone(),
            mime_type: f.mime_or_guess(),
            title: f.title.clone(),
            size_in_bytes: f.length,
            duration_in_seconds: f.duration.or_else(|| {
                (Some(f.url.as_str()) == primary)
                    .then_some(m.duration)
                    .flatten()
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn podcast_entry() -> EntryMedia {
        EntryMedia {
            files: vec![
                Media {
                    url: "https://x.example/1.mp3".into(),
                    mime: Some("audio/mpeg".into()),
                    length: Some(100),
                    ..Default::default()
                },
                Media {
                    url: "https://x.example/1.jpg".into(),
                    role: MediaRole::Content,
                    medium: Some("image".into()),
                    ..Default::default()
                },
                Media {
                    url: "https://x.example/1-small.jpg".into(),
                    role: MediaRole::Thumbnail,
                    width: Some(100),
                    ..Default::default()
                },
            ],
            image: Some("https://x.example/art.jpg".into()),
            duration: Some(3725),
            ..Default::default()
        }
    }

    #[test]
    fn rss_has_one_enclosure_and_media_elements_for_the_rest() {
        let m = podcast_entry();
        let e = rss_enclosure(&m).unwrap();
        assert_eq!(
            (e.url.as_str(), e.length.as_str()),
            ("https://x.example/1.mp3", "100")
        );
        let ext = rss_extensions(&m);
        let media = &ext["media"];
        assert_eq!(media["content"].len(), 1);
        assert_eq!(media["content"][0].attrs["url"], "https://x.example/1.jpg");
        assert_eq!(media["content"][0].attrs["type"], "image/jpeg");
        let thumbs: Vec<&str> = media["thumbnail"]
            .iter()
            .map(|t| t.attrs["url"].as_str())
            .collect();
        assert_eq!(
            thumbs,
            ["https://x.example/art.jpg", "https://x.example/1-small.jpg"]
        );
        assert_eq!(
            itunes_item(&m).unwrap().duration.as_deref(),
            Some("1:02:05")
        );
    }

    #[test]
    fn atom_links_every_file_and_json_lists_them() {
        let m = podcast_entry();
        let links = atom_links(&m);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].length.as_deref(), Some("100"));
        assert_eq!(links[1].mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(links[1].length, None);
        let json = serde_json::to_value(json_attachments(&m)).unwrap();
        assert_eq!(json[0]["duration_in_seconds"], 3725);
        assert_eq!(json[0]["size_in_bytes"], 100);
        assert!(needs_media_ns([&m], false));
        assert!(!needs_media_ns([&EntryMedia::default()], true));
    }
}
