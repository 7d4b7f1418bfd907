//! Who may read what the server serves (`[server] token` and `admin_token`), and feed
//! documents whose links carry the reader's token.
//!
//! A token is presented as `?token=…` (what a feed reader's subscription URL can hold) or as
//! `Authorization: Bearer …` (RFC 6750). Tokens are compared as BLAKE3 digests, whose
//! equality is constant-time: how long a refusal takes says nothing about how close a guess
//! came.
//!
//! Links: a reader subscribed as `/feeds/world.atom?token=…` follows the feed's own links
//! (`self`, RFC 5005 `prev-archive` and `current`, JSON Feed's `next_url`) with whatever they
//! say. So a document asked for with `?token=` is served with that token in every link to
//! this server's feeds and archive pages ([`tokenize_links`]), and a reader walking the
//! archive never meets a 401. A request that authenticates with the header gets the plain
//! document (its links work for it with the same header). Feed and entry ids never change.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use url::Url;

use super::{Publisher, Rendered};
use crate::config::{Secret, ServerConfig};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Feeds and archive pages: the reader token (or the admin token), when one is set.
    Reader,
    /// The status page, `/opml`, `/metrics`: the admin token when one is set, else the
    /// reader token when that is set.
    Admin,
}

/// The outcome of checking a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Served. `link_token` is set when the token came in the query: the document's links
    /// to this server then carry it.
    Allowed { link_token: Option<String> },
    /// No token presented: 401.
    Missing,
    /// A token that is not one of ours: 401.
    Invalid,
    /// The reader token where the admin token is needed: 403.
    Insufficient,
}

/// How a token was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Presented {
    /// Candidate values (a query value is read both form-decoded and as written, so that a
    /// token with `+` works pasted either way).
    values: Vec<String>,
    in_query: bool,
}

fn presented(query: Option<&str>, headers: &HeaderMap) -> Option<Presented> {
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
    if let Some(b) = bearer {
        return Some(Presented {
            values: vec![b],
            in_query: false,
        });
    }
    let raw = query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))?;
    let mut values = vec![
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned(),
    ];
    let form: String = url::form_urlencoded::parse(format!("t={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !values.contains(&form) {
        values.push(form);
    }
    Some(Presented {
        values,
        in_query: true,
    })
}

/// Constant-time: equal-length digests compared by `blake3::Hash`'s `PartialEq`.
fn same(presented: &str, secret: &Secret) -> bool {
    blake3::hash(presented.as_bytes()) == blake3::hash(secret.expose().as_bytes())
}

/// Whether a request with this query and these headers may have a route that needs `need`.
pub fn check(
    server: &ServerConfig,
    need: Need,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Verdict {
    let (required, also) = match need {
        Need::Reader => (server.token.as_ref(), server.admin_token.as_ref()),
        Need::Admin => match &server.admin_token {
            Some(admin) => (Some(admin), None),
            None => (server.token.as_ref(), None),
        },
    };
    let Some(required) = required else {
        return Verdict::Allowed { link_token: None };
    };
    let Some(p) = presented(query, headers) else {
        return Verdict::Missing;
    };
    let accepted = [Some(required), also]
        .into_iter()
        .flatten()
        .find_map(|secret| p.values.iter().find(|v| same(v, secret)));
    match accepted {
        Some(v) => Verdict::Allowed {
            link_token: p.in_query.then(|| v.clone()),
        },
        None if need == Need::Admin
            && server
                .token
                .as_ref()
                .is_some_and(|t| p.values.iter().any(|v| same(v, t))) =>
        {
            Verdict::Insufficient
        }
        None => Verdict::Invalid,
    }
}

/// The document with `?token=…` added to every quoted link into this server's feeds
/// (`"BASE/feeds/…"`: self, history and paging links, in attributes and JSON strings). Text
/// content (Atom `<id>`) is not quoted and stays as it is: ids never change.
pub fn tokenize_links(body: &str, base: &Url, token: &str) -> String {
    let needle = format!("\"{base}feeds/");
    let suffix = format!(
        "?token={}",
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    );
    let mut out = String::with_capacity(body.len() + 256);
    let mut rest = body;
    while let Some(i) = rest.find(&needle) {
        let start = i + needle.len();
        let Some(len) = rest[start..].find('"') else {
            break;
        };
        let end = start + len;
        out.push_str(&rest[..end]);
        if !rest[start..end].contains('?') {
            out.push_str(&suffix);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl Publisher {
    /// [`Publisher::with_link_token`] if it was made already; never blocks on rendering.
    pub fn cached_with_link_token(&self, r: &Rendered, token: &str) -> Option<Arc<Rendered>> {
        let key = (r.etag.clone(), blake3::hash(token.as_bytes()));
        self.tokenized
            .lock()
            .expect("tokenized lock")
            .get(&key)
            .cloned()
    }

    /// `r` as served to a reader who presented `token` in the query: its links to this
    /// server's feeds carry the token too. Made once per document and token.
    pub fn with_link_token(&self, r: &Arc<Rendered>, token: &str) -> Arc<Rendered> {
        if let Some(t) = self.cached_with_link_token(r, token) {
            return t;
        }
        let key = (r.etag.clone(), blake3::hash(token.as_bytes()));
        let base = self.config().server.base_url.clone();
        let body = String::from_utf8_lossy(&r.body);
        let t = Arc::new(r.derived(tokenize_links(&body, &base, token)));
        let mut cache = self.tokenized.lock().expect("tokenized lock");
        // Old renderings' variants are never asked for again; a bound keeps them few.
        if cache.len() >= 512 {
            cache.clear();
        }
        cache.insert(key, t.clone());
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn server(token: Option<&str>, admin: Option<&str>) -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:1".parse().unwrap(),
            base_url: Url::parse("http://x.example/").unwrap(),
            token: token.map(Secret::new),
            admin_token: admin.map(Secret::new),
        }
    }

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
        );
        h
    }

    #[test]
    fn without_tokens_everything_is_open() {
        let s = server(None, None);
        for need in [Need::Reader, Need::Admin] {
            assert_eq!(
                check(&s, need, None, &HeaderMap::new()),
                Verdict::Allowed { link_token: None }
            );
        }
    }

    #[test]
    fn the_reader_token_opens_feeds_by_query_or_header() {
        let s = server(Some("r+ad/er"), None);
        let none = HeaderMap::new();
        assert_eq!(check(&s, Need::Reader, None, &none), Verdict::Missing);
        assert_eq!(
            check(&s, Need::Reader, Some("token=nope"), &none),
            Verdict::Invalid
        );
        assert_eq!(
            check(&s, Need::Reader, Some("x=1&token=r%2Bad%2Fer"), &none),
            Verdict::Allowed {
                link_token: Some("r+ad/er".into())
            }
        );
        // Pasted as written, `+` and all.
        assert!(matches!(
            check(&s, Need::Reader, Some("token=r+ad/er"), &none),
            Verdict::Allowed { .. }
        ));
        assert_eq!(
            check(&s, Need::Reader, None, &bearer("r+ad/er")),
            Verdict::Allowed { link_token: None }
        );
        // With no admin token, the reader token guards the admin pages too.
        assert!(matches!(
            check(&s, Need::Admin, None, &bearer("r+ad/er")),
            Verdict::Allowed { .. }
        ));
        assert_eq!(check(&s, Need::Admin, None, &none), Verdict::Missing);
    }

    #[test]
    fn the_admin_pages_need_the_admin_token_and_it_opens_feeds_too() {
        let s = server(Some("reader"), Some("admin"));
        assert_eq!(
            check(&s, Need::Admin, None, &bearer("reader")),
            Verdict::Insufficient
        );
        assert!(matches!(
            check(&s, Need::Admin, Some("token=admin"), &HeaderMap::new()),
            Verdict::Allowed { .. }
        ));
        assert!(matches!(
            check(&s, Need::Reader, None, &bearer("admin")),
            Verdict::Allowed { .. }
        ));
        // An admin token alone leaves the feeds open.
        let s = server(None, Some("admin"));
        assert!(matches!(
            check(&s, Need::Reader, None, &HeaderMap::new()),
            Verdict::Allowed { .. }
        ));
        assert_eq!(check(&s, Need::Admin, None, &bearer("x")), Verdict::Invalid);
    }

    #[test]
    fn links_into_the_feeds_carry_the_token_and_ids_do_not() {
        let base = Url::parse("http://x.example/wire/").unwrap();
        let body = "<id>http://x.example/wire/feeds/w.atom</id>\
                    <link href=\"http://x.example/wire/feeds/w.atom\" rel=\"self\"/>\
                    <link href=\"http://x.example/wire/feeds/w/archive/2.atom\" rel=\"prev-archive\"/>\
                    <link href=\"http://x.example/wire/\" rel=\"alternate\"/>\
                    {\"next_url\": \"http://x.example/wire/feeds/w/archive/1.json\"}";
        assert_eq!(
            tokenize_links(body, &base, "a+b"),
            "<id>http://x.example/wire/feeds/w.atom</id>\
             <link href=\"http://x.example/wire/feeds/w.atom?token=a%2Bb\" rel=\"self\"/>\
             <link href=\"http://x.example/wire/feeds/w/archive/2.atom?token=a%2Bb\" rel=\"prev-archive\"/>\
             <link href=\"http://x.example/wire/\" rel=\"alternate\"/>\
             {\"next_url\": \"http://x.example/wire/feeds/w/archive/1.json?token=a%2Bb\"}"
        );
    }
}
