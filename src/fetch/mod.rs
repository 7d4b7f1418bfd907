//! Getting a feed's bytes: HTTP(S) through one shared client, or a local file.
//!
//! The fetcher never parses. It returns the body with the HTTP facts later stages need
//! (charset, validators, status) or a typed [`FetchError`]. One `reqwest::Client` is shared by
//! every fetch so connections and TLS sessions are reused across sources on the same host.
//! Bodies are streamed and counted after decompression, so a gzip bomb stops at the cap.

mod file;
pub mod guard;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use guard::{GuardPolicy, GuardedResolver, Refused};

/// Everything that shapes how the fetcher behaves on the network.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Whole-request limit (connect, headers and body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Cap on the decompressed body.
    pub max_body: u64,
    pub user_agent: String,
    pub policy: GuardPolicy,
    pub max_redirects: usize,
}

impl FetchSettings {
    /// Settings from the config's `[fetch]` table; the User-Agent names wirefeed and the
    /// instance's public address, so publishers can see who polls them.
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        FetchSettings {
            timeout: cfg.fetch.timeout,
            connect_timeout: cfg.fetch.timeout.min(Duration::from_secs(10)),
            max_body: cfg.fetch.max_body,
            user_agent: format!(
                "wirefeed/{} (+{})",
                env!("CARGO_PKG_VERSION"),
                cfg.server.base_url
            ),
            policy: GuardPolicy {
                allow_private: cfg.fetch.allow_private,
                allow_hosts: cfg.fetch.allow_hosts.clone(),
            },
            max_redirects: 10,
        }
    }
}

/// Validators from the previous successful fetch (RFC 9110 §13.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched body and the response facts that matter downstream.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub status: u16,
    /// The `charset` parameter of Content-Type, if any.
    pub charset: Option<String>,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// Where the body actually came from, after redirects.
    pub final_url: Url,
}

/// The result of a successful request.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: what we have is current. Carries refreshed validators, if the server sent any.
    NotModified {
        validators: Validators,
    },
    Body(Body),
}

/// Why a fetch failed. `Display` is the one-line cause shown to users.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("body larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// The raw `Retry-After` value, for the scheduler.
        retry_after: Option<String>,
    },
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    #[error("redirect loop at {0}")]
    RedirectLoop(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("{path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unsupported URL scheme {0:?}")]
    Scheme(String),
    #[error("cannot build HTTP client: {0}")]
    Client(String),
}

/// Marks redirect-policy refusals so they can be told apart from transport errors.
#[derive(Debug, thiserror::Error)]
enum RedirectProblem {
    #[error("too many redirects")]
    TooMany(usize),
    #[error("redirect loop")]
    Loop(String),
}

/// The shared fetcher.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: Arc<FetchSettings>,
}

impl Fetcher {
    /// Builds the shared HTTP client.
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        install_crypto_provider();
        let policy = Arc::new(settings.policy.clone());
        let redirect_policy = policy.clone();
        let max = settings.max_redirects;
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max {
                    return attempt.error(RedirectProblem::TooMany(max));
                }
                if attempt.previous().contains(attempt.url()) {
                    let u = attempt.url().to_string();
                    return attempt.error(RedirectProblem::Loop(u));
                }
                if let Err(refused) = redirect_policy.check_url(attempt.url()) {
                    return attempt.error(refused);
                }
                attempt.follow()
            }))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            settings: Arc::new(settings),
        })
    }

    /// Fetches `url`, conditionally when validators are given.
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        match url.scheme() {
            "http" | "https" => self.fetch_http(url, validators).await,
            "file" => file::fetch_file(url, validators, self.settings.max_body).await,
            other => Err(FetchError::Scheme(other.to_string())),
        }
    }

    async fn fetch_http(&self, url: &Url, v: &Validators) -> Result<Fetched, FetchError> {
        self.settings.policy.check_url(url)?;
        let mut req = self.client.get(url.clone()).header(
            header::ACCEPT,
            "application/atom+xml, application/rss+xml, application/feed+json, \
             application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
        );
        // RFC 9110 §13.1.3: send both; a server that knows ETags evaluates If-None-Match.
        if let Some(etag) = &v.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &v.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req.send().await.map_err(|e| self.classify(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let validators = validators_of(&headers);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { validators });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: header_str(&headers, header::RETRY_AFTER),
            });
        }
        let limit = self.settings.max_body;
        if resp.content_length().is_some_and(|n| n > limit) && !is_compressed(&headers) {
            return Err(FetchError::TooLarge { limit });
        }
        let final_url = resp.url().clone();
        let mut body = BytesMut::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.classify(e))?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = header_str(&headers, header::CONTENT_TYPE);
        Ok(Fetched::Body(Body {
            bytes: gunzip_if_gzipped(body.freeze(), limit)?,
            status: status.as_u16(),
            charset: content_type.as_deref().and_then(charset_of),
            content_type,
            validators,
            final_url,
        }))
    }

    /// Turns a reqwest error into the cause a user can act on, digging out our own guard and
    /// redirect refusals from the error chain.
    fn classify(&self, e: reqwest::Error) -> FetchError {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if let Some(r) = s.downcast_ref::<Refused>() {
                return FetchError::Refused(r.clone());
            }
            if let Some(r) = s.downcast_ref::<RedirectProblem>() {
                return match r {
                    RedirectProblem::TooMany(n) => FetchError::TooManyRedirects(*n),
                    RedirectProblem::Loop(u) => FetchError::RedirectLoop(u.clone()),
                };
            }
            src = s.source();
        }
        if e.is_timeout() {
            return FetchError::Timeout(self.settings.timeout);
        }
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg = format!("{msg}: {s}");
            src = s.source();
        }
        FetchError::Connect(msg)
    }
}

/// Some servers send `.xml.gz` files (or gzip twice) without a Content-Encoding header; the
/// gzip magic bytes say what the headers did not. The same cap applies to what comes out.
pub(crate) fn gunzip_if_gzipped(bytes: Bytes, limit: u64) -> Result<Bytes, FetchError> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(&bytes[..]).take(limit + 1);
    match dec.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(FetchError::TooLarge { limit }),
        Ok(_) => Ok(Bytes::from(out)),
        // Not really gzip after all: hand the bytes on unchanged and let parsing judge them.
        Err(_) => Ok(bytes),
    }
}

fn install_crypto_provider() {
    // reqwest is built without a default TLS provider (ring compiles much faster than aws-lc);
    // install ring once per process. A second call fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
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

/// The charset parameter of a Content-Type value.
pub fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_bodies_without_content_encoding_are_unpacked_within_the_cap() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b'a'; 10_000]).unwrap();
        let gz = Bytes::from(enc.finish().unwrap());
        assert_eq!(gunzip_if_gzipped(gz.clone(), 10_000).unwrap().len(), 10_000);
        assert!(matches!(
            gunzip_if_gzipped(gz, 9_999),
            Err(FetchError::TooLarge { .. })
        ));
        let plain = Bytes::from_static(b"<rss/>");
        assert_eq!(gunzip_if_gzipped(plain.clone(), 10).unwrap(), plain);
    }

    #[test]
    fn charset_is_read_from_content_type() {
        assert_eq!(
            charset_of("text/xml; charset=ISO-8859-1").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(
            charset_of("application/rss+xml;charset=\"utf-8\"").as_deref(),
            Some("utf-8")
        );
        assert_eq!(charset_of("application/rss+xml"), None);
    }
}
