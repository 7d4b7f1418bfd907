//! What a renderer needs to know about a feed besides its stories: its names, links and
//! how often it can change.

use chrono::{DateTime, Utc};
use url::Url;

use super::{Format, archive, atom};
use crate::config::{Config, FeedConfig};

/// What a renderer needs to know about the feed it renders, besides its stories.
#[derive(Debug, Clone)]
pub struct FeedInfo<'a> {
    /// The feed's config name: its URLs are built on it.
    pub name: &'a str,
    /// What readers show as the feed's name.
    pub title: &'a str,
    /// The configured description, if any (see [`FeedInfo::description`]).
    pub description: Option<&'a str>,
    /// Declared in every format, so readers hyphenate and read aloud correctly.
    pub language: Option<String>,
    /// How long a reader may keep the feed before asking again (RSS `<ttl>`).
    pub ttl_minutes: Option<u64>,
    /// A WebSub hub that is told when the feed changes.
    pub hub: Option<&'a Url>,
    /// How many sources it carries (for the default description).
    pub sources: usize,
    /// Which document of the feed this is (RFC 5005).
    pub doc: Doc,
    /// The podcast among the feed's sources, if any: the feed is republished as a podcast
    /// (channel cover, category, owner; episodes' iTunes elements).
    pub podcast: Option<crate::model::Podcast>,
}

/// One document of a feed: the live (subscription) document or a frozen archive page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// The newest stories; `prev` is the newest archive page, if any.
    Live { prev: Option<u32> },
    /// Archive page `n` (1 = oldest), never changed once written.
    Archive { n: u32 },
}

impl FeedInfo<'_> {
    /// The URL this document is served at, in one format.
    pub fn self_url(&self, base: &Url, format: Format) -> String {
        match self.doc {
            Doc::Live { .. } => atom::feed_url(base, self.name, format.ext()),
            Doc::Archive { n } => archive::page_url(base, self.name, n, format.ext()),
        }
    }

    /// The feed-level links every XML format carries, as Atom links (RSS writes them as
    /// `atom:link`): `self` (the URL served), `hub` when WebSub is on, and the RFC 5005
    /// history links.
    pub fn feed_links(&self, base: &Url, format: Format) -> Vec<atom_syndication::Link> {
        use atom_syndication::Link;
        let mut links = vec![Link {
            href: self.self_url(base, format),
            rel: "self".into(),
            mime_type: Some(format.media_type().into()),
            ..Default::default()
        }];
        if let Some(hub) = self.hub {
            links.push(Link {
                href: hub.to_string(),
                rel: "hub".into(),
                ..Default::default()
            });
        }
        for (rel, href) in self.history_links(base, format) {
            links.push(Link {
                href,
                rel: rel.into(),
                mime_type: Some(format.media_type().into()),
                ..Default::default()
            });
        }
        links
    }

    /// RFC 5005 links: (rel, URL) — `prev-archive` to the next older page, and from an
    /// archive page `current` back to the live feed.
    pub fn history_links(&self, base: &Url, format: Format) -> Vec<(&'static str, String)> {
        let ext = format.ext();
        match self.doc {
            Doc::Live { prev } => prev
                .map(|p| ("prev-archive", archive::page_url(base, self.name, p, ext)))
                .into_iter()
                .collect(),
            Doc::Archive { n } => {
                let mut out = vec![("current", atom::feed_url(base, self.name, ext))];
                if n > 1 {
                    out.push((
                        "prev-archive",
                        archive::page_url(base, self.name, n - 1, ext),
                    ));
                }
                out
            }
        }
    }
}

impl<'a> FeedInfo<'a> {
    /// A feed with nothing but a name and a title (tests and tools).
    pub fn named(name: &'a str, title: &'a str) -> FeedInfo<'a> {
        FeedInfo {
            name,
            title,
            description: None,
            language: None,
            ttl_minutes: None,
            hub: None,
            sources: 0,
            doc: Doc::Live { prev: None },
            podcast: None,
        }
    }

    /// The feed's description: configured, else one that says what the reader gets.
    pub fn description(&self) -> String {
        match self.description {
            Some(d) if !d.trim().is_empty() => d.to_string(),
            _ => format!(
                "{}: stories from {} source{}, cleaned and merged across outlets by wirefeed",
                self.title,
                self.sources,
                if self.sources == 1 { "" } else { "s" }
            ),
        }
    }

    /// The live document of a configured feed.
    pub fn of(feed: &'a FeedConfig, config: &'a Config, doc: Doc) -> FeedInfo<'a> {
        FeedInfo {
            name: &feed.name,
            title: &feed.title,
            description: feed.description.as_deref(),
            language: feed.language.clone(),
            ttl_minutes: Some(ttl_minutes(feed, config)),
            hub: config.publish.websub_hub.as_ref(),
            sources: feed.sources.len(),
            doc,
            podcast: None,
        }
    }
}

/// When a feed can next change: the earliest next scheduled fetch of any of its sources.
/// Readers may cache it until then (see [`Rendered::max_age`]).
pub fn next_change(feed: &FeedConfig, config: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    config
        .sources
        .iter()
        .filter(|s| feed.sources.contains(&s.name))
        .map(|s| crate::schedule::next_run(&s.schedule, &s.name, now))
        .min()
        .unwrap_or(now + chrono::Duration::hours(1))
}

/// The shortest polling period of a feed's sources, in minutes (RSS `<ttl>`). Measured from a
/// fixed instant so that the document does not change with the clock (its ETag must not).
pub fn ttl_minutes(feed: &FeedConfig, config: &Config) -> u64 {
    config
        .sources
        .iter()
        .filter(|s| feed.sources.contains(&s.name))
        .map(|s| {
            s.schedule
                .period_hint(DateTime::<Utc>::UNIX_EPOCH)
                .as_secs()
                .div_ceil(60)
        })
        .min()
        .unwrap_or(60)
        .max(1)
}
