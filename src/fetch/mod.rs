//! Getting a feed's bytes: HTTP(S) through one shared client, or a local file.
//!
//! The fetcher never parses. It returns the body with the HTTP facts later stages need
//! (charset, validators, status) or a typed [`FetchError`]. One `reqwest::Client` is shared by
//! every fetch so connections and TLS sessions are reused across sources on the same host.
//! Bodies are streamed and counted after decompression, so a gzip bomb stops at the cap.

pub mod caching;
mod file;
pub mod guard;
mod http;
pub mod politeness;
pub mod request;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use guard::{GuardPolicy, GuardedResolver, Refused};
pub use request::{SourceAccess, SourceRequest};

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

/// `wirefeed/VERSION`.
pub fn default_user_agent() -> String {
    format!("wirefeed/{}", env!("CARGO_PKG_VERSION"))
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
    /// The response's freshness lifetime (max-age / Expires): a floor on the next poll.
    pub freshness: Option<Duration>,
    /// Set when every redirect hop was permanent (301/308): where the feed now lives.
    pub moved_permanently: Option<Url>,
}

/// The result of a successful request.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: what we have is current. Carries refreshed validators, if the server sent any.
    NotModified {
        validators: Validators,
        freshness: Option<Duration>,
        moved_permanently: Option<Url>,
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
    #[error("bad redirect: {0}")]
    BadRedirect(String),
    #[error("connection failed: {0}")]
    Connect(String),
    /// Only the file's name is in the message, never its folders: the message is shown on
    /// the status page and logged.
    #[error("cannot read {name}: {source}")]
    File {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unsupported URL scheme {0:?}")]
    Scheme(String),
    #[error("cannot build HTTP client: {0}")]
    Client(String),
}

/// The shared fetcher.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    /// One client per configured proxy, made on first use (reqwest sets proxies per client);
    /// a std mutex: held only to look up or insert, never across an `.await`.
    proxied: Arc<Mutex<HashMap<Url, reqwest::Client>>>,
    settings: Arc<FetchSettings>,
}

impl Fetcher {
    /// Builds the shared HTTP client. Redirects are followed by [`http`], hop by hop, so that
    /// each hop passes the SSRF guard and permanent moves can be told from temporary ones.
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        install_crypto_provider();
        Ok(Fetcher {
            client: build_client(&settings, None)?,
            proxied: Arc::default(),
            settings: Arc::new(settings),
        })
    }

    /// The client for requests through `proxy` (or direct).
    fn client_for(&self, proxy: Option<&Url>) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = proxy else {
            return Ok(self.client.clone());
        };
        let mut clients = self.proxied.lock().expect("proxy clients lock");
        if let Some(c) = clients.get(proxy) {
            return Ok(c.clone());
        }
        let c = build_client(&self.settings, Some(proxy))?;
        clients.insert(proxy.clone(), c.clone());
        Ok(c)
    }

    /// Fetches `url` as a request without source settings (see [`Fetcher::fetch_as`]).
    pub async fn fetch(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        self.fetch_as(url, validators, &SourceRequest::default())
            .await
    }

    /// Fetches `url` for a source, with its credentials (to its own origin only), user agent
    /// and proxy; conditionally when validators are given. The whole fetch, redirects and
    /// body included, is bounded by the configured timeout.
    pub async fn fetch_as(
        &self,
        url: &Url,
        validators: &Validators,
        request: &SourceRequest,
    ) -> Result<Fetched, FetchError> {
        match url.scheme() {
            "http" | "https" => {
                let limit = self.settings.timeout;
                let fetch = http::fetch_http(self, url, validators, request);
                tokio::time::timeout(limit, fetch)
                    .await
                    .unwrap_or(Err(FetchError::Timeout(limit)))
            }
            "file" => {
                // A FIFO or a hung network mount must not hold the source for ever.
                let limit = self.settings.timeout;
                let read = file::fetch_file(url, validators, self.settings.max_body);
                tokio::time::timeout(limit, read)
                    .await
                    .unwrap_or(Err(FetchError::Timeout(limit)))
            }
            other => Err(FetchError::Scheme(other.to_string())),
        }
    }
}

/// The shared client's settings, through `proxy` when given. Redirects are off (followed
/// hop by hop by [`http`]) and proxies from the environment are ignored: they would carry
/// requests past the SSRF guard, which would see only the proxy's address.
fn build_client(
    settings: &FetchSettings,
    proxy: Option<&Url>,
) -> Result<reqwest::Client, FetchError> {
    let policy = Arc::new(settings.policy.clone());
    let mut builder = reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout)
        .dns_resolver(Arc::new(GuardedResolver { policy }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(p) = proxy {
        let p = reqwest::Proxy::all(p.as_str())
            .map_err(|e| FetchError::Client(format!("proxy: {}", e.without_url())))?;
        builder = builder.proxy(p);
    }
    builder
        .build()
        .map_err(|e| FetchError::Client(e.without_url().to_string()))
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
