//! What one pass over one source did: the outcome and counts `wirefeed fetch` prints, the
//! daemon logs, the status page, notifications and metrics show. Here, beside the other types
//! stages exchange, so that publishing and monitoring need not reach into ingest.

use chrono::{DateTime, Utc};

use super::IngestCounts;

/// Why one source's pass failed, by the stage that failed. The texts are safe to show: they
/// were scrubbed of the source's secrets where they were made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// Fetching: the network, the server's answer, the guard, the limits.
    #[error("{0}")]
    Fetch(String),
    /// Reading the document as a feed.
    #[error("{0}")]
    Parse(String),
    /// Writing the result to the store.
    #[error("cannot store: {0}")]
    Store(String),
    /// A task of the pass ended unexpectedly (a panic caught at the edge).
    #[error("{0}")]
    Internal(String),
}

/// What happened to one source in one pass; printed by `wirefeed fetch`, logged by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    New,
    Updated,
    Unchanged,
    NotModified,
    Error(IngestError),
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
    /// Problems that did not stop the fetch: malformed items left out, each naming the item.
    pub warnings: Vec<String>,
    /// Entries left out by the source's `include` / `exclude` patterns.
    pub filtered: usize,
}

impl std::fmt::Display for SourceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = match &self.outcome {
            Outcome::Error(e) => format!("error: {e}"),
            o => o.label().to_string(),
        };
        write!(
            f,
            "{}\t{}\tnew={} updated={} unchanged={}",
            self.source, outcome, self.counts.new, self.counts.updated, self.counts.unchanged,
        )?;
        if self.filtered > 0 {
            write!(f, " filtered={}", self.filtered)?;
        }
        if !self.warnings.is_empty() {
            write!(f, " warnings={}", self.warnings.len())?;
        }
        write!(f, "\t{}ms", self.duration_ms)
    }
}
