//! One source, end to end: fetch → parse → clean → store, and what to do next time.
//!
//! This is the pipeline for a single source, shared by the daemon's scheduler and the
//! `wirefeed fetch` command. CPU-heavy steps (parsing, cleaning) and SQLite calls run on
//! tokio's blocking pool so a 100,000-entry feed never stalls the HTTP server or other fetches.
//! The source's state (validators, errors, next run, permanent moves) is computed here from
//! the previous state and the attempt ([`state`]), and written only when it changed.

mod attempt;
mod fulltext;
mod state;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

use crate::clean::Cleaner;
use crate::clean::clutter::learned::{self, LearnedBlocks};
use crate::config::SourceConfig;
use crate::dedup::{Dedup, DedupConfig, Fingerprint};
use crate::fetch::politeness::Politeness;
use crate::fetch::{Fetcher, SourceRequest, Validators};
use crate::model::CleanEntry;
use crate::model::{BlockStats, IngestCounts};
pub use crate::model::{IngestError, Outcome, SourceReport};
use crate::parse::ParseLimits;
use crate::schedule::Backoff;
use crate::store::{DedupStep, FetchSave, SaveQueue, Store};

/// The single writer connection, shared by every ingest task. A std mutex is right here:
/// it is only ever held inside `spawn_blocking`, never across an `.await`.
pub type Writer = Arc<Mutex<Store>>;

/// How many fetches in a row must end at the same address through permanent redirects
/// before the source's stored address is changed (one could be a misconfiguration).
pub const PERMANENT_MOVE_AFTER: u32 = 3;

/// Limits and policies for one ingest.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    pub limits: ParseLimits,
    pub backoff: Backoff,
    /// Distinct entries of a source a block must appear in to be learned as boilerplate.
    pub learn_after: u32,
    /// Seconds a block is remembered without being seen.
    pub learn_window: i64,
    /// How entries are merged into stories.
    pub dedup: DedupConfig,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            limits: ParseLimits::default(),
            backoff: Backoff::default(),
            learn_after: 3,
            learn_window: 30 * 86_400,
            dedup: DedupConfig::default(),
        }
    }
}

/// Malformed items reported one by one at most; beyond, they are counted.
const ITEM_WARNINGS: usize = 20;

/// One warning per malformed item (the first [`ITEM_WARNINGS`]), then a count of the rest.
fn item_warnings(skipped: &[crate::model::SkippedItem]) -> Vec<String> {
    let mut out: Vec<String> = skipped
        .iter()
        .take(ITEM_WARNINGS)
        .map(|s| format!("skipped malformed {s}"))
        .collect();
    if skipped.len() > ITEM_WARNINGS {
        out.push(format!(
            "skipped {} more malformed items",
            skipped.len() - ITEM_WARNINGS
        ));
    }
    out
}

/// What one attempt produced, before it is stored. One lives per ingest, briefly, so the
/// size of the body variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Attempted {
    NotModified {
        validators: Validators,
        freshness: Option<Duration>,
        moved: Option<Url>,
    },
    Body {
        validators: Validators,
        freshness: Option<Duration>,
        moved: Option<Url>,
        status: u16,
        bytes: u64,
        feed_interval: Option<Duration>,
        meta: crate::model::FeedMeta,
        entries: Vec<crate::clean::Cleaned>,
        /// The source's learned blocks after reading this document.
        learned: LearnedBlocks,
        /// Blocks that became boilerplate with this document.
        newly_learned: Vec<u64>,
        /// Malformed items left out of the document.
        skipped: Vec<crate::model::SkippedItem>,
    },
    Failed {
        error: IngestError,
        status: Option<u16>,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Fetches, parses, cleans and stores one source, as of `now`. A failure of any stage is
/// reported for this source only and recorded in its state.
#[allow(clippy::too_many_arguments)]
pub async fn ingest_source(
    source: &SourceConfig,
    cleaner: &Arc<Cleaner>,
    fetcher: &Fetcher,
    politeness: &Politeness,
    writer: &Writer,
    opts: IngestOptions,
    now: DateTime<Utc>,
) -> SourceReport {
    let started = Instant::now();
    let name = source.name.clone();
    let configured = source.url.to_string();
    let (prev, learned, queue) = {
        let (w, n) = (writer.clone(), name.clone());
        let loaded = tokio::task::spawn_blocking(move || {
            let store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let state = store.source_state(&n).ok().flatten();
            let blocks = store.learned_blocks(&n).unwrap_or_default();
            (state, blocks, Some(store.save_queue()))
        })
        .await
        .unwrap_or_default();
        let prev = loaded
            .0
            .filter(|st| st.url == configured)
            .unwrap_or_default();
        (prev, LearnedBlocks::from_stats(loaded.1), loaded.2)
    };
    let target = prev
        .fetch_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .unwrap_or_else(|| source.url.clone());
    let validators = Validators {
        etag: prev.etag.clone(),
        last_modified: prev.last_modified.clone(),
    };
    // The slot is held until the result is stored: it bounds how many fetched documents are
    // in memory at once when the single writer is the bottleneck.
    let permit = politeness.acquire(&target).await;
    let request = SourceRequest::new(&source.url, &source.access);
    let asking = attempt::Asking {
        target: &target,
        validators: &validators,
        request: &request,
        redactor: &source.redactor,
    };
    let attempted = attempt::attempt(fetcher, asking, cleaner.clone(), learned, opts, now).await;
    let (state, mut log, state_changed, moved_to) =
        state::next_state(&prev, &configured, source, &attempted, now, opts.backoff);
    log.duration_ms = started.elapsed().as_millis() as u64;

    let mut report = SourceReport {
        source: name.clone(),
        outcome: Outcome::NotModified,
        counts: IngestCounts::default(),
        entries_seen: 0,
        duration_ms: log.duration_ms,
        next_run_at: state.next_run_at.unwrap_or(now),
        moved_to,
        warnings: Vec::new(),
        filtered: 0,
    };
    if let Some(to) = &report.moved_to {
        let shown = |u: &str| {
            source
                .redactor
                .public_link(u)
                .unwrap_or_else(|| "a local file".into())
        };
        tracing::warn!(source = %name, from = %shown(target.as_str()), to = %shown(to), "source moved permanently; fetching from its new address");
    }
    let is_body = matches!(attempted, Attempted::Body { .. });
    let (mut entries, meta, learned, newly_learned) = match attempted {
        Attempted::Body {
            entries,
            meta,
            learned,
            newly_learned,
            skipped,
            ..
        } => {
            report.warnings = item_warnings(&skipped);
            (Some(entries), Some(meta), Some(learned), newly_learned)
        }
        Attempted::Failed { error, .. } => {
            report.outcome = Outcome::Error(error);
            (None, None, None, Vec::new())
        }
        Attempted::NotModified { .. } => (None, None, None, Vec::new()),
    };
    report.entries_seen = entries.as_ref().map_or(0, Vec::len);
    // The source's own keyword patterns: what they leave out is never stored.
    if let Some(list) = entries.as_mut()
        && !(source.include.is_empty() && source.exclude.is_empty())
    {
        let filter = crate::keywords::KeywordFilter::new(&source.include, &source.exclude);
        list.retain(|c| {
            let e = &c.entry;
            let body = e.content.as_deref().or(e.summary.as_deref()).unwrap_or("");
            filter.keeps(&e.title, body)
        });
        report.filtered = report.entries_seen - list.len();
    }
    let pages = match entries.as_mut() {
        Some(list) if source.full_text => {
            let learning = fulltext::Learning {
                after: opts.learn_after,
                window: opts.learn_window,
            };
            fulltext::enrich(fetcher, &request, writer, list, now, learning).await
        }
        _ => Vec::new(),
    };
    // Nothing secret of the source is stored, so nothing secret can be published.
    for e in entries.iter_mut().flatten() {
        attempt::scrub_entry(e, &source.redactor);
    }
    let (w, n, u) = (writer.clone(), name.clone(), configured.clone());
    let window = opts.learn_window;
    // Fingerprints are computed first, in parallel across sources, before the single writer
    // is taken: under the lock only the lookups and writes remain. With dedup off, only an
    // edited entry needs one (computed under the lock).
    let (entries, computed) = if opts.dedup.enabled && entries.is_some() {
        let engine = Dedup::new(opts.dedup);
        on_cpu(move || {
            // A panic leaves the fingerprints to the save, which reports it as an error.
            let fps = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let fps: Vec<(u64, Fingerprint)> = entries
                    .iter()
                    .flatten()
                    .map(|c| {
                        let fp = crate::dedup::fingerprint(&c.entry.title, &c.blocks);
                        engine.precompute(&fp);
                        (text_key(&c.entry), fp)
                    })
                    .collect();
                fps
            }));
            (entries, fps.unwrap_or_default())
        })
        .await
        .expect("fingerprinting catches its panics")
    } else {
        (entries, Vec::new())
    };
    let entries: Option<Vec<CleanEntry>> =
        entries.map(|list| list.into_iter().map(|c| c.entry).collect());
    let saved = tokio::task::spawn_blocking(move || {
        // Keyed by the entry's text, not its guid: a document may repeat a guid with other
        // text. Entries read back from the store are fingerprinted from their stored text.
        let fingerprints: std::collections::HashMap<u64, Fingerprint> =
            computed.into_iter().collect();
        let fingerprint = |e: &CleanEntry| {
            fingerprints
                .get(&text_key(e))
                .cloned()
                .unwrap_or_else(|| fingerprint_of(e))
        };
        // Announced before queueing for the writer, withdrawn once it is ours: the save
        // ahead of this one then keeps its transaction open for this one (`store::group`).
        let ticket = queue.as_ref().map(SaveQueue::enter);
        let mut store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(ticket);
        // A block learned just now leaves the source's stored entries too.
        let rewrites = if newly_learned.is_empty() {
            Vec::new()
        } else {
            let fresh: std::collections::HashSet<&str> =
                entries.iter().flatten().map(|e| e.guid.as_str()).collect();
            let stored = store
                .source_entries(&n, now.timestamp() - window)
                .unwrap_or_default();
            learned::strip_stored(stored, &fresh, &newly_learned)
        };
        let changed_blocks: Vec<BlockStats> = learned
            .as_ref()
            .map(|l| l.changed().into_iter().cloned().collect())
            .unwrap_or_default();
        let feed = meta.as_ref().zip(entries.as_deref());
        let engine = Dedup::new(opts.dedup);
        let dedup = DedupStep {
            engine: &engine,
            fingerprint: &fingerprint,
            paragraphs: &crate::clean::stored_blocks,
        };
        let save = FetchSave {
            state: &state,
            log,
            feed,
            state_changed,
            learned: &changed_blocks,
            rewrites: &rewrites,
            pages: &pages,
            dedup: &dedup,
        };
        store.save_fetch(&n, &u, &save)
    })
    .await;
    drop(permit);
    match saved {
        Ok(Ok(counts)) => {
            report.counts = counts;
            if is_body {
                report.outcome = if counts.new > 0 {
                    Outcome::New
                } else if counts.updated > 0 {
                    Outcome::Updated
                } else {
                    Outcome::Unchanged
                };
            }
        }
        Ok(Err(e)) => report.outcome = Outcome::Error(IngestError::Store(e.to_string())),
        Err(e) => {
            report.outcome =
                Outcome::Error(IngestError::Internal(format!("store task failed: {e}")))
        }
    }
    report
}

/// Runs CPU-bound work (parsing, cleaning, fingerprinting, article extraction) on the
/// blocking pool, at most one task per core at a time.
///
/// Why: sources are fetched 32 at a time for the network's sake, and 32 runnable parse
/// threads left the HTTP server one thirty-fourth of the machine: during a large ingest,
/// feed requests waited hundreds of milliseconds for a core. With as many CPU tasks as
/// cores, the server's threads compete with a handful of threads instead.
pub(crate) async fn on_cpu<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    static CPU: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let cores = || std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let permit = CPU
        .get_or_init(|| tokio::sync::Semaphore::new(cores()))
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let done = tokio::task::spawn_blocking(f).await;
    drop(permit);
    done
}

/// The dedup fingerprint of an entry read back from the store: its title and the text
/// blocks of its (already clean) body.
///
/// Why here: it joins two stages (cleaning's block splitter, dedup's fingerprint), and
/// ingest is where stages meet.
pub fn fingerprint_of(e: &CleanEntry) -> Fingerprint {
    crate::dedup::fingerprint(&e.title, &crate::clean::stored_blocks(e))
}

/// A key for an entry's text (title, body and guid): equal keys, equal fingerprints.
fn text_key(e: &CleanEntry) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [
        Some(e.guid.as_str()),
        Some(e.title.as_str()),
        e.content.as_deref(),
        e.summary.as_deref(),
    ] {
        h.update(part.unwrap_or("\u{0}").as_bytes());
        h.update(b"\xff");
    }
    h.digest()
}
