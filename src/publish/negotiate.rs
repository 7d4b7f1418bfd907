//! Content negotiation and conditional requests for feed documents: which coding
//! (RFC 9110 §12.5.3), whether a browser wants the web page rather than the feed, which
//! ETag a coding has, and whether the client's copy is current (§13.2.2).

use axum::http::{HeaderMap, header};
use chrono::DateTime;

use super::Rendered;

/// A content coding the client accepts, best first by its q-values; on a tie brotli (the
/// smallest) wins, then gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Br,
    Gzip,
    Identity,
}

/// Picks the coding from Accept-Encoding (RFC 9110 §12.5.3). A missing header means
/// identity; `*` stands for every coding not named.
pub(super) fn negotiate(headers: &HeaderMap) -> Coding {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Coding::Identity;
    };
    let q = |name: &str| -> Option<f32> {
        let mut star = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = it
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding == name || (name == "gzip" && coding == "x-gzip") {
                return Some(weight);
            }
            if coding == "*" {
                star = Some(weight);
            }
        }
        star
    };
    let br = q("br").unwrap_or(0.0);
    let gzip = q("gzip").unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Coding::Br
    } else if gzip > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// The q-value (RFC 9110 §12.4.2) the Accept headers give each named media type; `*/*`
/// and `type/*` are not counted: every client sends them.
fn accept_q(headers: &HeaderMap, types: &[&str]) -> f32 {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| {
            let mut it = part.split(';');
            let t = it.next()?.trim().to_ascii_lowercase();
            let q = it
                .filter_map(|p| {
                    let p = p.trim();
                    p.strip_prefix("q=").or(p.strip_prefix("Q="))
                })
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            types.contains(&t.as_str()).then_some(q)
        })
        .fold(0.0, f32::max)
}

/// Whether the request prefers a web page to the feed itself: its Accept gives `text/html`
/// (or XHTML) a higher q-value than any feed or XML type. Browsers navigating to a feed
/// say so (`text/html,…,application/xml;q=0.9`); feed readers list feed types first, or
/// only, and keep getting the feed.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let html = accept_q(headers, &["text/html", "application/xhtml+xml"]);
    let feed = accept_q(
        headers,
        &[
            "application/atom+xml",
            "application/rss+xml",
            "application/rdf+xml",
            "application/feed+json",
            "application/json",
            "application/xml",
            "text/xml",
        ],
    );
    html > 0.0 && html > feed
}

/// The ETag of one coding of a rendering: the same hash, marked, so that each stored copy
/// has its own strong validator.
pub(super) fn etag_for(r: &Rendered, coding: Coding) -> String {
    let base = r.etag.trim_matches('"');
    match coding {
        Coding::Identity => r.etag.clone(),
        Coding::Gzip => format!("\"{base}-gz\""),
        Coding::Br => format!("\"{base}-br\""),
    }
}

/// RFC 9110 §13.2.2: If-None-Match is evaluated first; If-Modified-Since only without it.
/// A tag of any coding of the current rendering matches: the client's copy is current.
pub(super) fn not_modified(r: &Rendered, headers: &HeaderMap) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let current = r.etag.trim_matches('"');
        // Weak comparison (§8.8.3.2): W/ prefixes are ignored.
        return inm.split(',').map(str::trim).any(|t| {
            let t = t.trim_start_matches("W/").trim_matches('"');
            t == "*"
                || t == current
                || t.strip_suffix("-gz").or(t.strip_suffix("-br")) == Some(current)
        });
    }
    if let Some(ims) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
    {
        return r.last_modified.timestamp() <= ims.timestamp();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::Format;
    use axum::http::HeaderValue;
    use chrono::{TimeZone, Utc};

    fn rendered() -> Rendered {
        let mut r = Rendered::new(
            "x".into(),
            Format::Atom,
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            None,
        );
        r.etag = "\"abc\"".into();
        r
    }

    fn headers(k: header::HeaderName, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(k, HeaderValue::from_str(v).unwrap());
        h
    }
    #[test]
    fn if_none_match_wins_and_compares_weakly() {
        let r = rendered();
        assert!(not_modified(&r, &headers(header::IF_NONE_MATCH, "\"abc\"")));
        assert!(not_modified(
            &r,
            &headers(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")
        ));
        assert!(!not_modified(
            &r,
            &headers(header::IF_NONE_MATCH, "\"old\"")
        ));
        assert!(not_modified(
            &r,
            &headers(header::IF_NONE_MATCH, "\"abc-gz\"")
        ));
        assert!(!not_modified(
            &r,
            &headers(header::IF_NONE_MATCH, "\"abcd-gz\"")
        ));
    }

    #[test]
    fn browsers_get_the_page_and_readers_the_feed() {
        let accept = |v: &str| prefers_html(&headers(header::ACCEPT, v));
        // Chromium and Firefox navigating.
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,\
             image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
        ));
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        // feedparser, a reader listing HTML last, one naming both equally, curl.
        assert!(!accept(
            "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,\
             application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
        ));
        assert!(!accept("application/rss+xml, text/html;q=0.5"));
        assert!(!accept("text/html, application/atom+xml"));
        assert!(!accept("text/html;q=0, application/atom+xml"));
        assert!(!accept("*/*"));
        assert!(!prefers_html(&HeaderMap::new()));
    }

    #[test]
    fn accept_encoding_is_negotiated_by_q_values() {
        let ae = |v: &str| negotiate(&headers(header::ACCEPT_ENCODING, v));
        assert_eq!(negotiate(&HeaderMap::new()), Coding::Identity);
        assert_eq!(ae("gzip, deflate, br"), Coding::Br);
        assert_eq!(ae("gzip"), Coding::Gzip);
        assert_eq!(ae("br;q=0.5, gzip"), Coding::Gzip);
        assert_eq!(ae("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(ae("*"), Coding::Br);
        assert_eq!(ae("identity"), Coding::Identity);
        assert_eq!(ae("x-gzip"), Coding::Gzip);
    }

    #[test]
    fn if_modified_since_compares_seconds() {
        let r = rendered();
        assert!(not_modified(
            &r,
            &headers(header::IF_MODIFIED_SINCE, "Tue, 02 Jan 2024 03:04:05 GMT")
        ));
        assert!(!not_modified(
            &r,
            &headers(header::IF_MODIFIED_SINCE, "Tue, 02 Jan 2024 03:04:04 GMT")
        ));
    }
}
