//! One attempt at a source: fetch, then parse, learn and clean on the blocking pool.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use super::{Attempted, IngestError, IngestOptions};
use crate::clean::clutter::learned::{self, LearnedBlocks};
use crate::clean::{Cleaned, Cleaner, ParsedEntry};
use crate::fetch::{FetchError, Fetched, Fetcher, SourceRequest, Validators, caching};
use crate::parse::parse_feed;
use crate::redact::Redactor;

/// What one attempt asks for, and how: the address, the validators of the last fetch, the
/// source's request settings, and what of the source must not be kept.
pub(super) struct Asking<'a> {
    pub(super) target: &'a Url,
    pub(super) validators: &'a Validators,
    pub(super) request: &'a SourceRequest,
    pub(super) redactor: &'a Redactor,
}

/// Fetch, then parse and clean on the blocking pool.
pub(super) async fn attempt(
    fetcher: &Fetcher,
    asking: Asking<'_>,
    cleaner: Arc<Cleaner>,
    mut learned: LearnedBlocks,
    opts: IngestOptions,
    now: DateTime<Utc>,
) -> Attempted {
    let limits = opts.limits;
    let fetched = fetcher
        .fetch_as(asking.target, asking.validators, asking.request)
        .await;
    match fetched {
        Err(e) => {
            let (status, retry_at) = match &e {
                FetchError::Status {
                    status,
                    retry_after,
                } => (
                    Some(*status),
                    retry_after
                        .as_deref()
                        .and_then(|v| caching::retry_after(v, now)),
                ),
                _ => (None, None),
            };
            Attempted::Failed {
                error: IngestError::Fetch(asking.redactor.scrub(&e.to_string()).into_owned()),
                status,
                retry_at,
            }
        }
        Ok(Fetched::NotModified {
            validators,
            freshness,
            moved_permanently,
        }) => Attempted::NotModified {
            validators,
            freshness,
            moved: moved_permanently,
        },
        Ok(Fetched::Body(body)) => {
            let status = body.status;
            let bytes = body.bytes.len() as u64;
            // Relative links resolve against the address as it may be shown: resolved against
            // the real one they would carry its userinfo into published links.
            let base = asking
                .redactor
                .public_url(&body.final_url)
                .unwrap_or_else(|| body.final_url.clone());
            let redactor = asking.redactor.clone();
            let parsed = super::on_cpu(move || {
                let parsed = parse_feed(
                    &body.bytes,
                    body.charset.as_deref(),
                    Some(base.as_str()),
                    limits,
                )?;
                // Learn from this document first, so that a block seen for the third time is
                // already removed from the entry that carries it.
                let (ts, window) = (now.timestamp(), opts.learn_window);
                let before = learned.learned_hashes(opts.learn_after, ts, window);
                // Each entry's HTML is parsed here, once: learning and cleaning read the tree.
                let docs: Vec<ParsedEntry> =
                    parsed.entries.iter().map(ParsedEntry::parse).collect();
                for (e, d) in parsed.entries.iter().zip(&docs) {
                    learned.observe(&e.guid, d.block_texts(), ts, window);
                }
                let newly_learned: Vec<u64> = learned
                    .learned_hashes(opts.learn_after, ts, window)
                    .into_iter()
                    .filter(|h| !before.contains(h))
                    .collect();
                // Most sources have learned nothing: then no block needs hashing at all.
                let learned_now: std::collections::HashSet<u64> = learned
                    .learned_hashes(opts.learn_after, ts, window)
                    .into_iter()
                    .collect();
                let is_learned = |t: &str| {
                    !learned_now.is_empty()
                        && learned::learnable(t)
                        && learned_now.contains(&learned::block_hash(t))
                };
                let entries: Vec<Cleaned> = parsed
                    .entries
                    .iter()
                    .zip(&docs)
                    .map(|(e, d)| {
                        let mut c = cleaner.clean_parsed(e, d, &base, &is_learned);
                        crate::clean::plausible_dates(&mut c.entry, now);
                        c
                    })
                    .collect();
                let mut meta = parsed.meta;
                meta.podcast = meta.podcast.map(|p| p.resolved(&base));
                let meta = scrub_meta(meta, &redactor);
                Ok::<_, crate::parse::ParseError>(Attempted::Body {
                    validators: body.validators,
                    freshness: body.freshness,
                    moved: body.moved_permanently,
                    status,
                    bytes,
                    feed_interval: meta.update_interval,
                    meta,
                    entries,
                    learned,
                    newly_learned,
                    skipped: parsed.skipped,
                })
            })
            .await;
            match parsed {
                Ok(Ok(body)) => body,
                Ok(Err(e)) => Attempted::Failed {
                    error: IngestError::Parse(asking.redactor.scrub(&e.to_string()).into_owned()),
                    status: Some(status),
                    retry_at: None,
                },
                Err(e) => Attempted::Failed {
                    error: IngestError::Internal(format!("parse task failed: {e}")),
                    status: Some(status),
                    retry_at: None,
                },
            }
        }
    }
}

/// What a feed says about itself, with anything secret of the source taken out: a private
/// feed's self link often repeats the key it was fetched with.
fn scrub_meta(mut meta: crate::model::FeedMeta, r: &Redactor) -> crate::model::FeedMeta {
    meta.title = meta.title.map(|t| r.scrub_content(&t).into_owned());
    meta.link = meta.link.and_then(|l| r.public_link(&l));
    meta.self_link = meta.self_link.and_then(|l| r.public_link(&l));
    if let Some(p) = meta.podcast.as_mut() {
        if let Some(i) = p.image.as_mut() {
            *i = r.scrub_link(i);
        }
        for t in [&mut p.author, &mut p.owner_name, &mut p.owner_email]
            .into_iter()
            .flatten()
            .chain(p.category.iter_mut())
        {
            *t = r.scrub_content(t).into_owned();
        }
    }
    meta
}

/// An entry with every known secret value of its source taken out: a publisher may echo the
/// key a private feed was fetched with into its links, ids or text.
pub(super) fn scrub_entry(c: &mut Cleaned, r: &Redactor) {
    let e = &mut c.entry;
    let text = |s: &mut String| {
        if let std::borrow::Cow::Owned(o) = r.scrub_content(s) {
            *s = o;
        }
    };
    text(&mut e.guid);
    text(&mut e.title);
    if let Some(l) = e.link.as_mut() {
        *l = r.scrub_link(l);
    }
    // Enclosure URLs of a private feed often carry its key, as its links do.
    e.media.map_urls(|u| *u = r.scrub_link(u));
    for m in &mut e.media.files {
        if let Some(t) = m.title.as_mut() {
            text(t);
        }
    }
    for field in [
        &mut e.author,
        &mut e.summary,
        &mut e.content,
        &mut e.agency,
        &mut e.dateline,
        &mut e.byline,
    ]
    .into_iter()
    .flatten()
    {
        text(field);
    }
    e.categories.iter_mut().for_each(text);
}
