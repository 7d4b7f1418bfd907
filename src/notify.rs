//! systemd integration (`Type=notify`): READY=1 when the daemon can serve, WATCHDOG=1 from
//! the scheduler loop, STATUS= lines an administrator sees in `systemctl status`, and
//! RELOADING=1 / STOPPING=1 around reloads and shutdown. Outside systemd (no
//! `NOTIFY_SOCKET`) every call does nothing.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sd_notify::NotifyState;

use crate::model::{Outcome, SourceReport};

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}

/// The daemon can serve: its database is open and its port accepts connections.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// The scheduler loop is alive (sent only from that loop, so a hung loop is restarted).
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// A new STATUS= line.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// The config is being re-read.
pub fn reloading() {
    send(&[
        NotifyState::Reloading,
        NotifyState::Status("reloading the config"),
    ]);
}

/// The daemon is stopping: no new work is scheduled.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// How often the watchdog must hear from the loop: half the interval systemd asked for
/// (`WatchdogSec=`), or `None` when there is no watchdog.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(50)))
}

/// What the STATUS= line says: sources, which are failing, the last fetch, new entries.
#[derive(Debug, Default)]
pub struct StatusLine {
    sources: usize,
    failing: HashSet<String>,
    last: Option<(String, String, DateTime<Utc>)>,
    new_entries: usize,
    note: Option<String>,
}

impl StatusLine {
    /// A status for a daemon with `sources` sources and nothing fetched yet.
    pub fn new(sources: usize) -> StatusLine {
        StatusLine {
            sources,
            ..Default::default()
        }
    }

    /// Takes in one fetch's report.
    pub fn record(&mut self, r: &SourceReport, at: DateTime<Utc>) {
        match &r.outcome {
            Outcome::Error(_) => {
                self.failing.insert(r.source.clone());
            }
            _ => {
                self.failing.remove(&r.source);
            }
        }
        self.new_entries += r.counts.new;
        self.last = Some((r.source.clone(), r.outcome.label().to_string(), at));
    }

    /// After a reload: the new number of sources; removed sources no longer count as failing.
    pub fn reconfigured(&mut self, sources: &[String]) {
        self.sources = sources.len();
        self.failing.retain(|s| sources.contains(s));
        self.note = None;
    }

    /// How many sources are configured.
    pub fn sources(&self) -> usize {
        self.sources
    }

    /// How many sources' last fetch failed.
    pub fn failing(&self) -> usize {
        self.failing.len()
    }

    /// A note shown until the next successful reload (a reload that failed, say).
    pub fn set_note(&mut self, note: impl Into<String>) {
        self.note = Some(note.into());
    }

    /// The line, e.g. "12 sources, 1 failing; last: reuters new at 10:02:03Z; 34 new entries".
    pub fn render(&self) -> String {
        let mut s = format!(
            "{} source{}, {} failing",
            self.sources,
            if self.sources == 1 { "" } else { "s" },
            self.failing.len()
        );
        match &self.last {
            Some((source, outcome, at)) => s.push_str(&format!(
                "; last: {source} {outcome} at {}",
                at.format("%H:%M:%SZ")
            )),
            None => s.push_str("; nothing fetched yet"),
        }
        s.push_str(&format!("; {} new entries since start", self.new_entries));
        if let Some(n) = &self.note {
            s.push_str(&format!("; {n}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IngestCounts;

    fn report(source: &str, outcome: Outcome, new: usize) -> SourceReport {
        SourceReport {
            source: source.into(),
            outcome,
            counts: IngestCounts {
                new,
                ..Default::default()
            },
            entries_seen: 0,
            duration_ms: 1,
            next_run_at: Utc::now(),
            moved_to: None,
            warnings: Vec::new(),
            filtered: 0,
        }
    }

    #[test]
    fn status_counts_failures_until_a_source_recovers() {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 2, 10, 2, 3).unwrap();
        let mut s = StatusLine::new(2);
        assert_eq!(
            s.render(),
            "2 sources, 0 failing; nothing fetched yet; 0 new entries since start"
        );
        s.record(
            &report(
                "a",
                Outcome::Error(crate::model::IngestError::Fetch("timeout".into())),
                0,
            ),
            t,
        );
        s.record(&report("b", Outcome::New, 3), t);
        assert_eq!(
            s.render(),
            "2 sources, 1 failing; last: b new at 10:02:03Z; 3 new entries since start"
        );
        s.record(&report("a", Outcome::Unchanged, 0), t);
        s.set_note("config reload failed");
        assert!(
            s.render()
                .starts_with("2 sources, 0 failing; last: a unchanged")
        );
        assert!(s.render().ends_with("; config reload failed"));
        s.reconfigured(&["a".into()]);
        assert!(s.render().starts_with("1 source, 0 failing"));
    }
}
