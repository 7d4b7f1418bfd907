//! Prometheus metrics (`GET /metrics`, text exposition format): what an administrator
//! graphs and alerts on — fetch outcomes and latency, entries and stories, sources in
//! backoff, database size, the build.

use std::path::PathBuf;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::model::SourceReport;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabel {
    change: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabel {
    version: String,
}

/// The daemon's metrics. Counters are cheap atomics: recording never blocks ingest.
pub struct Metrics {
    registry: Registry,
    fetches: Family<OutcomeLabel, Counter>,
    latency: Histogram,
    entries: Family<ChangeLabel, Counter>,
    stories: Family<ChangeLabel, Counter>,
    sources: Gauge,
    backoff: Gauge,
    db_bytes: Gauge,
    freshness: Histogram,
    database: PathBuf,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics for a daemon using `database` (its size is read at each scrape).
    pub fn new(database: PathBuf) -> Metrics {
        let mut registry = Registry::with_prefix("wirefeed");
        let fetches = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "fetches",
            "Source fetches by outcome (new, updated, unchanged, not-modified, error)",
            fetches.clone(),
        );
        // 10 ms to ~80 s: a local file to a slow publisher at the timeout.
        let latency = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "fetch_duration_seconds",
            "Time to fetch, parse, clean and store one source",
            latency.clone(),
        );
        let entries = Family::<ChangeLabel, Counter>::default();
        registry.register(
            "entries",
            "Entries stored, by change (new, updated)",
            entries.clone(),
        );
        let stories = Family::<ChangeLabel, Counter>::default();
        registry.register(
            "stories",
            "Stories by event: new (a first copy), merged (another outlet's copy joined), revised (the text changed in substance)",
            stories.clone(),
        );
        let sources = Gauge::default();
        registry.register("sources", "Configured sources", sources.clone());
        let backoff = Gauge::default();
        registry.register(
            "sources_in_backoff",
            "Sources whose last fetch failed (retried with growing delays)",
            backoff.clone(),
        );
        let db_bytes = Gauge::default();
        registry.register(
            "database_bytes",
            "Size of the SQLite database with its write-ahead log",
            db_bytes.clone(),
        );
        // Fine steps around the 50 ms goal (issue 20), then coarse up to the debounce and past.
        let freshness = Histogram::new([
            0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
        ]);
        registry.register(
            "publish_freshness_seconds",
            "From a change that made a feed document stale (or, if later, the end of its \
             one-second debounce) until its new rendering is served",
            freshness.clone(),
        );
        let build = Family::<BuildLabel, Gauge>::default();
        build
            .get_or_create(&BuildLabel {
                version: env!("CARGO_PKG_VERSION").into(),
            })
            .set(1);
        registry.register("build_info", "The running build (always 1)", build);
        Metrics {
            registry,
            fetches,
            latency,
            entries,
            stories,
            sources,
            backoff,
            db_bytes,
            freshness,
            database,
        }
    }

    /// Takes in one fetch's report.
    pub fn record(&self, r: &SourceReport) {
        self.fetches
            .get_or_create(&OutcomeLabel {
                outcome: r.outcome.label().to_string(),
            })
            .inc();
        self.latency.observe(r.duration_ms as f64 / 1000.0);
        let c = &r.counts;
        for (change, n, family) in [
            ("new", c.new, &self.entries),
            ("updated", c.updated, &self.entries),
            ("new", c.stories_new, &self.stories),
            ("merged", c.merged, &self.stories),
            ("revised", c.revised, &self.stories),
        ] {
            if n > 0 {
                family
                    .get_or_create(&ChangeLabel {
                        change: change.into(),
                    })
                    .inc_by(n as u64);
            }
        }
    }

    /// The histogram the publisher's refresher records freshness in (see
    /// `Publisher::measure_freshness`).
    pub fn publish_freshness(&self) -> Histogram {
        self.freshness.clone()
    }

    /// How many sources there are and how many are failing.
    pub fn set_sources(&self, total: usize, failing: usize) {
        self.sources.set(total as i64);
        self.backoff.set(failing as i64);
    }

    /// The exposition text, with the database size read now.
    pub fn render(&self) -> String {
        let size: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| {
                let mut p = self.database.as_os_str().to_owned();
                p.push(s);
                std::fs::metadata(PathBuf::from(p)).ok()
            })
            .map(|m| m.len())
            .sum();
        self.db_bytes.set(size as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IngestCounts;
    use crate::model::Outcome;

    #[test]
    fn reports_become_counters_and_a_histogram() {
        let m = Metrics::new(PathBuf::from("/nonexistent/wirefeed.db"));
        m.record(&SourceReport {
            source: "a".into(),
            outcome: Outcome::New,
            counts: IngestCounts {
                new: 3,
                stories_new: 2,
                merged: 1,
                ..Default::default()
            },
            entries_seen: 3,
            duration_ms: 250,
            next_run_at: chrono::Utc::now(),
            moved_to: None,
            warnings: Vec::new(),
            filtered: 0,
        });
        m.set_sources(4, 1);
        let text = m.render();
        for line in [
            "wirefeed_fetches_total{outcome=\"new\"} 1",
            "wirefeed_entries_total{change=\"new\"} 3",
            "wirefeed_stories_total{change=\"merged\"} 1",
            "wirefeed_sources_in_backoff 1",
            "wirefeed_fetch_duration_seconds_count 1",
            "wirefeed_build_info{version=",
            "wirefeed_database_bytes 0",
            "wirefeed_publish_freshness_seconds_count 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
