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
mod steps;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

use crate::clean::Cleaner;
use crate::clean::clutter::learned::LearnedBlocks;
use crate::config::SourceConfig;
use crate::dedup::{DedupConfig, Fingerprint};
use crate::fetch::politeness::Politeness;
use crate::fetch::{Fetcher, SourceRequest, Validators};
use crate::model::CleanEntry;
pub use crate::model::{IngestError, Outcome, SourceReport};
use crate::parse::ParseLimits;
use crate::schedule::Backoff;
use crate::store::Store;

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
///
/// The sequence, one step each (the steps are in [`steps`]): what the store knows of the
/// source → fetch, parse and clean ([`attempt`]) → the source's next state ([`state`]) →
/// its include/exclude patterns → full text → secrets scrubbed → dedup fingerprints, off the
/// writer's lock → one save → the report.
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
    let known = steps::Known::load(writer, source).await;
    let target = known.target(source);
    // The slot is held until the result is stored: it bounds how many fetched documents are
    // in memory at once when the single writer is the bottleneck.
    let permit = politeness.acquire(&target).await;
    let request = SourceRequest::new(&source.url, &source.access);
    let asking = attempt::Asking {
        target: &target,
        validators: &known.validators(),
        request: &request,
        redactor: &source.redactor,
    };
    let attempted =
        attempt::attempt(fetcher, asking, cleaner.clone(), known.learned, opts, now).await;
    let configured = source.url.to_string();
    let (state, mut log, state_changed, moved_to) = state::next_state(
        &known.prev,
        &configured,
        source,
        &attempted,
        now,
        opts.backoff,
    );
    log.duration_ms = started.elapsed().as_millis() as u64;
    let mut report = steps::report(source, &target, &state, &log, moved_to, now);
    let mut doc = steps::Document::from_attempt(attempted, &mut report);
    report.filtered = doc.keep_wanted(source);
    let pages = doc
        .full_text(source, fetcher, &request, writer, opts, now)
        .await;
    doc.scrub(&source.redactor);
    let fingerprints = doc.fingerprints(opts.dedup).await;
    let save = steps::Save {
        state,
        log,
        state_changed,
        pages,
        queue: known.queue,
        learn_window: opts.learn_window,
        dedup: opts.dedup,
    };
    let saved = save.run(writer, source, doc, fingerprints, now).await;
    drop(permit);
    steps::finish(&mut report, saved);
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
