//! How one source is asked for: the credentials it needs, who wirefeed says it is, and the
//! proxy in between.
//!
//! Credentials (basic auth, configured headers, the cookie) belong to the origin — scheme,
//! host and port — of the source's configured address and go nowhere else: a redirect to
//! another host, port or scheme is followed without them, as curl does (and as a permanent
//! move to another origin is fetched from then on).

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::{Origin, Url};

use crate::redact::Secret;

/// How one source is asked for. Credentials are sent only to the origin (scheme, host,
/// port) of the source's configured address, never to a redirect's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceAccess {
    /// Basic authentication (RFC 7617), from `username`/`password` or the URL's userinfo.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Extra request headers (`headers`, `headers_file`), e.g. `Authorization: Bearer …`.
    pub headers: Vec<(String, Secret)>,
    /// A `Cookie` header value.
    pub cookie: Option<Secret>,
    /// This source's User-Agent, overriding `[fetch] user_agent`.
    pub user_agent: Option<String>,
    /// The proxy this source is fetched through: its own, else `[fetch] proxy`; `None`
    /// connects directly.
    pub proxy: Option<Url>,
}

impl SourceAccess {
    /// Whether any credential is configured (basic auth, a header, a cookie).
    pub fn has_credentials(&self) -> bool {
        self.username.is_some()
            || self.password.is_some()
            || !self.headers.is_empty()
            || self.cookie.is_some()
    }
}

/// What one source's requests carry beyond the shared client's defaults.
#[derive(Clone, Default)]
pub struct SourceRequest {
    /// Where the credentials may go; `None`: nowhere (there are none).
    origin: Option<Origin>,
    /// `Authorization: Basic …`, ready to send.
    basic: Option<HeaderValue>,
    /// Configured headers and the cookie.
    credentials: HeaderMap,
    /// This source's User-Agent, overriding the client's.
    user_agent: Option<HeaderValue>,
    /// The proxy to go through; `None` connects directly.
    pub(super) proxy: Option<Url>,
}

impl std::fmt::Debug for SourceRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRequest")
            .field("origin", &self.origin)
            .field("basic", &self.basic.is_some())
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy.as_ref().map(|p| p.host_str()))
            .finish()
    }
}

impl SourceRequest {
    /// The requests of a source configured at `url` with these settings. Values were
    /// validated with the config; one that still does not make a header is left out.
    pub fn new(url: &Url, access: &SourceAccess) -> SourceRequest {
        let basic = access.username.as_ref().and_then(|user| {
            use headers::HeaderMapExt;
            let mut m = HeaderMap::new();
            m.typed_insert(headers::Authorization::basic(
                user,
                access.password.as_ref().map_or("", |p| p.expose()),
            ));
            let mut v = m.remove(header::AUTHORIZATION)?;
            v.set_sensitive(true);
            Some(v)
        });
        let mut credentials = HeaderMap::new();
        for (name, value) in &access.headers {
            if let (Ok(n), Ok(mut v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.expose()),
            ) {
                v.set_sensitive(true);
                credentials.append(n, v);
            }
        }
        if let Some(Ok(mut v)) = access
            .cookie
            .as_ref()
            .map(|c| HeaderValue::from_str(c.expose()))
        {
            v.set_sensitive(true);
            credentials.insert(header::COOKIE, v);
        }
        let has_credentials = basic.is_some() || !credentials.is_empty();
        SourceRequest {
            origin: has_credentials.then(|| url.origin()),
            basic,
            credentials,
            user_agent: access
                .user_agent
                .as_deref()
                .and_then(|u| HeaderValue::from_str(u).ok()),
            proxy: access.proxy.clone(),
        }
    }

    /// Whether any credential is configured.
    pub fn has_credentials(&self) -> bool {
        self.origin.is_some()
    }

    /// The same settings with basic authentication from `url`'s userinfo, for its origin.
    pub(super) fn with_userinfo_of(mut self, url: &Url) -> SourceRequest {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let access = SourceAccess {
            username: Some(decode(url.username())),
            password: url.password().map(|p| Secret::new(decode(p))),
            ..Default::default()
        };
        self.basic = SourceRequest::new(url, &access).basic;
        self.origin = Some(url.origin());
        self
    }

    /// Whether credentials may be sent to `url`: same scheme, host and port as the source.
    pub fn sends_credentials_to(&self, url: &Url) -> bool {
        self.origin.as_ref().is_some_and(|o| *o == url.origin())
    }

    /// The headers of a request to `url`: credentials only for the source's own origin.
    pub(super) fn headers_for(&self, url: &Url) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ua) = &self.user_agent {
            h.insert(header::USER_AGENT, ua.clone());
        }
        if self.sends_credentials_to(url) {
            if let Some(b) = &self.basic {
                h.insert(header::AUTHORIZATION, b.clone());
            }
            for (name, value) in &self.credentials {
                h.append(name.clone(), value.clone());
            }
        }
        h
    }
}

/// The address a request goes to: never with userinfo (credentials travel as headers, and
/// only to their origin).
pub(super) fn without_userinfo(url: &Url) -> Url {
    if url.username().is_empty() && url.password().is_none() {
        return url.clone();
    }
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> SourceAccess {
        SourceAccess {
            username: Some("me".into()),
            password: Some(Secret::new("pw")),
            headers: vec![("X-Api-Key".into(), Secret::new("k"))],
            cookie: Some(Secret::new("s=1")),
            user_agent: Some("agent/1".into()),
            proxy: None,
        }
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn credentials_go_only_to_the_configured_origin() {
        let r = SourceRequest::new(&u("https://feeds.example/private"), &access());
        let same = r.headers_for(&u("https://feeds.example/elsewhere?x=1"));
        assert_eq!(same[header::AUTHORIZATION], "Basic bWU6cHc=");
        assert_eq!(same["x-api-key"], "k");
        assert_eq!(same[header::COOKIE], "s=1");
        assert_eq!(same[header::USER_AGENT], "agent/1");
        for other in [
            "https://cdn.example/private",
            "https://feeds.example:8443/private",
            "http://feeds.example/private",
            "https://sub.feeds.example/private",
        ] {
            let h = r.headers_for(&u(other));
            assert!(h.get(header::AUTHORIZATION).is_none(), "{other}");
            assert!(h.get("x-api-key").is_none(), "{other}");
            assert!(h.get(header::COOKIE).is_none(), "{other}");
            assert_eq!(h[header::USER_AGENT], "agent/1", "{other}");
        }
        // The default port is the same origin as the explicit one.
        assert!(r.sends_credentials_to(&u("https://feeds.example:443/x")));
    }

    #[test]
    fn a_source_without_credentials_sends_none_and_urls_lose_userinfo() {
        let r = SourceRequest::new(&u("https://a.example/"), &SourceAccess::default());
        assert!(r.headers_for(&u("https://a.example/")).is_empty());
        assert_eq!(
            without_userinfo(&u("https://me:pw@a.example/f?k=1")).as_str(),
            "https://a.example/f?k=1"
        );
        assert!(
            !format!(
                "{:?}",
                SourceRequest::new(&u("https://a.example/"), &access())
            )
            .contains("pw")
        );
    }
}
