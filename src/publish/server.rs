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
use super::negotiate::{Coding, etag_for, negotiate, not_modified, prefers_html};
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

/// The routes; `GET` routes answer `HEAD` too. Feeds, their web pages (`/feeds/NAME.html`,
/// or any feed address asked for by a browser) and archive pages need the reader token when
/// one is set, the status page, `/opml` and `/metrics` the admin token; `/healthz` is
/// always open.
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
    std::hint::black_box(prefers_html(headers));
}

/// What a `/feeds/…` request asks for: the feed in a format, or its web page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Feed(Format),
    /// The page, naming this format's address to subscribe to.
    Page(Format),
}

async fn feed(
    State(p): State<Arc<Publisher>>,
    Path(file): Path<String>,
    link: Option<Extension<LinkToken>>,
    headers: HeaderMap,
) -> Response {
    let asked = match file.rsplit_once('.') {
        Some((name, "html")) => Some((name.to_string(), Asked::Page(Format::Atom))),
        _ => feed_file(&file).map(|(n, f)| {
            let asked = if prefers_html(&headers) {
                Asked::Page(f)
            } else {
                Asked::Feed(f)
            };
            (n.to_string(), asked)
        }),
    };
    let Some((name, asked)) = asked else {
        return (
            StatusCode::NOT_FOUND,
            "no such feed format (.atom, .rss, .json, or .html for the web page)\n",
        )
            .into_response();
    };
    // The common case, an unchanged feed, is answered from memory on the async thread; only
    // a rendering (which reads the database) goes to a blocking thread.
    let private = private(&p);
    let cached = match asked {
        Asked::Feed(f) => p.serve(&name, f),
        Asked::Page(f) => p.serve_page(&name, f),
    };
    if let Some(r) = cached {
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
        // What is served now (a token's copy of it is made here), else a first rendering.
        let r = match asked {
            Asked::Feed(f) => p
                .serve(&name, f)
                .map_or_else(|| p.render(&name, f), |r| Ok(Some(r)))?,
            Asked::Page(f) => p
                .serve_page(&name, f)
                .map_or_else(|| p.html_view(&name, f), |r| Ok(Some(r)))?,
        };
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
    let page = prefers_html(&headers);
    let page = tokio::task::spawn_blocking(move || {
        let r = if page {
            p.archive_html(&name, n, format)?
        } else {
            p.archive_page(&name, n, format)?
        };
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
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
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

async fn status_page(State(p): State<Arc<Publisher>>, uri: axum::http::Uri) -> Response {
    let view = super::status::StatusView::from_query(uri.query());
    // The snapshot is answered here; only a rendering goes to a blocking thread (whose pool
    // a busy ingest keeps full).
    let page = match p.status_snapshot(&view) {
        Some(html) => Ok(Ok(html)),
        None => tokio::task::spawn_blocking(move || p.status_page(&view)).await,
    };
    match page {
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
