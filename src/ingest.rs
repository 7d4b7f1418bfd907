//! One source, end to end: fetch → parse → clean → store.
//!
//! This is the pipeline for a single source, shared by the daemon's scheduler and the
//! `wirefeed fetch` command. CPU-heavy steps (parsing, cleaning) and SQLite calls run on
//! tokio's blocking pool so a 100,000-entry feed never stalls the HTTP server or other fetches.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::clean::clean_entry;
use crate::config::SourceConfig;
use crate::fetch::{Fetched, Fetcher, Validators};
use crate::model::IngestCounts;
use crate::parse::{ParseLimits, parse_feed};
use crate::store::{FetchRecord, Store};

/// The single writer connection, shared by every ingest task. A std mutex is right here:
/// it is only ever held inside `spawn_blocking`, never across an `.await`.
pub type Writer = Arc<Mutex<Store>>;

/// What happened to one source in one pass; printed by `wirefeed fetch`, logged by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    New,
    Updated,
    Unchanged,
    NotModified,
    Error(String),
}

impl Outcome {
    /// The word stored in the fetch log and shown to users.
    pub fn label(&self) -> &str {
        match self {
            Outcome::New => "new",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::NotModified => "not-modified",
            Outcome::Error(_) => "error",
        }
    }
}

/// The result of ingesting one source once.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub source: String,
    pub outcome: Outcome,
    pub counts: IngestCounts,
    /// Entries the feed carried (after the entry cap).
    pub entries_seen: usize,
    pub duration_ms: u64,
    pub next_run_at: DateTime<Utc>,
}

impl std::fmt::Display for SourceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = match &self.outcome {
            Outcome::Error(e) => format!("error: {e}"),
            o => o.label().to_string(),
        };
        write!(
            f,
            "{}\t{}\tnew={} updated={} unchanged={}\t{}ms",
            self.source,
            outcome,
            self.counts.new,
            self.counts.updated,
            self.counts.unchanged,
            self.duration_ms
        )
    }
}

/// Fetches, parses, cleans and stores one source, recording the attempt in the store whatever
/// happens. A failure of any stage is reported for this source only.
pub async fn ingest_source(
    source: &SourceConfig,
    fetcher: &Fetcher,
    writer: &Writer,
    limits: ParseLimits,
) -> SourceReport {
    let started = Instant::now();
    let started_at = Utc::now();
    let name = source.name.clone();
    let url = source.url.to_string();
    let next_run_at = crate::schedule::next_run(&source.schedule, &name, Utc::now());

    let state = {
        let (w, n) = (writer.clone(), name.clone());
        tokio::task::spawn_blocking(move || w.lock().expect("writer lock").source_state(&n))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_default()
    };
    let validators = Validators {
        etag: state.etag,
        last_modified: state.last_modified,
    };
    let mut rec = FetchRecord {
        started_at,
        next_run_at: Some(next_run_at),
        ..Default::default()
    };
    let mut report = SourceReport {
        source: name.clone(),
        outcome: Outcome::Unchanged,
        counts: IngestCounts::default(),
        entries_seen: 0,
        duration_ms: 0,
        next_run_at,
    };

    let result: Result<Option<(IngestCounts, usize)>, String> = async {
        match fetcher.fetch(&source.url, &validators).await {
            Err(e) => Err(e.to_string()),
            Ok(Fetched::NotModified { validators }) => {
                rec.etag = validators.etag;
                rec.last_modified = validators.last_modified;
                rec.http_status = Some(304);
                Ok(None)
            }
            Ok(Fetched::Body(body)) => {
                rec.http_status = Some(body.status);
                rec.bytes = Some(body.bytes.len() as u64);
                rec.etag = body.validators.etag.clone();
                rec.last_modified = body.validators.last_modified.clone();
                let (w, n, u, r) = (writer.clone(), name.clone(), url.clone(), rec.clone());
                let final_url = body.final_url.clone();
                tokio::task::spawn_blocking(move || {
                    let parsed = parse_feed(
                        &body.bytes,
                        body.charset.as_deref(),
                        Some(final_url.as_str()),
                        limits,
                    )
                    .map_err(|e| e.to_string())?;
                    let clean: Vec<_> = parsed
                        .entries
                        .iter()
                        .map(|e| clean_entry(e, &final_url))
                        .collect();
                    let seen = clean.len();
                    let mut store = w.lock().expect("writer lock");
                    let counts = store
                        .ingest(&n, &u, &parsed.meta, &clean, &r)
                        .map_err(|e| e.to_string())?;
                    Ok(Some((counts, seen)))
                })
                .await
                .map_err(|e| format!("ingest task failed: {e}"))?
            }
        }
    }
    .await;

    rec.duration_ms = started.elapsed().as_millis() as u64;
    report.duration_ms = rec.duration_ms;
    match result {
        Ok(Some((counts, seen))) => {
            report.counts = counts;
            report.entries_seen = seen;
            report.outcome = if counts.new > 0 {
                Outcome::New
            } else if counts.updated > 0 {
                Outcome::Updated
            } else {
                Outcome::Unchanged
            };
        }
        Ok(None) => {
            report.outcome = Outcome::NotModified;
            rec.outcome = "not-modified".into();
            record(writer, &name, &url, rec).await;
        }
        Err(e) => {
            report.outcome = Outcome::Error(e.clone());
            rec.outcome = "error".into();
            rec.error = Some(e);
            rec.etag = None;
            rec.last_modified = None;
            record(writer, &name, &url, rec).await;
        }
    }
    report
}

async fn record(writer: &Writer, name: &str, url: &str, rec: FetchRecord) {
    let (w, n, u) = (writer.clone(), name.to_string(), url.to_string());
    let res = tokio::task::spawn_blocking(move || {
        w.lock().expect("writer lock").record_fetch(&n, &u, &rec)
    })
    .await;
    match res {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(source = name, error = %e, "cannot record fetch"),
        Err(e) => tracing::error!(source = name, error = %e, "record task failed"),
    }
}
