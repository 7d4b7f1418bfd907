//! Canonical article URLs: tracking parameters removed, so the same article linked from
//! different campaigns, newsletters and feeds is recognisably the same URL — for readers (no
//! tracking) and for dedup (same URL, same story).
//!
//! The parameter list is data (`data/tracking-params.txt`), not code.

use std::sync::OnceLock;

use url::Url;

/// Tracking parameters: exact names, and prefixes (entries ending in `*`).
struct TrackingParams {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

fn params() -> &'static TrackingParams {
    static P: OnceLock<TrackingParams> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = TrackingParams {
            exact: Vec::new(),
            prefixes: Vec::new(),
        };
        for line in include_str!("data/tracking-params.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.strip_suffix('*') {
                Some(prefix) => p.prefixes.push(prefix.to_ascii_lowercase()),
                None => p.exact.push(line.to_ascii_lowercase()),
            }
        }
        p
    })
}

/// Whether a query parameter name is a tracking parameter.
pub fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let p = params();
    p.exact.contains(&name) || p.prefixes.iter().any(|pre| name.starts_with(pre.as_str()))
}

/// The URL with tracking parameters (and a tracking-only fragment) removed; other parameters
/// keep their order, because some sites route on them.
pub fn strip_tracking(url: &Url) -> Url {
    let mut out = url.clone();
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            out.set_query(None);
        } else {
            out.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    if let Some(f) = url.fragment()
        && (f.is_empty()
            || f.contains('=')
                && f.split('&')
                    .all(|kv| is_tracking_param(kv.split('=').next().unwrap_or(""))))
    {
        out.set_fragment(None);
    }
    out
}

/// The dedup key for an article URL: tracking stripped, scheme ignored, mobile and AMP
/// variants folded (`www.`, `m.`, `amp.`, `mobile.` hosts; a trailing `/amp`), trailing
/// slashes, default ports and the fragment dropped, remaining query parameters sorted. Two
/// links with the same key are the same article.
/// A URL as it may be published: characters RFC 3986 does not allow outside the host (`[`
/// and `]` in a path, `|`, `^`, `\`…), which the url crate leaves as they came, are
/// percent-encoded, so readers and validators take every published link for a URI.
pub fn publishable(url: &Url) -> String {
    let s = url.as_str();
    let host_end = url
        .host_str()
        .map(|_| {
            let after_scheme = url.scheme().len() + 3;
            s[after_scheme..]
                .find(['/', '?', '#'])
                .map_or(s.len(), |i| after_scheme + i)
        })
        .unwrap_or(0);
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'()*+,;=%".contains(c);
    if s[host_end..].chars().all(allowed) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..host_end]);
    for c in s[host_end..].chars() {
        if allowed(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub fn canonical_key(url: &Url) -> String {
    let mut u = strip_tracking(url);
    u.set_fragment(None);
    if u.query().is_some() {
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let host = u.host_str().unwrap_or("").to_ascii_lowercase();
    let host = ["www.", "m.", "amp.", "mobile."]
        .iter()
        .find_map(|p| host.strip_prefix(p))
        .unwrap_or(&host)
        .to_string();
    let mut path = u.path().to_string();
    for suffix in ["/amp", "/amp/", "/"] {
        if path.len() > suffix.len() && path.ends_with(suffix) {
            path.truncate(path.len() - suffix.len());
        }
    }
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{host}{port}{path}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_urls_are_uris() {
        let u = Url::parse("http://[::1]:8080/a[0].link|x^y?q=[1]#f{2}").unwrap();
        assert_eq!(
            publishable(&u),
            "http://[::1]:8080/a%5B0%5D.link%7Cx%5Ey?q=%5B1%5D#f%7B2%7D"
        );
        let plain = Url::parse("https://news.example/world/story-1?id=3").unwrap();
        assert_eq!(publishable(&plain), plain.as_str());
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn tracking_parameters_go_and_others_stay_in_order() {
        let cases = [
            (
                "https://ex.org/a?utm_source=rss&utm_medium=feed",
                "https://ex.org/a",
            ),
            (
                "https://ex.org/a?id=7&fbclid=xyz&page=2",
                "https://ex.org/a?id=7&page=2",
            ),
            (
                "https://ex.org/a?GCLID=1&mc_cid=2&mc_eid=3",
                "https://ex.org/a",
            ),
            (
                "https://ex.org/a?itm_source=x&q=news",
                "https://ex.org/a?q=news",
            ),
            ("https://ex.org/a#utm_source=x", "https://ex.org/a"),
            ("https://ex.org/a#section-2", "https://ex.org/a#section-2"),
            ("https://ex.org/a?x=1", "https://ex.org/a?x=1"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_tracking(&u(input)).as_str(), want, "{input}");
        }
    }

    #[test]
    fn canonical_keys_ignore_scheme_www_slash_and_tracking() {
        let a = canonical_key(&u("https://www.ex.org/news/story/?utm_campaign=x"));
        let b = canonical_key(&u("http://ex.org/news/story#top"));
        assert_eq!(a, b);
        assert_eq!(a, "ex.org/news/story");
        assert_ne!(a, canonical_key(&u("https://ex.org/news/story?id=2")));
        assert_eq!(a, canonical_key(&u("https://m.ex.org/news/story/amp")));
        assert_eq!(
            canonical_key(&u("https://ex.org/s?b=2&a=1&fbclid=x")),
            canonical_key(&u("https://ex.org/s?a=1&b=2"))
        );
    }
}
