//! Credentials in the config: what wirefeed sends to private sources (basic auth, headers, a
//! cookie, its user agent, the proxy it goes through) and the tokens it asks of its own
//! readers. Secrets may sit in the file, in a file of their own (`password_file`,
//! `headers_file`, `token_file`; relative to the config's folder), or in the environment
//! (`${NAME}`, see `interpolate`). Each source also gets its [`Redactor`]: everything secret
//! about it, so that nothing of it is ever shown.

use std::path::Path;

use reqwest::header::{HeaderName, HeaderValue};
use toml::Spanned;
use url::Url;

use super::diagnostics::{Diagnostic, Locator};
use super::raw::{Ctx, RawSource, span_of};
use super::{FetchConfig, Secret, SourceAccess};
use crate::redact::Redactor;

/// Headers a user may not set: they frame the HTTP message or route it, and a wrong value
/// breaks every request rather than authenticating one.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "expect",
];

/// A source's access settings and its redactor, validated.
pub(super) fn source_access(
    raw: &RawSource,
    url: &Url,
    fetch: &FetchConfig,
    ctx: &Ctx<'_>,
    problems: &mut Vec<Diagnostic>,
) -> (SourceAccess, Redactor) {
    let loc = ctx.loc;
    let mut access = SourceAccess::default();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let in_url = !url.username().is_empty() || url.password().is_some();
    if in_url {
        access.username = Some(decode(url.username()));
        access.password = url.password().map(|p| Secret::new(decode(p)));
        if let Some(k) = raw
            .username
            .as_ref()
            .or(raw.password.as_ref())
            .or(raw.password_file.as_ref())
        {
            problems.push(
                loc.at(
                    span_of(k),
                    "credentials are given both in the URL (user:password@) and as \
                 username/password: keep one"
                        .into(),
                ),
            );
        }
    } else {
        access.username = raw.username.as_ref().map(|u| u.get_ref().clone());
        if let Some(u) = raw.username.as_ref().filter(|u| u.get_ref().contains(':')) {
            problems.push(loc.at(
                span_of(u),
                "a username cannot contain ':' (basic authentication joins user:password)".into(),
            ));
        }
        access.password = match (&raw.password, &raw.password_file) {
            (Some(_), Some(f)) => {
                problems.push(loc.at(
                    span_of(f),
                    "give password or password_file, not both".into(),
                ));
                None
            }
            (Some(p), None) => Some(Secret::new(p.get_ref().clone())),
            (None, Some(f)) => read_secret_file("password_file", f, ctx.base_dir, loc, problems)
                .map(|p| Secret::new(p.trim_end_matches(['\r', '\n']).to_string())),
            (None, None) => None,
        };
        if access.password.is_some() && access.username.is_none() {
            let at = raw.password.as_ref().or(raw.password_file.as_ref());
            problems.push(loc.at(
                at.and_then(span_of),
                "a password needs a username (basic authentication)".into(),
            ));
        }
    }
    access.headers = headers(raw, ctx, problems);
    if access.username.is_some()
        && access
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    {
        let at = raw
            .headers
            .as_ref()
            .and_then(span_of)
            .or_else(|| raw.headers_file.as_ref().and_then(span_of));
        problems.push(loc.at(
            at,
            "an Authorization header is also given by username/password: keep one".into(),
        ));
    }
    if let Some(c) = &raw.cookie
        && header_value("cookie", c, loc, problems).is_some()
    {
        if access
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        {
            problems.push(loc.at(
                span_of(c),
                "a Cookie header is also given in headers: keep one".into(),
            ));
        }
        access.cookie = Some(Secret::new(c.get_ref().clone()));
    }
    access.user_agent = raw
        .user_agent
        .as_ref()
        .and_then(|u| user_agent(u, loc, problems));
    access.proxy = match &raw.proxy {
        Some(p) => proxy(p, loc, problems).flatten(),
        None => fetch.proxy.clone(),
    };
    if url.scheme() == "file" {
        let http_only = [
            ("username", &raw.username),
            ("password", &raw.password),
            ("password_file", &raw.password_file),
            ("headers_file", &raw.headers_file),
            ("cookie", &raw.cookie),
            ("user_agent", &raw.user_agent),
            ("proxy", &raw.proxy),
        ];
        for (key, value) in http_only {
            if let Some(v) = value {
                problems.push(loc.at(span_of(v), format!("{key} has no effect on a file: source")));
            }
        }
        if let Some(h) = &raw.headers {
            problems.push(loc.at(
                span_of(h),
                "headers have no effect on a file: source".into(),
            ));
        }
    }
    let redactor = Redactor::new(&fetch.secret_params);
    let values = secret_values(&access, url, &redactor, ctx.substituted.at(&raw.url.span()));
    (access, redactor.with_values(values))
}

/// Everything about a source that must never be shown, as values: what the redactor
/// searches for beyond parameter names.
fn secret_values(
    access: &SourceAccess,
    url: &Url,
    redactor: &Redactor,
    interpolated: &[String],
) -> Vec<String> {
    let mut values = Vec::new();
    if let Some(p) = &access.password {
        values.push(p.expose().to_string());
    }
    for (_, v) in &access.headers {
        values.push(v.expose().to_string());
        // The credential after an auth scheme ("Bearer abc…") is what a server may echo.
        if let Some((_, credential)) = v.expose().split_once(' ') {
            values.push(credential.trim().to_string());
        }
    }
    if let Some(c) = &access.cookie {
        values.push(c.expose().to_string());
        values.extend(
            c.expose()
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .map(|(_, v)| v.trim().to_string()),
        );
    }
    if let Some(p) = access.proxy.as_ref().and_then(Url::password) {
        values.push(p.to_string());
    }
    values.extend(
        url.query_pairs()
            .filter(|(k, _)| redactor.is_secret_param(k))
            .map(|(_, v)| v.into_owned()),
    );
    // A value from the environment in the path or query is there because it is secret (a
    // token in the path of a private podcast feed); one in the host name is not.
    let host = url.host_str().unwrap_or_default();
    values.extend(
        interpolated
            .iter()
            .filter(|v| v.len() >= 4 && !host.contains(v.as_str()))
            .cloned(),
    );
    values
}

/// `headers` and `headers_file`, merged; each name once.
fn headers(
    raw: &RawSource,
    ctx: &Ctx<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<(String, Secret)> {
    let loc = ctx.loc;
    let mut out: Vec<(String, Secret)> = Vec::new();
    let mut add = |name: &str,
                   value: &str,
                   at: Option<std::ops::Range<usize>>,
                   problems: &mut Vec<Diagnostic>| {
        let problem = if HeaderName::from_bytes(name.as_bytes()).is_err() {
            Some(format!("{name:?} is not a header name"))
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            Some(format!(
                "header {name} cannot be set (it frames the request)"
            ))
        } else if HeaderValue::from_str(value).is_err() {
            Some(format!(
                "the value of header {name} has a line break or control character"
            ))
        } else if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(format!("header {name} is given twice"))
        } else {
            None
        };
        match problem {
            Some(p) => problems.push(loc.at(at, p)),
            None => out.push((name.to_string(), Secret::new(value))),
        }
    };
    if let Some(h) = &raw.headers {
        for (name, value) in h.get_ref() {
            add(name, value.get_ref(), span_of(value), problems);
        }
    }
    if let Some(f) = &raw.headers_file
        && let Some(text) = read_secret_file("headers_file", f, ctx.base_dir, loc, problems)
    {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((name, value)) => add(name.trim(), value.trim(), span_of(f), problems),
                None => problems.push(loc.at(
                    span_of(f),
                    format!(
                        "headers_file {:?} line {}: expected `Name: value`",
                        f.get_ref(),
                        i + 1
                    ),
                )),
            }
        }
    }
    out
}

/// A secret read from its own file (relative to the config's folder).
fn read_secret_file(
    key: &str,
    path: &Spanned<String>,
    base_dir: &Path,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Option<String> {
    let full = base_dir.join(path.get_ref());
    match std::fs::read_to_string(&full) {
        Ok(text) if text.trim().is_empty() => {
            problems.push(loc.at(span_of(path), format!("{key} {} is empty", full.display())));
            None
        }
        Ok(text) => Some(text),
        Err(e) => {
            problems.push(loc.at(
                span_of(path),
                format!("cannot read {key} {}: {e}", full.display()),
            ));
            None
        }
    }
}

/// `[server] token` / `admin_token`, from the file or its `_file`.
pub(super) fn token(
    key: &str,
    value: Option<&Spanned<String>>,
    file: Option<&Spanned<String>>,
    ctx: &Ctx<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Secret> {
    let loc = ctx.loc;
    let (text, at) = match (value, file) {
        (Some(_), Some(f)) => {
            problems.push(loc.at(span_of(f), format!("give {key} or {key}_file, not both")));
            return None;
        }
        (Some(v), None) => (v.get_ref().clone(), v),
        (None, Some(f)) => (
            read_secret_file(&format!("{key}_file"), f, ctx.base_dir, loc, problems)?
                .trim()
                .to_string(),
            f,
        ),
        (None, None) => return None,
    };
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_graphic()) {
        problems.push(loc.at(
            span_of(at),
            format!(
                "{key} must be printable ASCII without spaces (e.g. from `openssl rand -hex 32`)"
            ),
        ));
        return None;
    }
    Some(Secret::new(text))
}

/// `[fetch] secret_params`: parameter names, `*` allowed at either end.
pub(super) fn secret_params(
    list: &[Spanned<String>],
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut out = Vec::new();
    for p in list {
        let core = p.get_ref().trim().trim_matches('*');
        if core.is_empty()
            || core.contains(['*', '=', '&', '?', '#'])
            || core.contains(char::is_whitespace)
        {
            problems.push(loc.at(
                span_of(p),
                format!(
                    "secret_params entry {:?} is not a query parameter name (`*` is allowed at either end)",
                    p.get_ref()
                ),
            ));
        } else {
            out.push(p.get_ref().trim().to_string());
        }
    }
    out
}

/// A User-Agent value.
pub(super) fn user_agent(
    u: &Spanned<String>,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Option<String> {
    if u.get_ref().trim().is_empty() {
        problems.push(loc.at(span_of(u), "user_agent must not be empty".into()));
        return None;
    }
    header_value("user_agent", u, loc, problems).map(|_| u.get_ref().trim().to_string())
}

fn header_value(
    key: &str,
    v: &Spanned<String>,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Option<HeaderValue> {
    match HeaderValue::from_str(v.get_ref()) {
        Ok(h) => Some(h),
        Err(_) => {
            problems.push(loc.at(
                span_of(v),
                format!("{key} has a line break or control character"),
            ));
            None
        }
    }
}

/// A proxy: `http://[user:pass@]host:port` or `https://…`; `"none"` (a source's own setting)
/// connects directly. `None` when invalid, `Some(None)` for direct.
pub(super) fn proxy(
    p: &Spanned<String>,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Option<Option<Url>> {
    let text = p.get_ref().trim();
    if text.eq_ignore_ascii_case("none") {
        return Some(None);
    }
    let problem = match Url::parse(text) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => format!(
            "proxy scheme {:?} is not supported (use an http:// or https:// proxy)",
            u.scheme()
        ),
        Ok(u) if !u.has_host() => "proxy has no host".into(),
        Ok(u) if u.path() != "/" || u.query().is_some() || u.fragment().is_some() => {
            "a proxy is a scheme, host and port only (e.g. \"http://127.0.0.1:3128\")".into()
        }
        Ok(u) => return Some(Some(u)),
        Err(e) => format!("proxy is not a URL ({e}); e.g. \"http://127.0.0.1:3128\""),
    };
    problems.push(loc.at(span_of(p), problem));
    None
}
