//! One source, end to end: fetch → parse → clean → store, and what to do next time.
//!
//! This is the pipeline for a single source, shared by the daemon's scheduler and the
//! `wirefeed fetch` command. CPU-heavy steps (parsing, cleaning) and SQLite calls run on
//! tokio's blocking pool so a 100,000-entry feed never stalls the HTTP server or other fetches.
//! The source's state (validators, errors, next run, permanent moves) is computed here from
//! the previous state and the attempt, and written only when it changed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

use crate::clean::clean_entry;
use crate::config::SourceConfig;
use crate::fetch::politeness::Politeness;
use crate::fetch::{FetchError, Fetched, Fetcher, Validators, caching};
use crate::model::{IngestCounts, SourceState};
use crate::parse::{ParseLimits, parse_feed};
use crate::schedule::{Attempt, Backoff, plan_next};
use crate::store::{FetchLog, FetchSave, Store};

/// The single writer connection, shared by every ingest task. A std mutex is right here:
/// it is only ever held inside `spawn_blocking`, never across an `.await`.
pub type Writer = Arc<Mutex<Store>>;

/// How many fetches in a row must end at the same address through permanent redirects
/// before the source's stored address is changed (one could be a misconfiguration).
pub const PERMANENT_MOVE_AFTER: u32 = 3;

/// Limits and policies for one ingest.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    pub limits: ParseLimits,
    pub backoff: Backoff,
}

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
    /// Set when this fetch confirmed a permanent move: the new address.
    pub moved_to: Option<String>,
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

/// What one attempt produced, before it is stored.
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
        entries: Vec<crate::model::CleanEntry>,
    },
    Failed {
        error: String,
        status: Option<u16>,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Fetches, parses, cleans and stores one source, as of `now`. A failure of any stage is
/// reported for this source only and recorded in its state.
pub async fn ingest_source(
    source: &SourceConfig,
    fetcher: &Fetcher,
    politeness: &Politeness,
    writer: &Writer,
    opts: IngestOptions,
    now: DateTime<Utc>,
) -> SourceReport {
    let started = Instant::now();
    let name = source.name.clone();
    let configured = source.url.to_string();
    let prev = {
        let (w, n) = (writer.clone(), name.clone());
        tokio::task::spawn_blocking(move || {
            w.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .source_state(&n)
        })
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
        .filter(|st| st.url == configured)
        .unwrap_or_default()
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
    let attempted = attempt(fetcher, &target, &validators, opts.limits, now).await;
    let (state, mut log, state_changed, moved_to) =
        next_state(&prev, &configured, source, &attempted, now, opts.backoff);
    log.duration_ms = started.elapsed().as_millis() as u64;

    let mut report = SourceReport {
        source: name.clone(),
        outcome: Outcome::NotModified,
        counts: IngestCounts::default(),
        entries_seen: 0,
        duration_ms: log.duration_ms,
        next_run_at: state.next_run_at.unwrap_or(now),
        moved_to,
    };
    if let Some(to) = &report.moved_to {
        tracing::warn!(source = %name, from = %target, to = %to, "source moved permanently; fetching from its new address");
    }
    let is_body = matches!(attempted, Attempted::Body { .. });
    let (entries, meta) = match attempted {
        Attempted::Body { entries, meta, .. } => (Some(entries), Some(meta)),
        Attempted::Failed { error, .. } => {
            report.outcome = Outcome::Error(error);
            (None, None)
        }
        Attempted::NotModified { .. } => (None, None),
    };
    report.entries_seen = entries.as_ref().map_or(0, Vec::len);
    let (w, n, u) = (writer.clone(), name.clone(), configured.clone());
    let saved = tokio::task::spawn_blocking(move || {
        let feed = meta.as_ref().zip(entries.as_deref());
        let save = FetchSave {
            state: &state,
            log,
            feed,
            state_changed,
        };
        w.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .save_fetch(&n, &u, &save)
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
        Ok(Err(e)) => report.outcome = Outcome::Error(format!("cannot store: {e}")),
        Err(e) => report.outcome = Outcome::Error(format!("store task failed: {e}")),
    }
    report
}

/// Fetch, then parse and clean on the blocking pool.
async fn attempt(
    fetcher: &Fetcher,
    target: &Url,
    validators: &Validators,
    limits: ParseLimits,
    now: DateTime<Utc>,
) -> Attempted {
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
            let parsed = tokio::task::spawn_blocking(move || {
                let parsed = parse_feed(
                    &body.bytes,
                    body.charset.as_deref(),
                    Some(body.final_url.as_str()),
                    limits,
                )?;
                let entries: Vec<_> = parsed
                    .entries
                    .iter()
                    .map(|e| {
                        let mut c = clean_entry(e, &body.final_url);
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
                ))
            })
            .await;
            match parsed {
                Ok(Ok((meta, entries, validators, freshness, moved))) => Attempted::Body {
                    validators,
                    freshness,
                    moved,
                    status,
                    bytes,
                    feed_interval: meta.update_interval,
                    meta,
                    entries,
                },
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

/// The source's state after an attempt, the log row, whether the state changed in a way that
/// must be written, and a confirmed permanent move.
fn next_state(
    prev: &SourceState,
    configured: &str,
    source: &SourceConfig,
    attempted: &Attempted,
    now: DateTime<Utc>,
    backoff: Backoff,
) -> (SourceState, FetchLog, bool, Option<String>) {
    let mut st = prev.clone();
    st.url = configured.to_string();
    st.last_fetch_at = Some(now);
    let mut log = FetchLog {
        started_at: now,
        ..Default::default()
    };
    let mut changed = prev.url != configured;
    let mut moved_to = None;
    let (validators, freshness, moved) = match attempted {
        Attempted::Failed {
            error,
            status,
            retry_at,
        } => {
            st.consecutive_errors = prev.consecutive_errors.saturating_add(1);
            st.last_error = Some(error.clone());
            log.outcome = "error".into();
            log.error = Some(error.clone());
            log.http_status = *status;
            let a = Attempt::Failure {
                consecutive: st.consecutive_errors,
                retry_at: *retry_at,
            };
            st.next_run_at = Some(plan_next(&source.schedule, &source.name, now, a, backoff));
            return (st, log, true, None);
        }
        Attempted::NotModified {
            validators,
            freshness,
            moved,
        } => {
            log.outcome = "not-modified".into();
            log.http_status = Some(304);
            (validators, *freshness, moved)
        }
        Attempted::Body {
            validators,
            freshness,
            moved,
            status,
            bytes,
            feed_interval,
            ..
        } => {
            log.http_status = Some(*status);
            log.bytes = Some(*bytes);
            if st.feed_interval != *feed_interval {
                st.feed_interval = *feed_interval;
                changed = true;
            }
            (validators, *freshness, moved)
        }
    };
    // Success, body or 304.
    let is_not_modified = matches!(attempted, Attempted::NotModified { .. });
    if prev.consecutive_errors > 0 || prev.last_error.is_some() {
        changed = true;
    }
    st.consecutive_errors = 0;
    st.last_error = None;
    st.last_success_at = Some(now);
    // A 200 replaces both validators (one it lacks must not be sent again). A 304 refreshes
    // those it carries and keeps the others (RFC 9111 §4.3.4).
    let (etag, last_modified) = if is_not_modified {
        (
            validators.etag.clone().or_else(|| st.etag.clone()),
            validators
                .last_modified
                .clone()
                .or_else(|| st.last_modified.clone()),
        )
    } else {
        (validators.etag.clone(), validators.last_modified.clone())
    };
    if etag != st.etag || last_modified != st.last_modified {
        changed = true;
        st.etag = etag;
        st.last_modified = last_modified;
    }
    match moved.as_ref().map(Url::to_string) {
        Some(to) => {
            st.redirect_streak = if st.redirect_target.as_deref() == Some(to.as_str()) {
                st.redirect_streak + 1
            } else {
                1
            };
            st.redirect_target = Some(to.clone());
            if st.redirect_streak >= PERMANENT_MOVE_AFTER && st.fetch_url.as_deref() != Some(&to) {
                st.fetch_url = Some(to.clone());
                moved_to = Some(to);
            }
            changed = true;
        }
        None if st.redirect_streak > 0 => {
            st.redirect_streak = 0;
            st.redirect_target = None;
            changed = true;
        }
        None => {}
    }
    let floor = freshness.max(st.feed_interval);
    let a = Attempt::Success { floor };
    st.next_run_at = Some(plan_next(&source.schedule, &source.name, now, a, backoff));
    (st, log, changed, moved_to)
}
