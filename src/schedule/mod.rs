//! When each source is due.
//!
//! Users write cron expressions the way crontab(5) taught them: five fields, weekdays 0–7 with
//! 0 and 7 meaning Sunday. The `cron` crate wants a seconds field first and numbers weekdays
//! 1–7 from Sunday = 1, so [`CronSchedule::parse`] translates the crontab form (and accepts the
//! crate's own 6/7-field form unchanged). A per-source jitter, derived from the source's name so
//! it is stable across restarts, spreads sources that share an expression.

mod crontab;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use crontab::{CronSchedule, ScheduleError};

/// A stable offset in `[0, max)` derived from the source name: sources that share a cron
/// expression fire spread out, and the same source keeps its slot across restarts.
pub fn jitter_for(name: &str, max: Duration) -> Duration {
    let max_ms = max.as_millis() as u64;
    if max_ms == 0 {
        return Duration::ZERO;
    }
    let h = blake3::hash(name.as_bytes());
    let n = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    Duration::from_millis(n % max_ms)
}

/// The next time a source should run: the next cron slot after `now`, plus its jitter (at most a
/// tenth of the period, capped at five minutes, so a `*/15` schedule still means every 15 minutes).
pub fn next_run(schedule: &CronSchedule, name: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    let slot = schedule
        .next_after(now)
        .unwrap_or(now + chrono::Duration::hours(24));
    let max = (schedule.period_hint(now) / 10).min(Duration::from_secs(300));
    slot + chrono::Duration::from_std(jitter_for(name, max)).unwrap_or_default()
}

/// When a source that is due at daemon start runs: now plus its jitter, bounded by a tenth of
/// its period and by five seconds — prompt, but 500 sources on one schedule do not fire in the
/// same instant.
pub fn startup_spread(schedule: &CronSchedule, name: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    let max = (schedule.period_hint(now) / 10).min(Duration::from_secs(5));
    now + to_chrono(jitter_for(name, max))
}

/// Where "now" comes from. The daemon uses the system clock; tests and simulations use a
/// [`ManualClock`] so that backoff and `Retry-After` can be checked without sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += to_chrono(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// How an attempt ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The source answered (a body or a 304). `floor` is the longest interval the publisher
    /// asked for (Cache-Control max-age, Expires, RSS `<ttl>`, `sy:updatePeriod`).
    Success { floor: Option<Duration> },
    /// The `consecutive`-th failure in a row (1 = first); `retry_at` from a `Retry-After`.
    Failure {
        consecutive: u32,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// A source's own bounds on its publisher's polling hints (`min_interval`,
/// `max_interval`): a `<ttl>` of a day must not hide a source that matters for a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HintBounds {
    /// The user's own floor: it replaces the publisher's hints (shorter or longer).
    pub min: Option<Duration>,
    /// The longest the publisher's hints may push the next fetch out.
    pub max: Option<Duration>,
}

impl HintBounds {
    /// The floor the next fetch waits for, given the publisher's longest hint: `min` when
    /// set (a `min_interval` below a `<ttl>` overrides the ttl), else the hint capped at
    /// `max`.
    pub fn floor(&self, hint: Option<Duration>) -> Option<Duration> {
        match (self.min, hint, self.max) {
            (Some(min), _, _) => Some(min),
            (None, Some(h), Some(max)) => Some(h.min(max)),
            (None, hint, _) => hint,
        }
    }
}

/// Limits on how far the publisher's hints and the backoff may push the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First retry delay; doubles with each consecutive failure.
    pub base: Duration,
    /// Longest delay. A failing source is retried at least this often, for ever.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(24 * 3600),
        }
    }
}

/// When to try a source next. Cron stays the plan: the answer is always a cron slot (plus
/// the source's jitter). The publisher's hints and failure backoff only choose a *later*
/// slot — the first one at or after the earliest allowed moment — and never one past
/// `backoff.max` from now (a hostile `Retry-After: 1 year` must not make a feed disappear).
pub fn plan_next(
    schedule: &CronSchedule,
    name: &str,
    now: DateTime<Utc>,
    attempt: Attempt,
    backoff: Backoff,
) -> DateTime<Utc> {
    let planned = next_run(schedule, name, now);
    let cap = now + to_chrono(backoff.max);
    let earliest = match attempt {
        Attempt::Success { floor } => now + to_chrono(floor.unwrap_or_default().min(backoff.max)),
        Attempt::Failure {
            retry_at: Some(at), ..
        } => at.min(cap),
        Attempt::Failure { consecutive, .. } => {
            let exp = consecutive.saturating_sub(1).min(30);
            let delay = backoff.base.saturating_mul(1u32 << exp).min(backoff.max);
            // Up to 20% jitter, stable per source and attempt, so a host that failed for many
            // sources at once is not hit by all of them again in the same second.
            let jitter = jitter_for(&format!("{name}#{consecutive}"), delay / 5);
            now + to_chrono((delay + jitter).min(backoff.max))
        }
    };
    if earliest <= planned {
        return planned;
    }
    let slot = next_run(schedule, name, earliest - chrono::Duration::seconds(1));
    slot.min(cap.max(planned))
}

/// Converts, saturating at ten years: every duration here is a delay to add to "now", and
/// chrono panics when a date leaves its range.
fn to_chrono(d: Duration) -> chrono::Duration {
    let ten_years = Duration::from_secs(10 * 365 * 86_400);
    chrono::Duration::from_std(d.min(ten_years)).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn missed_slots_collapse_into_one_next_run() {
        let s = CronSchedule::parse("*/15 * * * *").unwrap();
        // A daemon back after three hours asks once and gets the single next slot.
        let now = at(2026, 1, 5, 13, 2);
        let next = next_run(&s, "a", now);
        assert!(next > now && next <= at(2026, 1, 5, 13, 15) + chrono::Duration::minutes(2));
    }

    fn every_minute() -> CronSchedule {
        CronSchedule::parse("* * * * *").unwrap()
    }

    /// Jitter for an every-minute schedule is at most 6 s.
    fn within_jitter(t: DateTime<Utc>, slot: DateTime<Utc>) -> bool {
        t >= slot && t <= slot + chrono::Duration::seconds(6)
    }

    #[test]
    fn success_follows_cron_unless_the_publisher_asks_for_longer() {
        let now = at(2026, 1, 5, 10, 0);
        let s = every_minute();
        let b = Backoff::default();
        let plain = plan_next(&s, "x", now, Attempt::Success { floor: None }, b);
        assert!(within_jitter(plain, at(2026, 1, 5, 10, 1)), "{plain}");
        let floor = Some(Duration::from_secs(1800));
        let slow = plan_next(&s, "x", now, Attempt::Success { floor }, b);
        assert!(within_jitter(slow, at(2026, 1, 5, 10, 30)), "{slow}");
        let absurd = Some(Duration::from_secs(365 * 86400));
        let capped = plan_next(&s, "x", now, Attempt::Success { floor: absurd }, b);
        assert_eq!(capped, now + chrono::Duration::hours(24));
        // A slow cron plan is kept even when it is past the cap.
        let weekly = CronSchedule::parse("0 0 * * 1").unwrap();
        let w = plan_next(&weekly, "x", now, Attempt::Success { floor: absurd }, b);
        assert!(w >= at(2026, 1, 12, 0, 0), "{w}");
    }

    #[test]
    fn a_sources_bounds_override_or_cap_the_publishers_hint() {
        let (h, m) = (Duration::from_secs(3600), Duration::from_secs(60));
        let day = Some(Duration::from_secs(86_400));
        let none = HintBounds::default();
        assert_eq!(none.floor(day), day);
        let min = HintBounds {
            min: Some(m * 10),
            max: None,
        };
        assert_eq!(
            min.floor(day),
            Some(m * 10),
            "a min_interval below a ttl wins"
        );
        assert_eq!(min.floor(None), Some(m * 10));
        let max = HintBounds {
            min: None,
            max: Some(h),
        };
        assert_eq!(max.floor(day), Some(h));
        assert_eq!(max.floor(Some(m)), Some(m));
        assert_eq!(max.floor(None), None);
    }

    #[test]
    fn failures_back_off_exponentially_with_bounded_jitter_up_to_the_cap() {
        let now = at(2026, 1, 5, 10, 0);
        let s = every_minute();
        let b = Backoff::default();
        let mut last = now;
        for n in 1..=14u32 {
            let f = Attempt::Failure {
                consecutive: n,
                retry_at: None,
            };
            let next = plan_next(&s, "x", now, f, b);
            let delay = (next - now).num_seconds();
            let nominal = (60i64 << (n - 1)).min(86400);
            let most = (nominal * 6 / 5 + 66).min(86400);
            assert!(delay >= nominal && delay <= most, "n={n} delay={delay}");
            assert!(next >= last);
            last = next;
        }
        assert_eq!(last, now + chrono::Duration::hours(24));
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let now = at(2026, 1, 5, 10, 0);
        let b = Backoff::default();
        let s = every_minute();
        let when = now + chrono::Duration::minutes(42);
        let f = Attempt::Failure {
            consecutive: 1,
            retry_at: Some(when),
        };
        assert!(within_jitter(plan_next(&s, "x", now, f, b), when));
        let far = now + chrono::Duration::days(400);
        let f = Attempt::Failure {
            consecutive: 1,
            retry_at: Some(far),
        };
        assert_eq!(
            plan_next(&s, "x", now, f, b),
            now + chrono::Duration::hours(24)
        );
        // A Retry-After sooner than the cron plan does not make us poll faster.
        let hourly = CronSchedule::parse("0 * * * *").unwrap();
        let soon = now + chrono::Duration::seconds(5);
        let f = Attempt::Failure {
            consecutive: 1,
            retry_at: Some(soon),
        };
        assert!(plan_next(&hourly, "x", now, f, b) >= at(2026, 1, 5, 11, 0));
    }

    #[test]
    fn sources_due_at_start_are_spread_over_five_seconds_at_most() {
        let s = CronSchedule::parse("*/15 * * * *").unwrap();
        let now = at(2026, 1, 5, 10, 7);
        let times: std::collections::HashSet<_> = (0..500)
            .map(|i| startup_spread(&s, &format!("s{i}"), now))
            .collect();
        assert!(
            times
                .iter()
                .all(|t| *t >= now && *t < now + chrono::Duration::seconds(5))
        );
        assert!(times.len() > 400, "spread, not bunched");
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let max = Duration::from_secs(90);
        assert_eq!(jitter_for("bbc", max), jitter_for("bbc", max));
        assert!(jitter_for("bbc", max) < max);
        let spread: std::collections::HashSet<_> = (0..50)
            .map(|i| jitter_for(&format!("s{i}"), max).as_secs())
            .collect();
        assert!(spread.len() > 20);
    }
}
