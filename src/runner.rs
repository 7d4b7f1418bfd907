//! Running ingests with limits: a global cap on simultaneous fetches and a per-host cap
//! ([`Politeness`]), a clock, and panic isolation.
//!
//! Both the daemon and `wirefeed fetch` go through here, so a one-off pass is exactly as
//! polite as the daemon.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::task::JoinSet;

use crate::clean::Cleaner;
use crate::config::{Config, SourceConfig};
use crate::fetch::politeness::Politeness;
use crate::fetch::{FetchError, Fetcher};
use crate::ingest::{IngestOptions, Outcome, SourceReport, Writer, ingest_source};
use crate::parse::ParseLimits;
use crate::schedule::{Backoff, Clock, SystemClock};

/// Learned-block candidates kept per source (most recently seen): a source's clutter repeats
/// in nearly every entry and reaches the threshold long before this many other blocks pass
/// (500 is 50 entries of ten blocks). Each candidate keeps its text, ~200 bytes: 500 per source
/// is ~100 KB, where the soak's 1,000 sources had reached 219 MB in an hour.
const LEARNED_CANDIDATES_PER_SOURCE: usize = 500;

/// Fetch-log rows kept per source: the status page and debugging need the recent ones.
const FETCH_LOG_PER_SOURCE: usize = 200;

/// Shared machinery for ingesting sources.
#[derive(Clone)]
pub struct Runner {
    fetcher: Fetcher,
    writer: Writer,
    politeness: Politeness,
    options: IngestOptions,
    /// What retention keeps (`[storage] keep`, `max_per_source`).
    keep: Option<std::time::Duration>,
    max_per_source: Option<usize>,
    /// Passive WAL checkpoints on their own thread while this runner (or a clone) lives.
    _checkpointer: Arc<crate::store::Checkpointer>,
    /// Each source's compiled cleaning rules.
    cleaners: Arc<HashMap<String, Arc<Cleaner>>>,
    clock: Arc<dyn Clock>,
}

impl Runner {
    /// Builds the fetcher and limits from the config.
    pub fn new(config: &Config, writer: Writer) -> Result<Runner, FetchError> {
        let db = writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .path()
            .to_path_buf();
        Ok(Runner {
            _checkpointer: Arc::new(crate::store::Checkpointer::start(
                &db,
                std::time::Duration::from_secs(1),
            )),
            fetcher: Fetcher::new(config.fetch.settings())?,
            writer,
            politeness: Politeness::new(config.fetch.concurrency, config.fetch.per_host),
            keep: config.storage.keep,
            max_per_source: config.storage.max_per_source,
            options: IngestOptions {
                limits: ParseLimits {
                    max_entries: config.fetch.max_entries,
                    max_field: config.fetch.max_field,
                },
                backoff: Backoff {
                    max: config.fetch.max_backoff,
                    ..Backoff::default()
                },
                learn_after: u32::try_from(config.clean.learn_after).unwrap_or(u32::MAX),
                learn_window: config.clean.learn_window.as_secs() as i64,
                dedup: dedup_config(&config.dedup),
            },
            cleaners: Arc::new(
                config
                    .sources
                    .iter()
                    .map(|s| {
                        (
                            s.name.clone(),
                            Arc::new(Cleaner::new(&clutter_settings(&s.rules, &config.clean))),
                        )
                    })
                    .collect(),
            ),
            clock: Arc::new(SystemClock),
        })
    }

    /// A runner for a reloaded config that keeps this one's in-flight limits when they did
    /// not change, so requests still running under the old runner keep counting.
    pub fn reloaded(&self, config: &Config) -> Result<Runner, FetchError> {
        let mut next = Runner::new(config, self.writer.clone())?;
        if self
            .politeness
            .matches(config.fetch.concurrency, config.fetch.per_host)
        {
            next.politeness = self.politeness.clone();
        }
        next.clock = self.clock.clone();
        Ok(next)
    }

    /// The same runner reading time from `clock` (tests drive backoff with a manual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Runner {
        self.clock = clock;
        self
    }

    /// The single writer connection.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Periodic store upkeep: drops dedup fingerprints and index postings that left the
    /// merge window (with a day's margin), in small batches so ingest never waits long, then
    /// applies retention and lets SQLite refresh its statistics. Returns how many entries
    /// retention removed (published feeds must be re-rendered when it did).
    pub async fn upkeep(&self) -> usize {
        let engine = crate::dedup::Dedup::new(self.options.dedup);
        let before = self.clock.now().timestamp() - self.options.dedup.window_secs - 86_400;
        let mut total = 0;
        for _ in 0..50 {
            let w = self.writer.clone();
            let done = tokio::task::spawn_blocking(move || {
                w.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .expire_fingerprints(&engine, before, 500)
            })
            .await;
            match done {
                Ok(Ok(n)) => {
                    total += n;
                    if n < 500 {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "dedup upkeep failed");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "dedup upkeep task failed");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(
                entries = total,
                "expired dedup fingerprints outside the window"
            );
        }
        let pruned = self.prune().await;
        let trim = crate::store::Trim {
            learned_before: self.clock.now().timestamp() - self.options.learn_window,
            learned_cap: LEARNED_CANDIDATES_PER_SOURCE,
            learned_threshold: self.options.learn_after,
            log_cap: FETCH_LOG_PER_SOURCE,
            archives: self.keep.is_some() || self.max_per_source.is_some(),
        };
        let w = self.writer.clone();
        let trimmed = tokio::task::spawn_blocking(move || {
            w.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .trim(&trim)
        })
        .await;
        match trimmed {
            Ok(Ok(n)) if n > 0 => {
                tracing::info!(rows = n, "trimmed block statistics, fetch log and archives")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "trimming failed"),
            _ => {}
        }
        let w = self.writer.clone();
        let optimized = tokio::task::spawn_blocking(move || {
            w.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .optimize()
        })
        .await;
        if let Ok(Err(e)) = optimized {
            tracing::warn!(error = %e, "PRAGMA optimize failed");
        }
        pruned
    }

    /// Applies the retention rules in batches of 500 (each its own short transaction), at
    /// most 100 batches per call; returns how many entries were removed.
    pub async fn prune(&self) -> usize {
        if self.keep.is_none() && self.max_per_source.is_none() {
            return 0;
        }
        let now = self.clock.now().timestamp();
        let rules = crate::store::Retention {
            older_than: self.keep.map(|k| now - k.as_secs() as i64),
            max_per_source: self.max_per_source,
            // A tombstone outlives its entry by four times the retention, at least 90 days.
            forget_before: Some(
                now - self
                    .keep
                    .map_or(90 * 86_400, |k| (k.as_secs() as i64 * 4).max(90 * 86_400)),
            ),
        };
        let engine = crate::dedup::Dedup::new(self.options.dedup);
        let (mut entries, mut stories) = (0, 0);
        for _ in 0..100 {
            let w = self.writer.clone();
            let done = tokio::task::spawn_blocking(move || {
                w.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .prune(&rules, 500, &engine)
            })
            .await;
            match done {
                Ok(Ok(p)) => {
                    entries += p.entries;
                    stories += p.stories;
                    if p.entries < 500 && p.other < 500 {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "retention failed");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "retention task failed");
                    break;
                }
            }
        }
        if entries > 0 {
            tracing::info!(entries, stories, "retention removed old entries");
        }
        entries
    }

    /// Ingests one source once (waiting for a global and a per-host slot to fetch).
    pub async fn run_source(&self, source: &SourceConfig) -> SourceReport {
        let now = self.clock.now();
        let cleaner = self
            .cleaners
            .get(&source.name)
            .cloned()
            .unwrap_or_else(|| Arc::new(Cleaner::default()));
        let ingest = ingest_source(
            source,
            &cleaner,
            &self.fetcher,
            &self.politeness,
            &self.writer,
            self.options,
            now,
        );
        // A bug triggered by one publisher's content must cost that source one attempt, not
        // the daemon's scheduling of it: a panic becomes this source's error, retried later.
        match AssertUnwindSafe(ingest).catch_unwind().await {
            Ok(report) => report,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown".into());
                tracing::error!(source = %source.name, panic = %msg, "ingest panicked");
                SourceReport {
                    source: source.name.clone(),
                    outcome: Outcome::Error(crate::model::IngestError::Internal(format!(
                        "internal error: {msg}"
                    ))),
                    counts: Default::default(),
                    entries_seen: 0,
                    duration_ms: 0,
                    next_run_at: now + chrono::Duration::seconds(60),
                    moved_to: None,
                    warnings: Vec::new(),
                    filtered: 0,
                }
            }
        }
    }

    /// Ingests the given sources concurrently; reports come back in the sources' order.
    pub async fn run_all(&self, sources: &[SourceConfig]) -> Vec<SourceReport> {
        self.run_all_with(sources, |_| {}).await
    }

    /// Like [`Runner::run_all`], calling `on_done` as each source finishes (for progress).
    pub async fn run_all_with(
        &self,
        sources: &[SourceConfig],
        mut on_done: impl FnMut(&SourceReport),
    ) -> Vec<SourceReport> {
        // Tasks are started a few at a time beyond the concurrency limit rather than all at
        // once: 10,000 parked ingest futures would cost memory for nothing.
        let window = self.politeness.concurrency() * 4;
        let mut set = JoinSet::new();
        let mut pending = sources.iter().cloned().enumerate();
        let mut out: Vec<Option<SourceReport>> = vec![None; sources.len()];
        loop {
            while set.len() < window {
                let Some((i, s)) = pending.next() else { break };
                let me = self.clone();
                set.spawn(async move { (i, me.run_source(&s).await) });
            }
            match set.join_next().await {
                None => break,
                Some(Ok((i, rep))) => {
                    on_done(&rep);
                    out[i] = Some(rep);
                }
                Some(Err(e)) => tracing::error!(error = %e, "ingest task failed"),
            }
        }
        out.into_iter().flatten().collect()
    }
}

/// The dedup engine's settings from the config's `[dedup]` section.
/// The clean stage's settings for one source: its own rules and the global patterns.
pub fn clutter_settings(
    rules: &crate::config::SourceRules,
    clean: &crate::config::CleanConfig,
) -> crate::clean::ClutterSettings {
    crate::clean::ClutterSettings {
        remove: rules.remove.clone(),
        keep: rules.keep.clone(),
        drop: rules.drop.iter().chain(&clean.drop).cloned().collect(),
        never: clean.keep.clone(),
    }
}

pub fn dedup_config(d: &crate::config::DedupSettings) -> crate::dedup::DedupConfig {
    let mut c = crate::dedup::DedupConfig {
        enabled: d.enabled,
        window_secs: d.window.as_secs() as i64,
        ..Default::default()
    };
    c.verify.min_containment = d.min_containment;
    c.verify.min_shared = d.min_shared;
    c
}
