//! Page metadata: title, author and publication time.
//!
//! Sources are tried from most to least explicit: `<meta>` tags and JSON-LD (written for
//! machines), then the page's visible headline, `<time>` elements and date lines.

use chrono::{DateTime, FixedOffset};

use super::date;
use super::dom::Page;
use super::jsonld::LdArticle;
use super::rules::Rules;

const PUBLISHED_KEYS: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "publish-date",
    "publishdate",
    "pubdate",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
];

/// Strips a trailing " | Site" / " - Site" from a `<title>`, keeping the longest segment side.
fn strip_site(title: &str) -> String {
    for sep in [" | ", " - ", " – ", " — ", " :: "] {
        if let Some((head, _)) = title.rsplit_once(sep)
            && head.split_whitespace().count() >= 3
        {
            return head.trim().to_string();
        }
    }
    title.trim().to_string()
}

/// The article headline.
pub fn title(page: &Page, ld: Option<&LdArticle>) -> Option<String> {
    let h1 = page
        .blocks
        .iter()
        .find(|b| page.elems[b.owner].tag == "h1" && b.text.split_whitespace().count() >= 2)
        .map(|b| b.text.clone());
    let og = page
        .meta(&["og:title", "twitter:title"])
        .map(crate::clean::doc::collapse_ws);
    let tag = page.title_tag.as_deref().map(strip_site);
    // A visible h1 that the title tag or og:title confirms is the headline as printed.
    if let Some(h) = &h1 {
        let hn = super::body::normalise(h);
        let confirmed = [og.as_deref(), tag.as_deref()]
            .iter()
            .flatten()
            .any(|t| super::body::normalise(t).contains(&hn));
        if confirmed {
            return h1;
        }
    }
    og.or_else(|| ld.and_then(|l| l.headline.clone()))
        .or(h1)
        .or(tag)
        .filter(|t| !t.is_empty())
}

/// Publication time with the page's own UTC offset.
pub fn published(
    page: &Page,
    rules: &Rules,
    ld: Option<&LdArticle>,
) -> Option<DateTime<FixedOffset>> {
    if let Some(d) = page.meta(PUBLISHED_KEYS).and_then(date::parse_iso) {
        return Some(d);
    }
    if let Some(d) = ld
        .and_then(|l| l.date_published.as_deref())
        .and_then(date::parse_iso)
    {
        return Some(d);
    }
    if let Some(d) = page
        .elems
        .iter()
        .filter_map(|e| e.datetime.as_deref())
        .find_map(date::parse_iso)
    {
        return Some(d);
    }
    // Visible date stamps: prefer one that carries a clock time.
    let mut day_only = None;
    for b in &page.blocks {
        if b.text.split_whitespace().count() > 16 {
            continue;
        }
        if let Some(d) = date::parse_text(&b.text, rules) {
            if d.has_time {
                return Some(d.when);
            }
            day_only.get_or_insert(d.when);
        }
    }
    day_only
}

/// Author names from markup (meta tags, JSON-LD), skipping URLs and agency-only credits.
pub fn authors(page: &Page, ld: Option<&LdArticle>) -> Vec<String> {
    let mut out: Vec<String> = ld.map(|l| l.authors.clone()).unwrap_or_default();
    if out.is_empty()
        && let Some(a) = page.meta(&["author", "article:author", "sailthru.author", "byl"])
    {
        out.push(a.to_string());
    }
    out.retain(|a| !a.starts_with("http") && !a.contains('/') && !a.trim().is_empty());
    out.dedup();
    out
}
