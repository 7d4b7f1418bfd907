//! The steps of [`super::ingest_source`] between the attempt and the report, one function
//! each, so that the pipeline reads as the sequence it is.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use url::Url;

use super::{Attempted, Writer, fingerprint_of, fulltext, on_cpu, text_key};
use crate::clean::Cleaned;
use crate::clean::clutter::learned::{self, LearnedBlocks};
use crate::config::SourceConfig;
use crate::dedup::{Dedup, DedupConfig, Fingerprint};
use crate::fetch::{Fetcher, SourceRequest, Validators};
use crate::model::SourceState;
use crate::model::{
    BlockStats, CleanEntry, FeedMeta, IngestCounts, IngestError, Outcome, SkippedItem, SourceReport,
};
use crate::redact::Redactor;
use crate::store::{DedupStep, FetchLog, FetchSave, SaveQueue, StoreError};

/// Malformed items reported one by one at most; beyond, they are counted.
const ITEM_WARNINGS: usize = 20;

/// What the store knows of a source before it is fetched.
pub(super) struct Known {
    /// Its state (validators, schedule, errors), unless its address was changed in the config.
    pub(super) prev: SourceState,
    /// Its learned blocks.
    pub(super) learned: LearnedBlocks,
    /// The writer's queue, for the group commit (`store::group`).
    pub(super) queue: Option<SaveQueue>,
}

impl Known {
    /// Reads it on the blocking pool; a store that cannot be read is a first fetch.
    pub(super) async fn load(writer: &Writer, source: &SourceConfig) -> Known {
        let (w, n) = (writer.clone(), source.name.clone());
        let (state, blocks, queue) = tokio::task::spawn_blocking(move || {
            let store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let state = store.source_state(&n).ok().flatten();
            let blocks = store.learned_blocks(&n).unwrap_or_default();
            (state, blocks, Some(store.save_queue()))
        })
        .await
        .unwrap_or_default();
        let configured = source.url.to_string();
        Known {
            prev: state.filter(|st| st.url == configured).unwrap_or_default(),
            learned: LearnedBlocks::from_stats(blocks),
            queue,
        }
    }

    /// Where to fetch: where the source permanently moved to, else its configured address.
    pub(super) fn target(&self, source: &SourceConfig) -> Url {
        self.prev
            .fetch_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| source.url.clone())
    }

    /// The validators of the last successful fetch, for a conditional GET.
    pub(super) fn validators(&self) -> Validators {
        Validators {
            etag: self.prev.etag.clone(),
            last_modified: self.prev.last_modified.clone(),
        }
    }
}

/// The report of an attempt, before its entries are counted; a permanent move is logged.
pub(super) fn report(
    source: &SourceConfig,
    target: &Url,
    state: &SourceState,
    log: &FetchLog,
    moved_to: Option<String>,
    now: DateTime<Utc>,
) -> SourceReport {
    if let Some(to) = &moved_to {
        let shown = |u: &str| {
            source
                .redactor
                .public_link(u)
                .unwrap_or_else(|| "a local file".into())
        };
        tracing::warn!(source = %source.name, from = %shown(target.as_str()), to = %shown(to), "source moved permanently; fetching from its new address");
    }
    SourceReport {
        source: source.name.clone(),
        outcome: Outcome::NotModified,
        counts: IngestCounts::default(),
        entries_seen: 0,
        duration_ms: log.duration_ms,
        next_run_at: state.next_run_at.unwrap_or(now),
        moved_to,
        warnings: Vec::new(),
        filtered: 0,
    }
}

/// The document an attempt read, if it read one, on its way to the store.
pub(super) struct Document {
    /// Whether a body was read (a 304 or a failure reads none).
    is_body: bool,
    entries: Option<Vec<Cleaned>>,
    meta: Option<FeedMeta>,
    /// The source's learned blocks after this document.
    learned: Option<LearnedBlocks>,
    /// Blocks that became boilerplate with this document.
    newly_learned: Vec<u64>,
}

impl Document {
    /// Takes the attempt's document; a failure becomes the report's outcome.
    pub(super) fn from_attempt(attempted: Attempted, report: &mut SourceReport) -> Document {
        let mut doc = Document {
            is_body: false,
            entries: None,
            meta: None,
            learned: None,
            newly_learned: Vec::new(),
        };
        match attempted {
            Attempted::Body {
                entries,
                meta,
                learned,
                newly_learned,
                skipped,
                ..
            } => {
                report.warnings = item_warnings(&skipped);
                report.entries_seen = entries.len();
                doc = Document {
                    is_body: true,
                    entries: Some(entries),
                    meta: Some(meta),
                    learned: Some(learned),
                    newly_learned,
                };
            }
            Attempted::Failed { error, .. } => report.outcome = Outcome::Error(error),
            Attempted::NotModified { .. } => {}
        }
        doc
    }

    /// Applies the source's own `include`/`exclude` patterns: what they leave out is never
    /// stored. Returns how many entries they left out.
    pub(super) fn keep_wanted(&mut self, source: &SourceConfig) -> usize {
        let Some(list) = self.entries.as_mut() else {
            return 0;
        };
        if source.include.is_empty() && source.exclude.is_empty() {
            return 0;
        }
        let before = list.len();
        let filter = crate::keywords::KeywordFilter::new(&source.include, &source.exclude);
        list.retain(|c| {
            let e = &c.entry;
            let body = e.content.as_deref().or(e.summary.as_deref()).unwrap_or("");
            filter.keeps(&e.title, body)
        });
        before - list.len()
    }

    /// For a `full_text` source, fetches and extracts each new entry's article page.
    pub(super) async fn full_text(
        &mut self,
        source: &SourceConfig,
        fetcher: &Fetcher,
        request: &SourceRequest,
        writer: &Writer,
        opts: super::IngestOptions,
        now: DateTime<Utc>,
    ) -> Vec<crate::model::Page> {
        match self.entries.as_mut() {
            Some(list) if source.full_text => {
                let learning = fulltext::Learning {
                    after: opts.learn_after,
                    window: opts.learn_window,
                };
                fulltext::enrich(fetcher, request, writer, list, now, learning).await
            }
            _ => Vec::new(),
        }
    }

    /// Nothing secret of the source is stored, so nothing secret can be published.
    pub(super) fn scrub(&mut self, redactor: &Redactor) {
        for e in self.entries.iter_mut().flatten() {
            super::attempt::scrub_entry(e, redactor);
        }
    }

    /// The entries' dedup fingerprints, keyed by their text, computed in parallel across
    /// sources before the single writer is taken: under the lock only the lookups and
    /// writes remain. With dedup off, none (an edited entry gets one under the lock).
    pub(super) async fn fingerprints(&mut self, dedup: DedupConfig) -> Vec<(u64, Fingerprint)> {
        if !dedup.enabled || self.entries.is_none() {
            return Vec::new();
        }
        let entries = self.entries.take();
        let engine = Dedup::new(dedup);
        let (entries, fps) = on_cpu(move || {
            // A panic leaves the fingerprints to the save, which reports it as an error.
            let fps = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                entries
                    .iter()
                    .flatten()
                    .map(|c| {
                        let fp = crate::dedup::fingerprint(&c.entry.title, &c.blocks);
                        engine.precompute(&fp);
                        (text_key(&c.entry), fp)
                    })
                    .collect::<Vec<_>>()
            }));
            (entries, fps.unwrap_or_default())
        })
        .await
        .expect("fingerprinting catches its panics");
        self.entries = entries;
        fps
    }
}

/// Everything one save writes besides the document.
pub(super) struct Save {
    pub(super) state: SourceState,
    pub(super) log: FetchLog,
    pub(super) state_changed: bool,
    pub(super) pages: Vec<crate::model::Page>,
    pub(super) queue: Option<SaveQueue>,
    pub(super) learn_window: i64,
    pub(super) dedup: DedupConfig,
}

/// What a save came to: its counts and whether a body was read, or why it failed.
pub(super) struct Saved {
    is_body: bool,
    result: Result<Result<IngestCounts, StoreError>, tokio::task::JoinError>,
}

impl Save {
    /// Stores the document and the source's state in one transaction on the single writer.
    /// A block learned just now leaves the source's stored entries in the same save.
    pub(super) async fn run(
        self,
        writer: &Writer,
        source: &SourceConfig,
        doc: Document,
        fingerprints: Vec<(u64, Fingerprint)>,
        now: DateTime<Utc>,
    ) -> Saved {
        let (w, n, u) = (writer.clone(), source.name.clone(), source.url.to_string());
        let is_body = doc.is_body;
        let result = tokio::task::spawn_blocking(move || {
            let entries: Option<Vec<CleanEntry>> = doc
                .entries
                .map(|list| list.into_iter().map(|c| c.entry).collect());
            // Keyed by the entry's text, not its guid: a document may repeat a guid with
            // other text. Entries read back from the store are fingerprinted from their
            // stored text.
            let fingerprints: HashMap<u64, Fingerprint> = fingerprints.into_iter().collect();
            let fingerprint = |e: &CleanEntry| {
                fingerprints
                    .get(&text_key(e))
                    .cloned()
                    .unwrap_or_else(|| fingerprint_of(e))
            };
            // Announced before queueing for the writer, withdrawn once it is ours: the save
            // ahead of this one then keeps its transaction open for this one.
            let ticket = self.queue.as_ref().map(SaveQueue::enter);
            let mut store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            drop(ticket);
            let rewrites = if doc.newly_learned.is_empty() {
                Vec::new()
            } else {
                let fresh: HashSet<&str> =
                    entries.iter().flatten().map(|e| e.guid.as_str()).collect();
                let stored = store
                    .source_entries(&n, now.timestamp() - self.learn_window)
                    .unwrap_or_default();
                learned::strip_stored(stored, &fresh, &doc.newly_learned)
            };
            let changed_blocks: Vec<BlockStats> = doc
                .learned
                .as_ref()
                .map(|l| l.changed().into_iter().cloned().collect())
                .unwrap_or_default();
            let engine = Dedup::new(self.dedup);
            let dedup = DedupStep {
                engine: &engine,
                fingerprint: &fingerprint,
                paragraphs: &crate::clean::stored_blocks,
            };
            let save = FetchSave {
                state: &self.state,
                log: self.log,
                feed: doc.meta.as_ref().zip(entries.as_deref()),
                state_changed: self.state_changed,
                learned: &changed_blocks,
                rewrites: &rewrites,
                pages: &self.pages,
                dedup: &dedup,
            };
            store.save_fetch(&n, &u, &save)
        })
        .await;
        Saved { is_body, result }
    }
}

/// The report's outcome and counts from the save.
pub(super) fn finish(report: &mut SourceReport, saved: Saved) {
    match saved.result {
        Ok(Ok(counts)) => {
            report.counts = counts;
            if saved.is_body {
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
}

/// One warning per malformed item (the first [`ITEM_WARNINGS`]), then a count of the rest.
fn item_warnings(skipped: &[SkippedItem]) -> Vec<String> {
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
