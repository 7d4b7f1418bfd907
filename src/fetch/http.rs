//! One HTTP(S) fetch: redirects followed hop by hop through the SSRF guard (credentials
//! only to the source's own origin), conditional headers, and a body streamed under the
//! size cap.

use bytes::BytesMut;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use super::request::{SourceRequest, without_userinfo};
use super::{Body, FetchError, Fetched, Fetcher, Validators, caching, gunzip_if_gzipped};
use crate::redact::Redactor;

const ACCEPT: &str = "application/atom+xml, application/rss+xml, application/feed+json, \
                      application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";

pub(super) async fn fetch_http(
    f: &Fetcher,
    start: &Url,
    v: &Validators,
    request: &SourceRequest,
) -> Result<Fetched, FetchError> {
    let settings = &f.settings;
    // Credentials written into the URL itself (a caller without source settings) travel
    // like configured ones: as a header, to that origin only.
    let from_userinfo;
    let in_url = !start.username().is_empty() || start.password().is_some();
    let request = if in_url && !request.has_credentials() {
        from_userinfo = request.clone().with_userinfo_of(start);
        &from_userinfo
    } else {
        request
    };
    let client = f.client_for(request.proxy.as_ref())?;
    if let Some(proxy) = &request.proxy {
        // The proxy is a connection target like any other.
        settings.policy.check_through_proxy(proxy).await?;
    }
    let mut url = without_userinfo(start);
    let mut visited: Vec<Url> = Vec::new();
    let mut all_permanent = true;
    let resp = loop {
        if request.proxy.is_some() {
            settings.policy.check_through_proxy(&url).await?;
        } else {
            settings.policy.check_url(&url)?;
        }
        if visited.contains(&url) {
            return Err(FetchError::RedirectLoop(shown(&url)));
        }
        if visited.len() > settings.max_redirects {
            return Err(FetchError::TooManyRedirects(settings.max_redirects));
        }
        visited.push(url.clone());
        let mut req = client
            .get(url.clone())
            .header(header::ACCEPT, ACCEPT)
            .headers(request.headers_for(&url));
        // RFC 9110 §13.1.3: send both validators; a server that has ETags evaluates
        // If-None-Match and ignores If-Modified-Since, so the ETag wins.
        if let Some(etag) = &v.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &v.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req.send().await.map_err(|e| classify(f, e))?;
        let status = resp.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| FetchError::BadRedirect(format!("{status} without Location")))?;
            let next = url.join(location.trim()).map_err(|e| {
                let shown = Redactor::default().scrub(location).into_owned();
                FetchError::BadRedirect(format!("Location {shown:?}: {e}"))
            })?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(FetchError::BadRedirect(format!(
                    "to a {} URL",
                    next.scheme()
                )));
            }
            all_permanent &= matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            url = without_userinfo(&next);
            continue;
        }
        break resp;
    };
    let moved_permanently = (visited.len() > 1 && all_permanent).then(|| url.clone());
    let status = resp.status();
    let headers = resp.headers().clone();
    let validators = validators_of(&headers);
    let freshness = caching::freshness(&headers, chrono::Utc::now());
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified {
            validators,
            freshness,
            moved_permanently,
        });
    }
    if !status.is_success() {
        return Err(FetchError::Status {
            status: status.as_u16(),
            retry_after: header_str(&headers, header::RETRY_AFTER),
        });
    }
    let limit = settings.max_body;
    // Content-Length counts compressed bytes; only an uncompressed body can be refused early.
    if resp.content_length().is_some_and(|n| n > limit) && !is_compressed(&headers) {
        return Err(FetchError::TooLarge { limit });
    }
    // reqwest decompresses as it streams, so these are decompressed bytes: a gzip bomb stops
    // at the cap instead of filling memory.
    let mut body = BytesMut::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classify(f, e))?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    let content_type = header_str(&headers, header::CONTENT_TYPE);
    Ok(Fetched::Body(Body {
        bytes: gunzip_if_gzipped(body.freeze(), limit)?,
        status: status.as_u16(),
        charset: content_type.as_deref().and_then(super::charset_of),
        content_type,
        validators,
        final_url: url,
        freshness,
        moved_permanently,
    }))
}

/// How an address is named in an error: as it may be shown.
fn shown(url: &Url) -> String {
    Redactor::default()
        .public_url(url)
        .map_or_else(|| url.scheme().to_string(), String::from)
}

/// Turns a reqwest error into the cause a user can act on, digging the guard's refusal out
/// of the error chain (it surfaces through the DNS resolver). The request's URL is left out
/// of the message: it may carry credentials.
fn classify(f: &Fetcher, e: reqwest::Error) -> FetchError {
    let e = e.without_url();
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if let Some(r) = s.downcast_ref::<super::Refused>() {
            return FetchError::Refused(r.clone());
        }
        src = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout(f.settings.timeout);
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    FetchError::Connect(msg)
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn validators_of(h: &HeaderMap) -> Validators {
    Validators {
        etag: header_str(h, header::ETAG),
        last_modified: header_str(h, header::LAST_MODIFIED),
    }
}

fn is_compressed(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
}
