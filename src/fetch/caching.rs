//! What a response says about when to ask again: freshness (RFC 9111 §4.2) and
//! `Retry-After` (RFC 9110 §10.2.3). Pure functions of headers and "now", so the scheduler's
//! decisions can be tested with a clock the test controls.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use headers::{CacheControl, Date, Expires, HeaderMapExt};
use reqwest::header::HeaderMap;

/// How long the response may be considered fresh: `Cache-Control: max-age` wins over
/// `Expires` (RFC 9111 §5.3), and `Expires` is measured from the response's `Date` when given
/// so a skewed server clock does not matter. `no-cache`/`no-store` give no floor.
pub fn freshness(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(cc) = headers.typed_get::<CacheControl>() {
        if cc.no_cache() || cc.no_store() {
            return None;
        }
        if let Some(max_age) = cc.max_age() {
            // RFC 9111 §4.2.3: a cached response is already `Age` seconds old.
            let age = headers
                .get("age")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or_default();
            return Some(max_age.saturating_sub(age));
        }
    }
    let expires = SystemTime::from(headers.typed_get::<Expires>()?);
    let base = headers
        .typed_get::<Date>()
        .map(SystemTime::from)
        .unwrap_or_else(|| now.into());
    expires.duration_since(base).ok()
}

/// The moment a `Retry-After` value points at: delay-seconds or an HTTP-date.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        // A year is beyond any sane request; the scheduler caps it further.
        let secs = secs.min(365 * 86_400) as i64;
        return now.checked_add_signed(chrono::Duration::seconds(secs));
    }
    httpdate::parse_http_date(v).ok().map(DateTime::<Utc>::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn max_age_wins_over_expires() {
        let h = headers(&[
            ("cache-control", "public, max-age=600"),
            ("expires", "Sun, 01 Mar 2026 14:00:00 GMT"),
        ]);
        assert_eq!(freshness(&h, now()), Some(Duration::from_secs(600)));
    }

    #[test]
    fn age_is_subtracted_from_max_age() {
        let h = headers(&[("cache-control", "max-age=600"), ("age", "100")]);
        assert_eq!(freshness(&h, now()), Some(Duration::from_secs(500)));
    }

    #[test]
    fn absurd_retry_after_values_do_not_overflow() {
        let far = retry_after("99999999999999999999", now());
        assert!(far.is_none() || far.unwrap() <= now() + chrono::Duration::days(366));
        let max = retry_after(&u64::MAX.to_string(), now()).unwrap();
        assert_eq!(max, now() + chrono::Duration::days(365));
        assert!(retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now()).is_some());
    }

    #[test]
    fn expires_is_measured_from_the_server_date() {
        let h = headers(&[
            ("date", "Sun, 01 Mar 2026 10:00:00 GMT"),
            ("expires", "Sun, 01 Mar 2026 10:30:00 GMT"),
        ]);
        assert_eq!(freshness(&h, now()), Some(Duration::from_secs(1800)));
        let past = headers(&[("expires", "Sun, 01 Mar 2026 11:00:00 GMT")]);
        assert_eq!(freshness(&past, now()), None);
    }

    #[test]
    fn no_cache_gives_no_floor() {
        let h = headers(&[("cache-control", "no-cache, max-age=600")]);
        assert_eq!(freshness(&h, now()), None);
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        assert_eq!(
            retry_after("120", now()),
            Some(now() + chrono::Duration::seconds(120))
        );
        assert_eq!(
            retry_after("Sun, 01 Mar 2026 13:00:00 GMT", now()),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 13, 0, 0).unwrap())
        );
        assert_eq!(retry_after("soon", now()), None);
    }
}
