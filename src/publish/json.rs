//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>) rendering of a published feed.
//!
//! The other outlets that ran a story have no field in the spec; they go in the `_wirefeed`
//! extension object (the spec's way: keys starting with an underscore), so that a reader that
//! knows nothing of it loses nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use super::atom::{distinct_updated, feed_url, is_web_url, related_urls};
use super::{FeedInfo, Format};
use crate::model::{StoredEntry, StoredStory};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Author {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banner_image: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<super::media::JsonAttachment>,
    #[serde(rename = "_wirefeed")]
    wirefeed: Extension,
}

/// What wirefeed adds to an item: where the text came from and who else ran it.
#[derive(Serialize)]
struct Extension {
    source: SourceRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<String>,
}

#[derive(Serialize)]
struct SourceRef {
    name: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Renders one feed as JSON Feed 1.1, newest first; deterministic like the other formats.
pub fn render_json(feed: &FeedInfo<'_>, base: &Url, stories: &[StoredStory]) -> String {
    let doc = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title,
        home_page_url: base.to_string(),
        feed_url: feed_url(base, feed.name, Format::Json.ext()),
        // JSON Feed's paging: `next_url` leads to older items.
        next_url: feed
            .history_links(base, Format::Json)
            .into_iter()
            .find(|(rel, _)| *rel == "prev-archive")
            .map(|(_, u)| u),
        description: feed.description(),
        icon: feed.podcast.as_ref().and_then(|p| p.image.clone()),
        language: feed.language.as_deref(),
        authors: vec![Author {
            name: "wirefeed".into(),
            url: Some(base.to_string()),
        }],
        hubs: feed
            .hub
            .iter()
            .map(|h| Hub {
                kind: "WebSub",
                url: h.to_string(),
            })
            .collect(),
        items: distinct_updated(stories)
            .iter()
            .zip(stories)
            .map(|(e, s)| item(e, s))
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("plain data serialises");
    out.push('\n');
    out
}

fn item(e: &StoredEntry, story: &StoredStory) -> JsonItem {
    let body = e.content.clone().or_else(|| e.summary.clone());
    let summary = e
        .summary
        .as_deref()
        .map(crate::clean::html_to_text)
        .filter(|s| !s.is_empty());
    JsonItem {
        id: e.public_id.clone(),
        url: e.link.clone().filter(|l| is_web_url(l)),
        title: e.title.clone(),
        // The spec wants content_html or content_text; a headline-only entry repeats its title.
        content_text: body.is_none().then(|| e.title.clone()),
        content_html: body,
        summary,
        image: e.media.picture().map(String::from),
        banner_image: e.media.banner_image.clone(),
        date_published: rfc3339(e.published),
        date_modified: rfc3339(e.updated),
        authors: e
            .author
            .iter()
            .map(|a| Author {
                name: a.clone(),
                url: None,
            })
            .collect(),
        tags: e.categories.clone(),
        attachments: super::media::json_attachments(&e.media),
        wirefeed: Extension {
            source: SourceRef {
                name: e.source_name.clone(),
                title: e
                    .source_title
                    .clone()
                    .unwrap_or_else(|| e.source_name.clone()),
                feed_url: e.source_url.clone().filter(|u| is_web_url(u)),
                home_page_url: e.source_site.clone().filter(|u| is_web_url(u)),
            },
            related: related_urls(e, story)
                .into_iter()
                .map(String::from)
                .collect(),
        },
    }
}
