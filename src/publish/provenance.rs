//! Where a published entry came from, with nothing secret in it.
//!
//! Every story the publisher renders (live feeds, archive pages, the status page) passes
//! through [`Provenance::apply`] first: the source is cited by the feed's own `rel="self"`
//! link when it declares one, else by its configured address without credentials (see
//! [`crate::redact`]), and a local `file:` source by nothing but its name. Links are cleared
//! of the source's known secret values once more, for entries stored by older versions.
//!
//! Archive pages frozen by older versions may still carry a source's full address; they are
//! scrubbed as they are read ([`Provenance::scrub_frozen`]): a page's bytes change once, for
//! this reason only.

use std::borrow::Cow;
use std::collections::HashMap;

use url::Url;

use crate::config::Config;
use crate::model::StoredStory;
use crate::redact::Redactor;

/// What may be shown of each configured source.
pub struct Provenance {
    base: Url,
    /// Per source name: its redactor and its address as it may be shown.
    sources: HashMap<String, (Redactor, Option<String>)>,
    /// For sources no longer configured: the names of `[fetch] secret_params` still apply.
    fallback: Redactor,
    /// (as stored in old pages, as it may be shown) per configured source.
    frozen: Vec<(String, String)>,
}

impl Provenance {
    /// What the configuration says about each source.
    pub fn of(config: &Config) -> Provenance {
        let base = config.server.base_url.clone();
        let mut frozen = Vec::new();
        let sources = config
            .sources
            .iter()
            .map(|s| {
                let public = s.public_url().map(String::from);
                let shown = public
                    .clone()
                    .unwrap_or_else(|| local_source_id(&base, &s.name));
                // Old pages wrote the configured address as it was, XML-escaped in XML.
                let raw = s.url.as_str();
                let xml = |t: &str| t.replace('&', "&amp;");
                for (form, to) in [(raw.to_string(), shown.clone()), (xml(raw), xml(&shown))] {
                    if form != to && !frozen.iter().any(|(f, _)| *f == form) {
                        frozen.push((form, to));
                    }
                }
                if let Some(p) = s.url.password() {
                    // Entry links resolved against an address with userinfo kept it.
                    frozen.push((format!("{}:{p}@", s.url.username()), String::new()));
                }
                (s.name.clone(), (s.redactor.clone(), public))
            })
            .collect();
        // Longest first: a source's address may begin another's.
        frozen.sort_by_key(|f| std::cmp::Reverse(f.0.len()));
        Provenance {
            base,
            sources,
            fallback: Redactor::new(&config.fetch.secret_params),
            frozen,
        }
    }

    fn redactor(&self, source: &str) -> &Redactor {
        self.sources.get(source).map_or(&self.fallback, |(r, _)| r)
    }

    /// Makes stories fit to publish: each entry's source cited as it may be shown, and links
    /// cleared of the source's secrets.
    pub fn apply(&self, stories: &mut [StoredStory]) {
        for story in stories {
            let e = &mut story.entry;
            let r = self.redactor(&e.source_name);
            let configured = self
                .sources
                .get(&e.source_name)
                .and_then(|(_, public)| public.clone());
            e.source_url = e
                .source_url
                .as_deref()
                .and_then(|u| r.public_link(u))
                .or(configured);
            e.source_site = e.source_site.as_deref().and_then(|u| r.public_link(u));
            if let Some(l) = e.link.as_mut() {
                *l = r.scrub_link(l);
            }
            e.media.map_urls(|u| *u = r.scrub_link(u));
            for m in &mut story.others {
                let r = self.redactor(&m.source);
                if let Some(u) = m.url.as_mut() {
                    *u = r.scrub_link(u);
                }
            }
        }
    }

    /// The same for `wirefeed stories`: each member's link and guid cleared of its source's
    /// secrets (entries stored by older versions may carry them).
    pub fn apply_listing(&self, stories: &mut [crate::model::StoryListing]) {
        for m in stories.iter_mut().flat_map(|s| s.entries.iter_mut()) {
            let r = self.redactor(&m.source);
            if let Some(u) = m.url.as_mut() {
                *u = r.scrub_link(u);
            }
            if let Cow::Owned(g) = r.scrub_content(&m.guid) {
                m.guid = g;
            }
        }
    }

    /// Text from a source (a learned block's sample) as it may be shown: its known secret
    /// values replaced.
    pub fn scrub_text<'a>(&self, source: &str, text: &'a str) -> Cow<'a, str> {
        self.redactor(source).scrub_content(text)
    }

    /// How an Atom `<source>` without a public address is identified: a local source's
    /// path is never shown, so it is named, under this instance's address.
    pub fn local_source_id(&self, name: &str) -> String {
        local_source_id(&self.base, name)
    }

    /// A page frozen by an older version, with any source's configured address replaced by
    /// what may be shown and known secret values removed. Pages frozen now are unchanged.
    pub fn scrub_frozen<'a>(&self, body: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(body);
        for (stored, shown) in &self.frozen {
            if out.contains(stored.as_str()) {
                out = Cow::Owned(out.replace(stored.as_str(), shown));
            }
        }
        for (r, _) in self.sources.values() {
            if let Cow::Owned(s) = r.scrub_content(&out) {
                out = Cow::Owned(s);
            }
        }
        out
    }
}

/// `BASE#source-NAME`: the status page's row of the source.
pub(super) fn local_source_id(base: &Url, name: &str) -> String {
    format!("{base}#source-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StoredEntry, StoryMember};

    fn config() -> Config {
        let text = r#"
[server]
base_url = "http://wire.example/"
[[sources]]
name = "paid"
url = "https://me:pw-123456@paid.example/feed?key=K3Y-0123456789&s=1"
[[sources]]
name = "local"
url = "file:///home/me/feeds/local.xml"
"#;
        Config::parse(text, std::path::Path::new("/etc/wirefeed/wirefeed.toml")).unwrap()
    }

    fn story(source: &str, self_link: Option<&str>) -> StoredStory {
        let mut s = StoredStory::single(StoredEntry {
            source_name: source.into(),
            source_url: self_link.map(String::from),
            source_site: Some("https://me:pw@paid.example/".into()),
            link: Some("https://paid.example/a?id=1&k=K3Y-0123456789".into()),
            ..Default::default()
        });
        s.others.push(StoryMember {
            source: "paid".into(),
            url: Some("https://me:pw-123456@paid.example/b".into()),
            guid: "b".into(),
        });
        s
    }

    #[test]
    fn sources_are_cited_without_secrets_and_local_ones_by_name() {
        let p = Provenance::of(&config());
        let mut stories = vec![
            story("paid", None),
            story("paid", Some("https://paid.example/feed?key=K3Y-0123456789")),
            story("local", None),
        ];
        p.apply(&mut stories);
        let e = &stories[0].entry;
        assert_eq!(
            e.source_url.as_deref(),
            Some("https://paid.example/feed?s=1")
        );
        assert_eq!(e.source_site.as_deref(), Some("https://paid.example/"));
        assert_eq!(e.link.as_deref(), Some("https://paid.example/a?id=1"));
        assert_eq!(
            stories[0].others[0].url.as_deref(),
            Some("https://paid.example/b")
        );
        // The feed's own self link is cited, cleared of the key it echoes.
        assert_eq!(
            stories[1].entry.source_url.as_deref(),
            Some("https://paid.example/feed")
        );
        assert_eq!(stories[2].entry.source_url, None);
        assert_eq!(
            p.local_source_id("local"),
            "http://wire.example/#source-local"
        );
    }

    #[test]
    fn pages_frozen_by_older_versions_are_scrubbed_as_read() {
        let p = Provenance::of(&config());
        let old = "<source><id>https://me:pw-123456@paid.example/feed?key=K3Y-0123456789&amp;s=1</id>\
                   <link href=\"https://me:pw-123456@paid.example/a\"/></source>\
                   <source><id>file:///home/me/feeds/local.xml</id></source>";
        let new = p.scrub_frozen(old);
        assert_eq!(
            new,
            "<source><id>https://paid.example/feed?s=1</id>\
             <link href=\"https://paid.example/a\"/></source>\
             <source><id>http://wire.example/#source-local</id></source>"
        );
        assert!(matches!(p.scrub_frozen("<feed/>"), Cow::Borrowed(_)));
    }
}
