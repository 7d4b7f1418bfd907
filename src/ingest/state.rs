//! The source's next state after an attempt: errors and backoff, validators, permanent
//! moves, and the next run — and whether any of it is worth writing.

use chrono::{DateTime, Utc};
use url::Url;

use super::{Attempted, PERMANENT_MOVE_AFTER};
use crate::config::SourceConfig;
use crate::model::SourceState;
use crate::schedule::{Attempt, Backoff, plan_next};
use crate::store::FetchLog;

/// The source's state after an attempt, the log row, whether the state changed in a way that
/// must be written, and a confirmed permanent move.
pub(super) fn next_state(
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
            let error = error.to_string();
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
    let floor = source.hints.floor(freshness.max(st.feed_interval));
    let a = Attempt::Success { floor };
    st.next_run_at = Some(plan_next(&source.schedule, &source.name, now, a, backoff));
    (st, log, changed, moved_to)
}
