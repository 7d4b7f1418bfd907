//! A feed as a web page, rendered by the server: what a browser gets at `/feeds/NAME.html`
//! and at any feed address when its Accept header prefers `text/html`.
//!
//! Why not XSLT: feeds used to name a stylesheet that browsers applied, and Chromium now
//! shows a deprecation banner over such pages and is removing the feature. This page needs
//! nothing from the browser: plain HTML with its style inline, no script (the server's CSP
//! forbids any), nothing loaded from elsewhere. It shows the stories with every outlet that
//! ran them, their files, and subscribe links in every format; feed readers, which do not
//! ask for HTML, keep getting the feed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use url::Url;

use super::atom::{feed_url, is_web_url, related_urls};
use super::{Doc, FeedInfo, Format, HTML_TYPE, Publisher, Rendered, next_change};
use crate::clean::escape_html as esc;
use crate::model::{EntryMedia, Media, StoredEntry, StoredStory, StoryMember};
use crate::store::StoreError;

const STYLE: &str = "
:root { color-scheme: light dark; --muted: #6b7280; --line: #e5e7eb; --accent: #1d4ed8; }
@media (prefers-color-scheme: dark) { :root { --line: #374151; --accent: #93c5fd; } }
body { font: 16px/1.55 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto;
       max-width: 46rem; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.about { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem;
         margin: 1rem 0 1.5rem; font-size: .95rem; }
.about code { word-break: break-all; }
.formats a { margin-right: .6rem; }
ol.items { list-style: none; padding: 0; }
li.item { padding: .8rem 0; border-bottom: 1px solid var(--line); }
li.item h2 { font-size: 1.05rem; margin: 0 0 .2rem; }
.summary { margin: .3rem 0 0; }
.outlets, .files { margin: .3rem 0 0; padding: 0; list-style: none; font-size: .9rem; }
.outlets li, .files li { display: inline; margin-right: .6rem; }
";

/// Characters of an entry's text shown under its headline.
const SUMMARY_CHARS: usize = 400;

fn date(t: DateTime<Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        t.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The host an outlet's link lives on, to name it where the feed gave no title.
fn host_of(link: &str) -> String {
    Url::parse(link)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_else(|| link.to_string())
}

/// A short plain-text summary of an entry.
fn summary(e: &StoredEntry) -> Option<String> {
    let html = e.summary.as_deref().or(e.content.as_deref())?;
    let text = crate::clean::html_to_text(html);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut s: String = text.chars().take(SUMMARY_CHARS).collect();
    if text.chars().count() > SUMMARY_CHARS {
        s.push('…');
    }
    Some(s)
}

/// Bytes as people read them.
fn size(bytes: u64) -> String {
    bytesize::ByteSize(bytes).to_string()
}

fn item(e: &StoredEntry, story: &StoredStory) -> String {
    let mut out = String::from("<li class=\"item\">");
    let title = esc(&e.title);
    match e.link.as_deref().filter(|l| is_web_url(l)) {
        Some(l) => out.push_str(&format!("<h2><a href=\"{}\">{title}</a></h2>", esc(l))),
        None => out.push_str(&format!("<h2>{title}</h2>")),
    }
    let outlet = e.source_title.as_deref().unwrap_or(&e.source_name);
    let mut meta = vec![date(e.published), esc(outlet)];
    if let Some(a) = &e.author {
        meta.push(esc(a));
    }
    out.push_str(&format!("<div class=\"muted\">{}</div>", meta.join(" · ")));
    if let Some(s) = summary(e) {
        out.push_str(&format!("<p class=\"summary\">{}</p>", esc(&s)));
    }
    let related = related_urls(e, story);
    if !related.is_empty() {
        out.push_str(&format!(
            "<ul class=\"outlets\"><li class=\"muted\">Also run by {} other outlet{}:</li>",
            related.len(),
            if related.len() == 1 { "" } else { "s" }
        ));
        for url in related {
            let name = story
                .others
                .iter()
                .find(|m| m.url.as_deref() == Some(url))
                .map(|m| m.source.clone())
                .unwrap_or_else(|| host_of(url));
            out.push_str(&format!(
                "<li><a href=\"{}\" rel=\"related\">{}</a></li>",
                esc(url),
                esc(&name)
            ));
        }
        out.push_str("</ul>");
    }
    let files: Vec<String> = e
        .media
        .attachments()
        .filter(|f| is_web_url(&f.url))
        .map(|f| {
            let mut what = f.mime_or_guess();
            if let Some(l) = f.length {
                what.push_str(&format!(", {}", size(l)));
            }
            let name = f
                .title
                .clone()
                .or_else(|| {
                    Url::parse(&f.url).ok().and_then(|u| {
                        u.path_segments()
                            .and_then(|mut s| s.next_back().map(String::from))
                            .filter(|s| !s.is_empty())
                    })
                })
                .unwrap_or_else(|| "file".into());
            format!(
                "<li><a href=\"{}\" type=\"{}\">{}</a> <span class=\"muted\">({})</span></li>",
                esc(&f.url),
                esc(&f.mime_or_guess()),
                esc(&name),
                esc(&what)
            )
        })
        .collect();
    if !files.is_empty() {
        out.push_str(&format!("<ul class=\"files\">{}</ul>", files.concat()));
    }
    out.push_str("</li>\n");
    out
}

/// Renders the page of a feed document. `shown` is the format whose address the page says
/// to subscribe to (the one the browser asked for; Atom at `/feeds/NAME.html`).
pub fn render_html(
    feed: &FeedInfo<'_>,
    base: &Url,
    stories: &[StoredStory],
    shown: Format,
) -> String {
    let address = feed.self_url(base, shown);
    let mut head = String::new();
    let mut formats = String::new();
    for f in Format::ALL {
        let url = match feed.doc {
            Doc::Live { .. } => feed_url(base, feed.name, f.ext()),
            Doc::Archive { .. } => feed.self_url(base, f),
        };
        head.push_str(&format!(
            "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
            f.media_type(),
            esc(feed.title),
            f.label(),
            esc(&url)
        ));
        formats.push_str(&format!(
            "<a href=\"{}\" type=\"{}\">{}</a>",
            esc(&url),
            f.media_type(),
            f.label()
        ));
    }
    let archive = match feed.doc {
        Doc::Archive { n } => {
            format!(" This is archive page {n}, stories that left the live feed.")
        }
        Doc::Live { .. } => String::new(),
    };
    let history: String = feed
        .history_links(base, shown)
        .into_iter()
        .map(|(rel, url)| {
            let label = if rel == "current" {
                "The live feed"
            } else {
                "Older stories"
            };
            format!(" <a href=\"{}\" rel=\"{rel}\">{label}</a>.", esc(&url))
        })
        .collect();
    let items: String = if stories.is_empty() {
        "<li class=\"muted\">No stories yet.</li>\n".into()
    } else {
        stories.iter().map(|s| item(&s.entry, s)).collect()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · wirefeed</title>\n{head}<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1 id=\"feed-title\">{title}</h1>\n<p class=\"muted\">{description}</p>\n\
         <div class=\"about\"><strong>This is a news feed.</strong> Subscribe by copying its \
         address into your feed reader: <code id=\"feed-url\">{address}</code>{archive}{history}\
         <div class=\"formats\">Subscribe: {formats}</div></div>\n\
         <ol class=\"items\" id=\"items\">\n{items}</ol>\n\
         <p class=\"muted\"><a href=\"{home}\">All feeds and sources</a> · wirefeed {version}</p>\n\
         </body>\n</html>\n",
        lang = esc(feed.language.as_deref().unwrap_or("en")),
        title = esc(feed.title),
        description = esc(&feed.description()),
        address = esc(&address),
        home = esc(base.as_str()),
        version = env!("CARGO_PKG_VERSION"),
    )
}

impl Publisher {
    /// A feed's page if its cached rendering is current; never blocks on the store.
    pub fn cached_page(&self, feed_name: &str, shown: Format) -> Option<Arc<Rendered>> {
        let generation = self.generation.load(Ordering::SeqCst);
        self.pages
            .lock()
            .expect("pages lock")
            .get(&(feed_name.to_string(), shown))
            .filter(|r| r.generation == generation)
            .cloned()
    }

    /// A live feed's page (see [`render_html`]), cached like the feed and re-rendered when
    /// an ingest changed something; `Ok(None)` when no such feed is configured. Blocking.
    pub fn html_view(
        &self,
        feed_name: &str,
        shown: Format,
    ) -> Result<Option<Arc<Rendered>>, StoreError> {
        if let Some(r) = self.cached_page(feed_name, shown) {
            return Ok(Some(r));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let config = self.config();
        let Some(feed) = config.feed(feed_name) else {
            return Ok(None);
        };
        let stories = self.stories(feed)?;
        let (prev, podcast) = self.with_reader(|store| {
            Ok((
                store.archive_state(&feed.name)?.pages,
                store.podcast_of(&feed.sources)?,
            ))
        })?;
        let mut info = FeedInfo::of(
            feed,
            &config,
            Doc::Live {
                prev: (prev > 0).then_some(prev),
            },
        );
        info.podcast = podcast;
        let body = render_html(&info, &config.server.base_url, &stories, shown);
        let newest = stories
            .iter()
            .map(|s| s.entry.updated)
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let now = Utc::now();
        let mut r = Rendered::new(
            body,
            Format::Atom,
            newest,
            Some(next_change(feed, &config, now)),
        );
        r.content_type = HTML_TYPE;
        r.generation = generation;
        let r = Arc::new(r);
        self.pages
            .lock()
            .expect("pages lock")
            .insert((feed_name.to_string(), shown), r.clone());
        Ok(Some(r))
    }

    /// The page of archive page `n` of a feed, read back from its frozen Atom document
    /// (pages never change, so neither does this); `Ok(None)` when there is no such page.
    pub fn archive_html(
        &self,
        feed_name: &str,
        n: u32,
        shown: Format,
    ) -> Result<Option<Arc<Rendered>>, StoreError> {
        let key = (format!("{feed_name}/archive/{n}"), shown);
        if let Some(r) = self.pages.lock().expect("pages lock").get(&key) {
            return Ok(Some(r.clone()));
        }
        let config = self.config();
        let Some(feed) = config.feed(feed_name) else {
            return Ok(None);
        };
        let Some(atom) = self.archive_page(feed_name, n, Format::Atom)? else {
            return Ok(None);
        };
        let stories = stories_of_atom(&atom.body);
        let mut info = FeedInfo::of(feed, &config, Doc::Archive { n });
        info.hub = None;
        info.ttl_minutes = None;
        let body = render_html(&info, &config.server.base_url, &stories, shown);
        let mut r = Rendered::new(body, Format::Atom, atom.last_modified, None);
        r.content_type = HTML_TYPE;
        let r = Arc::new(r);
        let mut pages = self.pages.lock().expect("pages lock");
        if pages.len() >= 512 {
            pages.clear();
        }
        pages.insert(key, r.clone());
        Ok(Some(r))
    }
}

/// An entry's links with one `rel` (no `rel` is `alternate`).
fn links_with<'a>(
    links: &'a [feed_rs::model::Link],
    rel: &'a str,
) -> impl Iterator<Item = &'a feed_rs::model::Link> {
    links
        .iter()
        .filter(move |l| l.rel.as_deref().unwrap_or("alternate") == rel)
}

/// The stories of a frozen Atom document, as far as a page shows them: headline, links
/// (alternate, related outlets, enclosures), dates, summary, source.
fn stories_of_atom(bytes: &[u8]) -> Vec<StoredStory> {
    let Ok(feed) = feed_rs::parser::parse(bytes) else {
        return Vec::new();
    };
    feed.entries
        .into_iter()
        .map(|e| {
            let rel = |r: &'static str| links_with(&e.links, r);
            let link = rel("alternate").next().map(|l| l.href.clone());
            let outlet = link.as_deref().map(host_of).unwrap_or_default();
            let published = e.published.or(e.updated).unwrap_or_default();
            let entry = StoredEntry {
                public_id: e.id.clone(),
                source_name: outlet,
                link,
                title: e
                    .title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default(),
                author: e.authors.first().and_then(|a| a.name.clone()),
                summary: e
                    .summary
                    .as_ref()
                    .map(|t| crate::clean::escape_html(&t.content)),
                published,
                updated: e.updated.unwrap_or(published),
                media: EntryMedia {
                    files: rel("enclosure")
                        .map(|l| Media {
                            url: l.href.clone(),
                            mime: l.media_type.clone(),
                            length: l.length,
                            title: l.title.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                },
                ..Default::default()
            };
            let others = rel("related")
                .map(|l| StoryMember {
                    source: host_of(&l.href),
                    url: Some(l.href.clone()),
                    guid: l.href.clone(),
                })
                .collect();
            StoredStory {
                entry,
                others,
                revisions: 1,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn story() -> StoredStory {
        let t = Utc.with_ymd_and_hms(2025, 3, 3, 6, 0, 0).unwrap();
        StoredStory {
            entry: StoredEntry {
                public_id: "urn:uuid:1".into(),
                source_name: "quay".into(),
                source_title: Some("Quay <Post>".into()),
                link: Some("https://quay.example/a".into()),
                title: "Lighthouse \"relit\" <tonight>".into(),
                summary: Some("<p>Keepers <script>x</script>relit it.</p>".into()),
                published: t,
                updated: t,
                media: EntryMedia {
                    files: vec![Media {
                        url: "https://cdn.example/ep.mp3".into(),
                        mime: Some("audio/mpeg".into()),
                        length: Some(3_000_000),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                ..Default::default()
            },
            others: vec![StoryMember {
                source: "harbour".into(),
                url: Some("https://harbour.example/b".into()),
                guid: "b".into(),
            }],
            revisions: 1,
        }
    }

    #[test]
    fn the_page_escapes_everything_and_runs_no_script() {
        let feed = FeedInfo::named("wire", "Wire & <co>");
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        let page = render_html(&feed, &base, &[story()], Format::Rss);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("<h1 id=\"feed-title\">Wire &amp; &lt;co&gt;</h1>"));
        assert!(page.contains("<code id=\"feed-url\">http://127.0.0.1:8080/feeds/wire.rss</code>"));
        assert!(page.contains("Lighthouse &quot;relit&quot; &lt;tonight&gt;"));
        assert!(page.contains("Quay &lt;Post&gt;"));
        assert!(page.contains("<a href=\"https://harbour.example/b\" rel=\"related\">harbour</a>"));
        assert!(
            page.contains("href=\"https://cdn.example/ep.mp3\" type=\"audio/mpeg\">ep.mp3</a>")
        );
        for ext in ["atom", "rss", "json"] {
            assert!(page.contains(&format!("href=\"http://127.0.0.1:8080/feeds/wire.{ext}\"")));
        }
    }
}
