//! Running ingests with limits: a global cap on simultaneous fetches and a per-host cap.
//!
//! Both the daemon and `wirefeed fetch` go through here, so a one-off pass is exactly as
//! polite as the daemon. Semaphores (rather than a fixed worker pool) let one slow source
//! hold one permit while every other source keeps going.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{Config, SourceConfig};
use crate::fetch::{FetchError, FetchSettings, Fetcher};
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::ingest::{IngestOptions, Outcome, SourceReport, Writer, ingest_source};
use crate::parse::ParseLimits;
use crate::schedule::{Backoff, Clock, SystemClock};

/// Shared machinery for ingesting sources.
#[derive(Clone)]
pub struct Runner {
    fetcher: Fetcher,
    writer: Writer,
    global: Arc<Semaphore>,
    per_host_limit: usize,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    options: IngestOptions,
    clock: Arc<dyn Clock>,
}

impl Runner {
    /// Builds the fetcher and limits from the config.
    pub fn new(config: &Config, writer: Writer) -> Result<Runner, FetchError> {
        Ok(Runner {
            fetcher: Fetcher::new(FetchSettings::from_config(config))?,
            writer,
            global: Arc::new(Semaphore::new(config.fetch.concurrency)),
            per_host_limit: config.fetch.per_host,
            hosts: Arc::new(Mutex::new(HashMap::new())),
            options: IngestOptions {
                limits: ParseLimits {
                    max_entries: config.fetch.max_entries,
                    max_field: config.fetch.max_field,
                },
                backoff: Backoff {
                    max: config.fetch.max_backoff,
                    ..Backoff::default()
                },
            },
            clock: Arc::new(SystemClock),
        })
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

    fn host_semaphore(&self, source: &SourceConfig) -> Arc<Semaphore> {
        let host = source.url.host_str().unwrap_or("").to_ascii_lowercase();
        self.hosts
            .lock()
            .expect("hosts lock")
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_limit)))
            .clone()
    }

    /// Ingests one source once, waiting for a global and a per-host permit first.
    pub async fn run_source(&self, source: &SourceConfig) -> SourceReport {
        let host = self.host_semaphore(source);
        let _h = host.acquire_owned().await.expect("semaphore never closed");
        let _g = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let now = self.clock.now();
        let ingest = ingest_source(source, &self.fetcher, &self.writer, self.options, now);
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
                    outcome: Outcome::Error(format!("internal error: {msg}")),
                    counts: Default::default(),
                    entries_seen: 0,
                    duration_ms: 0,
                    next_run_at: now + chrono::Duration::seconds(60),
                    moved_to: None,
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
        let mut set = JoinSet::new();
        for (i, s) in sources.iter().cloned().enumerate() {
            let me = self.clone();
            set.spawn(async move { (i, me.run_source(&s).await) });
        }
        let mut out: Vec<Option<SourceReport>> = vec![None; sources.len()];
        while let Some(r) = set.join_next().await {
            match r {
                Ok((i, rep)) => {
                    on_done(&rep);
                    out[i] = Some(rep);
                }
                Err(e) => tracing::error!(error = %e, "ingest task panicked"),
            }
        }
        out.into_iter().flatten().collect()
    }
}
