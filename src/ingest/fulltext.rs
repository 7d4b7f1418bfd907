//! Full text for sources with `full_text = true`: each entry's article page is fetched once
//! (through the same fetcher: SSRF guard, limits, conditional GET), its article extracted, and
//! the result cached in the store and used as the entry's content.

use chrono::{DateTime, Utc};
use url::Url;

use std::collections::HashMap;

use super::Writer;
use crate::clean::clutter::learned::{self, LearnedBlocks};
use crate::clean::{Cleaned, escape_html, extract};
use crate::fetch::{Fetched, Fetcher, SourceRequest, Validators};
use crate::model::{CleanEntry, Page};
use crate::parse::encoding::decode_html;

/// Pages fetched per ingest of one source at most; the rest wait for the next run, so a feed
/// of 100 new items does not become 100 requests at once.
pub const MAX_PAGES_PER_RUN: usize = 10;
/// A page that failed is tried again after this long.
const RETRY_FAILED_AFTER: i64 = 86_400;
/// Extractions shorter than this (in words) are not trusted over the feed's own text.
const MIN_WORDS: usize = 40;

/// How page clutter is learned per site: the source's `learn_after` and `learn_window`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Learning {
    pub after: u32,
    pub window: i64,
}

/// Fills entries' content from their article pages, fetching pages not yet cached. Returns
/// the pages fetched now, for the store. Paragraphs that recur on several pages of one site
/// (a standing appeal, a sign-up line inside every article body) are learned as that site's
/// clutter and left out. Runs under the source's fetch slot, one page at a
/// time, so a full-text source is as polite as any other. Pages are asked for as the source
/// is (its user agent and proxy; its credentials only on its own origin: a paid site's
/// cookie reaches its own article pages, never another site's).
pub(super) async fn enrich(
    fetcher: &Fetcher,
    request: &SourceRequest,
    writer: &Writer,
    entries: &mut [Cleaned],
    now: DateTime<Utc>,
    learning: Learning,
) -> Vec<Page> {
    let links: Vec<String> = entries
        .iter()
        .filter_map(|c| c.entry.link.clone())
        .collect();
    let w = writer.clone();
    let (cached, mut sites): (Vec<Option<Page>>, HashMap<String, LearnedBlocks>) =
        tokio::task::spawn_blocking(move || {
            let store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let pages = links.iter().map(|l| store.page(l).ok().flatten()).collect();
            let sites = links
                .iter()
                .filter_map(|l| learned::site_scope(l))
                .map(|scope| {
                    let blocks = store.learned_blocks(&scope).unwrap_or_default();
                    (scope, LearnedBlocks::from_stats(blocks))
                })
                .collect();
            (pages, sites)
        })
        .await
        .unwrap_or_default();
    let mut cache: std::collections::HashMap<String, Page> = cached
        .into_iter()
        .flatten()
        .map(|p| (p.url.clone(), p))
        .collect();
    let ts = now.timestamp();
    let due: Vec<String> = entries
        .iter()
        .filter_map(|c| c.entry.link.clone())
        .filter(|l| match cache.get(l) {
            None => true,
            Some(p) => p.error.is_some() && ts - p.fetched_at >= RETRY_FAILED_AFTER,
        })
        .take(MAX_PAGES_PER_RUN)
        .collect();
    let mut fetched = Vec::new();
    for link in due {
        let page = fetch_page(fetcher, request, &link, cache.get(&link), ts).await;
        // Each page counts once per site, whenever it is (re)fetched.
        if let (Some(text), Some(scope)) = (page.text.as_deref(), learned::site_scope(&link)) {
            sites.entry(scope).or_default().observe(
                &link,
                text.split("\n\n").map(str::trim),
                ts,
                learning.window,
            );
        }
        cache.insert(link, page.clone());
        fetched.push(page);
    }
    let learned_now: HashMap<&str, Vec<u64>> = sites
        .iter()
        .map(|(scope, l)| {
            (
                scope.as_str(),
                l.learned_hashes(learning.after, ts, learning.window),
            )
        })
        .collect();
    for c in entries.iter_mut() {
        if let Some(p) = c.entry.link.as_ref().and_then(|l| cache.get(l)) {
            let before = c.entry.content.clone();
            let site = learned::site_scope(&p.url);
            let hashes = site.as_deref().and_then(|s| learned_now.get(s));
            let is_clutter = |para: &str| hashes.is_some_and(|h| learned::is_learned(para, h));
            apply(&mut c.entry, p, &is_clutter);
            // The article now is the text: dedup fingerprints the extracted paragraphs.
            if c.entry.content != before {
                c.blocks = crate::clean::stored_blocks(&c.entry);
            }
        }
    }
    let changed: Vec<(String, Vec<crate::model::BlockStats>)> = sites
        .iter()
        .map(|(scope, l)| {
            (
                scope.clone(),
                l.changed().into_iter().cloned().collect::<Vec<_>>(),
            )
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    if !changed.is_empty() {
        let w = writer.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let mut store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (scope, blocks) in &changed {
                if let Err(e) = store.save_learned(scope, blocks) {
                    tracing::warn!(site = %scope, error = %e, "cannot store what was learned of a site's pages");
                }
            }
        })
        .await;
    }
    fetched
}

async fn fetch_page(
    fetcher: &Fetcher,
    request: &SourceRequest,
    link: &str,
    cached: Option<&Page>,
    ts: i64,
) -> Page {
    let mut page = Page {
        url: link.to_string(),
        fetched_at: ts,
        ..Default::default()
    };
    let Ok(url) = Url::parse(link) else {
        page.error = Some("not a URL".into());
        return page;
    };
    let validators = Validators {
        etag: cached.and_then(|c| c.etag.clone()),
        last_modified: cached.and_then(|c| c.last_modified.clone()),
    };
    match fetcher.fetch_as(&url, &validators, request).await {
        Ok(Fetched::NotModified { .. }) => {
            if let Some(c) = cached {
                page = Page {
                    fetched_at: ts,
                    ..c.clone()
                };
            }
        }
        Ok(Fetched::Body(body)) => {
            page.etag = body.validators.etag.clone();
            page.last_modified = body.validators.last_modified.clone();
            let u = link.to_string();
            let article = super::on_cpu(move || {
                let html = decode_html(&body.bytes, body.charset.as_deref());
                extract::extract(&html, Some(&u))
            })
            .await;
            match article {
                Ok(a) if a.text.split_whitespace().count() >= MIN_WORDS => {
                    page.title = a.title;
                    page.text = Some(a.text);
                    page.author = a.author;
                    page.published = a.published.map(|d| d.with_timezone(&Utc));
                    page.agency = a.agency;
                    page.dateline = a.dateline;
                    page.byline = a.byline;
                }
                Ok(_) => page.error = Some("no article text found on the page".into()),
                Err(e) => page.error = Some(format!("extraction failed: {e}")),
            }
        }
        Err(e) => page.error = Some(e.to_string()),
    }
    if let Some(err) = &page.error {
        tracing::debug!(page = link, error = %err, "full text unavailable");
    }
    page
}

/// Uses a page's article, without the paragraphs learned as the site's clutter, as the
/// entry's content and fills metadata the feed lacked.
fn apply(e: &mut CleanEntry, p: &Page, is_clutter: &dyn Fn(&str) -> bool) {
    let Some(text) = p.text.as_deref().filter(|t| !t.trim().is_empty()) else {
        return;
    };
    let html: String = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty() && !is_clutter(p))
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect();
    if html.is_empty() {
        return;
    }
    e.content = Some(html);
    if e.author.is_none() {
        e.author = p.author.clone();
    }
    if e.published.is_none() {
        e.published = p.published;
    }
    e.agency = e.agency.clone().or_else(|| p.agency.clone());
    e.dateline = e.dateline.clone().or_else(|| p.dateline.clone());
    e.byline = e.byline.clone().or_else(|| p.byline.clone());
    if let Some(a) = &e.agency
        && !e.categories.contains(a)
    {
        e.categories.push(a.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_article_becomes_the_content_and_fills_missing_metadata() {
        let mut e = CleanEntry {
            guid: "g".into(),
            content: Some("<p>Teaser</p>".into()),
            ..Default::default()
        };
        let p = Page {
            text: Some("First <para> & more.\n\nSecond para.".into()),
            agency: Some("AP".into()),
            byline: Some("Via AP news wire".into()),
            ..Default::default()
        };
        apply(&mut e, &p, &|_| false);
        assert_eq!(
            e.content.as_deref(),
            Some("<p>First &lt;para&gt; &amp; more.</p><p>Second para.</p>")
        );
        assert_eq!(e.agency.as_deref(), Some("AP"));
        assert_eq!(e.categories, vec!["AP"]);
        let mut untouched = CleanEntry::default();
        apply(
            &mut untouched,
            &Page {
                error: Some("x".into()),
                ..Default::default()
            },
            &|_| false,
        );
        assert_eq!(untouched, CleanEntry::default());
    }
}
