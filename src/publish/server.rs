//! The HTTP server: feeds with conditional GET, a status page, and a health check; who may
//! read them ([`super::access`]); and the headers that keep browsers from doing more with a
//! page than show it.

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::access::{Need, Verdict};
use super::{Format, Publisher, Rendered};
use crate::metrics::Metrics;

/// HTML pages run no script, load nothing from elsewhere and cannot be framed: what they
/// show comes from strangers' feeds, and a token may sit in their URL.
const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    publisher: Arc<Publisher>,
    metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Arc<Publisher> {
    fn from_ref(s: &AppState) -> Self {
        s.publisher.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(s: &AppState) -> Self {
        s.metrics.clone()
    }
}

/// The routes; `GET` routes answer `HEAD` too. Feeds and archive pages need the reader
/// token when one is set, the status page, `/opml` and `/metrics` the admin token;
/// `/healthz` and the stylesheet are always open.
pub fn router(publisher: Arc<Publisher>, metrics: Arc<Metrics>) -> Router {
    let state = AppState { publisher, metrics };
    let feeds = Router::new()
        .route("/feeds/{file}", get(feed))
        .route("/feeds/{name}/archive/{file}", get(archive))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_reader,
        ));
    let admin = Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics_text))
        .route("/opml", get(opml))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_admin));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/feed.xsl", get(feed_xsl))
        .merge(feeds)
        .merge(admin)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// The token a reader presented in the query, for the links of what it is served.
#[derive(Clone)]
struct LinkToken(String);

async fn require_reader(State(p): State<Arc<Publisher>>, req: Request, next: Next) -> Response {
    guard(&p, Need::Reader, req, next).await
}

async fn require_admin(State(p): State<Arc<Publisher>>, req: Request, next: Next) -> Response {
    guard(&p, Need::Admin, req, next).await
}

/// RFC 6750 §3: 401 with a `WWW-Authenticate: Bearer` challenge when the token is missing
/// or wrong, 403 when it is the reader's where the admin's is needed.
async fn guard(p: &Publisher, need: Need, mut req: Request, next: Next) -> Response {
    let config = p.config();
    let verdict = super::access::check(&config.server, need, req.uri().query(), req.headers());
    let (status, challenge, message) = match verdict {
        Verdict::Allowed { link_token } => {
            if let Some(t) = link_token {
                req.extensions_mut().insert(LinkToken(t));
            }
            return next.run(req).await;
        }
        Verdict::Missing => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"wirefeed\"",
            "a token is needed: add ?token=… to the URL or send Authorization: Bearer …\n",
        ),
        Verdict::Invalid => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"wirefeed\", error=\"invalid_token\"",
            "this token is not valid here\n",
        ),
        Verdict::Insufficient => (
            StatusCode::FORBIDDEN,
            "Bearer realm=\"wirefeed\", error=\"insufficient_scope\"",
            "this page needs the admin token\n",
        ),
    };
    (
        status,
        [
            (header::WWW_AUTHENTICATE, challenge),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        message,
    )
        .into_response()
}

/// Every response: no MIME sniffing, no Referer (a token in a feed's URL must not travel to
/// the outlets its links lead to); HTML pages also a strict CSP and no framing.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if is_html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    resp
}

/// Whether readers must present a token: then caches shared between users must not keep
/// what they are served.
fn private(p: &Publisher) -> bool {
    p.config().server.token.is_some()
}

/// Prometheus text exposition (OpenMetrics-compatible text, version 0.0.4 content type,
/// which every Prometheus accepts).
async fn metrics_text(State(m): State<Arc<Metrics>>) -> Response {
    let body = tokio::task::spawn_blocking(move || m.render())
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The feed and format a `/feeds/FILE` request names (`world.rss` → ("world", RSS)).
pub fn feed_file(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    Some((name, Format::from_ext(ext)?))
}

/// The page and format a `/feeds/NAME/archive/FILE` request names (`3.json` → (3, JSON)).
pub fn archive_file(file: &str) -> Option<(u32, Format)> {
    let (n, ext) = file.rsplit_once('.')?;
    Some((n.parse().ok()?, Format::from_ext(ext)?))
}

/// Runs every header decision of a feed response (for the fuzzing harness).
pub fn exercise_headers(headers: &HeaderMap) {
    let r = Rendered::new(
        "<feed/>".into(),
        Format::Atom,
        DateTime::<Utc>::UNIX_EPOCH,
        None,
    );
    std::hint::black_box(respond(&r, headers, false));
}

async fn feed(
    State(p): State<Arc<Publisher>>,
    Path(file): Path<String>,
    link: Option<Extension<LinkToken>>,
    headers: HeaderMap,
) -> Response {
    let Some((name, format)) = feed_file(&file).map(|(n, f)| (n.to_string(), f)) else {
        return (
            StatusCode::NOT_FOUND,
            "no such feed format (.atom, .rss or .json)\n",
        )
            .into_response();
    };
    // The common case, an unchanged feed, is answered from memory on the async thread; only
    // a rendering (which reads the database) goes to a blocking thread.
    let private = private(&p);
    if let Some(r) = p.cached(&name, format) {
        match &link {
            None => return respond(&r, &headers, private),
            Some(Extension(t)) => {
                if let Some(r) = p.cached_with_link_token(&r, &t.0) {
                    return respond(&r, &headers, private);
                }
            }
        }
    }
    let rendered = tokio::task::spawn_blocking(move || {
        let r = p.render(&name, format)?;
        Ok::<_, crate::store::StoreError>(match (r, link) {
            (Some(r), Some(Extension(t))) => Some(p.with_link_token(&r, &t.0)),
            (r, _) => r,
        })
    })
    .await;
    match rendered {
        Ok(Ok(Some(r))) => respond(&r, &headers, private),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such feed\n").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot render feed");
            (StatusCode::INTERNAL_SERVER_ERROR, "feed unavailable\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "render task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "feed unavailable\n").into_response()
        }
    }
}

async fn archive(
    State(p): State<Arc<Publisher>>,
    Path((name, file)): Path<(String, String)>,
    link: Option<Extension<LinkToken>>,
    headers: HeaderMap,
) -> Response {
    let Some((n, format)) = archive_file(&file) else {
        return (StatusCode::NOT_FOUND, "no such archive page\n").into_response();
    };
    let private = private(&p);
    let page = tokio::task::spawn_blocking(move || {
        let r = p.archive_page(&name, n, format)?;
        Ok::<_, crate::store::StoreError>(match (r, link) {
            (Some(r), Some(Extension(t))) => Some(p.with_link_token(&r, &t.0)),
            (r, _) => r,
        })
    });
    match page.await {
        Ok(Ok(Some(r))) => respond(&r, &headers, private),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no such archive page\n").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read archive page");
            (StatusCode::INTERNAL_SERVER_ERROR, "archive unavailable\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "archive task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "archive unavailable\n").into_response()
        }
    }
}

/// The sources as OPML, for moving subscriptions to a reader or another wirefeed.
async fn opml(State(p): State<Arc<Publisher>>) -> Response {
    let body = crate::opml::export(&p.config(), false);
    (
        [
            (header::CONTENT_TYPE, "text/x-opml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"wirefeed.opml\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// A content coding the client accepts, best first by its q-values; on a tie brotli (the
/// smallest) wins, then gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

/// Picks the coding from Accept-Encoding (RFC 9110 §12.5.3). A missing header means
/// identity; `*` stands for every coding not named.
fn negotiate(headers: &HeaderMap) -> Coding {
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

/// Whether the request is a browser navigation: its Accept names `text/html` (q > 0).
fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            it.next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html"))
                && !it.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                })
        })
}

/// The ETag of one coding of a rendering: the same hash, marked, so that each stored copy
/// has its own strong validator.
fn etag_for(r: &Rendered, coding: Coding) -> String {
    let base = r.etag.trim_matches('"');
    match coding {
        Coding::Identity => r.etag.clone(),
        Coding::Gzip => format!("\"{base}-gz\""),
        Coding::Br => format!("\"{base}-br\""),
    }
}

/// RFC 9110 §13.2.2: If-None-Match is evaluated first; If-Modified-Since only without it.
/// A tag of any coding of the current rendering matches: the client's copy is current.
fn not_modified(r: &Rendered, headers: &HeaderMap) -> bool {
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

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A feed document's response; `private` when readers need a token (then no shared cache
/// may keep it).
fn respond(r: &Rendered, headers: &HeaderMap, private: bool) -> Response {
    let coding = negotiate(headers);
    let mut h = HeaderMap::new();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag_for(r, coding)).expect("hex etag"),
    );
    h.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(&http_date(r.last_modified)).expect("ascii date"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!(
            "{}, max-age={}",
            if private { "private" } else { "public" },
            r.max_age(Utc::now())
        ))
        .expect("ascii"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if not_modified(r, headers) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    // A browser opening an Atom or RSS feed shows feed media types as raw text; as generic
    // XML it applies the feed's stylesheet and the reader sees a page. Feed readers and
    // validators do not ask for HTML and get the feed's own media type.
    let content_type = if wants_page(headers) && r.content_type.contains("+xml") {
        "application/xml; charset=utf-8"
    } else {
        r.content_type
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let body = match coding {
        Coding::Br => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            r.br.clone()
        }
        Coding::Gzip => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r.gzip.clone()
        }
        Coding::Identity => r.body.clone(),
    };
    (StatusCode::OK, h, body).into_response()
}

async fn status_page(State(p): State<Arc<Publisher>>) -> Response {
    match tokio::task::spawn_blocking(move || p.status_page()).await {
        Ok(Ok(html)) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html.as_str().to_owned(),
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot render the status page");
            (StatusCode::INTERNAL_SERVER_ERROR, "status unavailable\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "status task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "status unavailable\n").into_response()
        }
    }
}

/// The stylesheet feeds name in `<?xml-stylesheet?>`, so that a feed opened in a browser
/// reads as a page instead of raw XML.
async fn feed_xsl() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/xsl; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        super::FEED_XSL,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
    fn browsers_are_told_the_feed_is_xml_and_readers_its_own_type() {
        let accept = |v: &str| wants_page(&headers(header::ACCEPT, v));
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!accept(
            "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1"
        ));
        assert!(!accept("text/html;q=0, application/atom+xml"));
        assert!(!wants_page(&HeaderMap::new()));
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
