//! Finding a site's feeds from its address (`wirefeed add URL`).
//!
//! A URL that is itself a feed is taken as it is. A page is searched the way browsers and
//! readers do: its `<link rel="alternate">` elements with a feed type first; when it names
//! none, the addresses sites usually publish at (`paths.txt`: `/feed`, `/rss.xml`, …).
//! Every candidate is fetched through the same guarded fetcher as sources (SSRF guard,
//! timeouts, body cap) and kept only if it parses as a feed. A hostile page cannot make
//! this fetch more than [`MAX_CANDIDATES`] addresses.

use url::Url;

use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::parse::{ParseLimits, parse_feed};

/// Candidate addresses tried at most for one page.
pub const MAX_CANDIDATES: usize = 12;

/// Usual feed addresses, tried when a page names none (data, not code).
const USUAL_PATHS: &str = include_str!("paths.txt");

/// A feed found, as the user chooses among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFeed {
    /// Its address (after redirects).
    pub url: Url,
    /// The title it gives itself, else the one the page's link gave it.
    pub title: Option<String>,
    /// "RSS", "Atom" or "JSON Feed".
    pub format: &'static str,
    /// How many entries it carries now.
    pub entries: usize,
}

/// What an address turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The address is a feed.
    Feed(FoundFeed),
    /// The address is a page; these feeds were found for it (possibly none), in the order
    /// the page names them.
    Page(Vec<FoundFeed>),
}

/// Why nothing could be found at all.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("only http and https addresses can be added ({0})")]
    Scheme(String),
    #[error("cannot fetch {url}: {source}")]
    Fetch {
        url: String,
        #[source]
        source: FetchError,
    },
    #[error("{url} answered 304 Not Modified to a plain request")]
    NotModified { url: String },
}

/// The format of a parsed document, from its first bytes.
fn format_of(bytes: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    if head.trim_start().starts_with('{') {
        "JSON Feed"
    } else if head.contains("<feed") {
        "Atom"
    } else {
        "RSS"
    }
}

/// Fetches `url`; the body and where it came from.
async fn get(fetcher: &Fetcher, url: &Url) -> Result<crate::fetch::Body, DiscoverError> {
    match fetcher.fetch(url, &Validators::default()).await {
        Ok(Fetched::Body(b)) => Ok(b),
        Ok(Fetched::NotModified { .. }) => Err(DiscoverError::NotModified {
            url: url.to_string(),
        }),
        Err(source) => Err(DiscoverError::Fetch {
            url: url.to_string(),
            source,
        }),
    }
}

/// The body read as a feed, if it is one.
fn as_feed(body: &crate::fetch::Body, limits: ParseLimits) -> Option<FoundFeed> {
    let parsed = parse_feed(
        &body.bytes,
        body.charset.as_deref(),
        Some(body.final_url.as_str()),
        limits,
    )
    .ok()?;
    Some(FoundFeed {
        url: body.final_url.clone(),
        title: parsed.meta.title.filter(|t| !t.trim().is_empty()),
        format: format_of(&body.bytes),
        entries: parsed.entries.len(),
    })
}

/// What `url` is: a feed, or a page with these feeds.
pub async fn discover(
    fetcher: &Fetcher,
    url: &Url,
    limits: ParseLimits,
) -> Result<Found, DiscoverError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DiscoverError::Scheme(url.to_string()));
    }
    let page = get(fetcher, url).await?;
    if let Some(feed) = as_feed(&page, limits) {
        return Ok(Found::Feed(feed));
    }
    let html = crate::parse::encoding::decode_html(&page.bytes, page.charset.as_deref());
    let named = alternates(&html, &page.final_url);
    let candidates: Vec<(Url, Option<String>)> = if named.is_empty() {
        usual(&page.final_url)
            .into_iter()
            .map(|u| (u, None))
            .collect()
    } else {
        named
    };
    let mut found: Vec<FoundFeed> = Vec::new();
    for (candidate, title) in candidates.into_iter().take(MAX_CANDIDATES) {
        let Ok(body) = get(fetcher, &candidate).await else {
            continue;
        };
        if let Some(mut feed) = as_feed(&body, limits)
            && !found.iter().any(|f| f.url == feed.url)
        {
            feed.title = feed.title.or(title);
            found.push(feed);
        }
    }
    Ok(Found::Page(found))
}

/// The page's `<link rel="alternate">` feeds, resolved against the page (or its `<base>`),
/// each once, in document order, with the title the link gives.
pub fn alternates(html: &str, page: &Url) -> Vec<(Url, Option<String>)> {
    let doc = scraper::Html::parse_document(html);
    let base_sel = scraper::Selector::parse("base[href]").expect("static selector");
    let base = doc
        .select(&base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let sel = scraper::Selector::parse("link[href]").expect("static selector");
    let mut out: Vec<(Url, Option<String>)> = Vec::new();
    for link in doc.select(&sel) {
        let el = link.value();
        let alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let feed_type = el.attr("type").is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            let t = t.split(';').next().unwrap_or_default().trim();
            matches!(
                t,
                "application/rss+xml"
                    | "application/atom+xml"
                    | "application/feed+json"
                    | "application/rdf+xml"
                    | "application/json"
                    | "text/xml"
                    | "application/xml"
            )
        });
        if !(alternate && feed_type) {
            continue;
        }
        let Some(url) = el
            .attr("href")
            .and_then(|h| base.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        if !out.iter().any(|(u, _)| *u == url) {
            let title = el
                .attr("title")
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
            out.push((url, title));
        }
    }
    out
}

/// The usual feed addresses of the page's site.
fn usual(page: &Url) -> Vec<Url> {
    USUAL_PATHS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|p| page.join(p).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_links_with_feed_types_are_found_in_order_once() {
        let page = Url::parse("https://news.example/world/index.html").unwrap();
        let html = r#"<html><head>
            <link rel="stylesheet" type="text/css" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="World" href="rss.xml">
            <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="/world.atom">
            <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
            <link rel="alternate" type="application/rss+xml" href="rss.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head></html>"#;
        let found = alternates(html, &page);
        assert_eq!(
            found,
            [
                (
                    Url::parse("https://news.example/world/rss.xml").unwrap(),
                    Some("World".into())
                ),
                (Url::parse("https://news.example/world.atom").unwrap(), None),
            ]
        );
    }

    #[test]
    fn a_base_element_moves_relative_links() {
        let page = Url::parse("https://news.example/a/b").unwrap();
        let html = r#"<base href="https://cdn.example/x/"><link rel="alternate" type="application/feed+json" href="f.json">"#;
        assert_eq!(
            alternates(html, &page)[0].0.as_str(),
            "https://cdn.example/x/f.json"
        );
    }

    #[test]
    fn usual_paths_are_on_the_site_root() {
        let u = usual(&Url::parse("https://blog.example/posts/1").unwrap());
        assert_eq!(u[0].as_str(), "https://blog.example/feed");
        assert!(u.len() <= MAX_CANDIDATES);
    }
}
