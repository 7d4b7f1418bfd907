//! The HTTP server: feeds with conditional GET, a status page, and a health check.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::{Publisher, Rendered};

/// The routes; `GET` routes answer `HEAD` too.
pub fn router(publisher: Arc<Publisher>) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/feeds/{file}", get(feed))
        .with_state(publisher)
}

async fn feed(
    State(p): State<Arc<Publisher>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(name) = file.strip_suffix(".atom") else {
        return (StatusCode::NOT_FOUND, "no such feed format\n").into_response();
    };
    let name = name.to_string();
    let rendered = tokio::task::spawn_blocking(move || p.atom(&name)).await;
    match rendered {
        Ok(Ok(Some(r))) => respond(&r, &headers),
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

/// RFC 9110 §13.2.2: If-None-Match is evaluated first; If-Modified-Since only without it.
fn not_modified(r: &Rendered, headers: &HeaderMap) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        // Weak comparison (§8.8.3.2): W/ prefixes are ignored.
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == r.etag.as_str());
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

fn respond(r: &Rendered, headers: &HeaderMap) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&r.etag).expect("hex etag"),
    );
    h.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(&http_date(r.last_modified)).expect("ascii date"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=60"),
    );
    if not_modified(r, headers) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    (StatusCode::OK, h, r.body.clone()).into_response()
}

async fn status_page(State(p): State<Arc<Publisher>>) -> Html<String> {
    let cfg = p.config();
    let esc = crate::clean::escape_html;
    let mut links = String::new();
    let mut items = String::new();
    for f in &cfg.feeds {
        let url = super::atom::feed_url(&cfg.server.base_url, &f.name, "atom");
        links.push_str(&format!(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}\">\n",
            esc(&f.title),
            esc(&url)
        ));
        items.push_str(&format!(
            "<li><a href=\"{}\">{}</a> ({} sources)</li>\n",
            esc(&url),
            esc(&f.title),
            f.sources.len()
        ));
    }
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wirefeed</title>\n{links}</head>\
         <body><h1>wirefeed</h1><h2>Feeds</h2><ul>\n{items}</ul></body></html>\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use chrono::TimeZone;

    fn rendered() -> Rendered {
        Rendered {
            body: Bytes::from_static(b"x"),
            content_type: "application/atom+xml; charset=utf-8",
            etag: "\"abc\"".into(),
            last_modified: Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            generation: 1,
        }
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
