//! One attempt at a source: fetch, then parse, learn and clean on the blocking pool.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use super::{Attempted, IngestOptions};
use crate::clean::learned::LearnedBlocks;
use crate::clean::{Cleaner, blocks_of, body_of};
use crate::fetch::{FetchError, Fetched, Fetcher, Validators, caching};
use crate::parse::parse_feed;

/// Fetch, then parse and clean on the blocking pool.
pub(super) async fn attempt(
    fetcher: &Fetcher,
    target: &Url,
    validators: &Validators,
    cleaner: Arc<Cleaner>,
    mut learned: LearnedBlocks,
    opts: IngestOptions,
    now: DateTime<Utc>,
) -> Attempted {
    let limits = opts.limits;
    match fetcher.fetch(target, validators).await {
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
                error: e.to_string(),
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
            let parsed = super::on_cpu(move || {
                let parsed = parse_feed(
                    &body.bytes,
                    body.charset.as_deref(),
                    Some(body.final_url.as_str()),
                    limits,
                )?;
                // Learn from this document first, so that a block seen for the third time is
                // already removed from the entry that carries it.
                let (ts, window) = (now.timestamp(), opts.learn_window);
                let before = learned.learned_hashes(opts.learn_after, ts, window);
                let blocks: Vec<Vec<String>> = parsed
                    .entries
                    .iter()
                    .map(|e| blocks_of(body_of(e)))
                    .collect();
                for (e, b) in parsed.entries.iter().zip(&blocks) {
                    learned.observe(&e.guid, b.iter().map(String::as_str), ts, window);
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
                        && crate::clean::learned::learnable(t)
                        && learned_now.contains(&crate::clean::learned::block_hash(t))
                };
                let entries: Vec<_> = parsed
                    .entries
                    .iter()
                    .zip(&blocks)
                    .map(|(e, b)| {
                        let mut c = cleaner.clean_blocks(e, &body.final_url, b, &is_learned);
                        crate::clean::plausible_dates(&mut c, now);
                        c
                    })
                    .collect();
                Ok::<_, crate::parse::ParseError>((
                    parsed.meta,
                    entries,
                    body.validators,
                    body.freshness,
                    body.moved_permanently,
                    learned,
                    newly_learned,
                ))
            })
            .await;
            match parsed {
                Ok(Ok((meta, entries, validators, freshness, moved, learned, newly_learned))) => {
                    Attempted::Body {
                        validators,
                        freshness,
                        moved,
                        status,
                        bytes,
                        feed_interval: meta.update_interval,
                        meta,
                        entries,
                        learned,
                        newly_learned,
                    }
                }
                Ok(Err(e)) => Attempted::Failed {
                    error: e.to_string(),
                    status: Some(status),
                    retry_at: None,
                },
                Err(e) => Attempted::Failed {
                    error: format!("parse task failed: {e}"),
                    status: Some(status),
                    retry_at: None,
                },
            }
        }
    }
}
