//! Nothing secret in public output: the one place that decides what of a source's address
//! and credentials may be shown.
//!
//! Private and paid feeds authenticate with what their address carries
//! (`https://user:pass@host/feed?key=…`), or with a password, a header or a cookie. wirefeed
//! needs those to fetch and must never show them: not in published feeds, archive pages,
//! static files, the status page, OPML, the command line's output or the log. Every such path
//! shows a source's address through [`Redactor::public_url`] (a local `file:` source shows as
//! its name instead), and every error message through [`Redactor::scrub`].
//!
//! A redactor knows secrets two ways:
//! - by **name**: query parameters named like credentials (`secret-params.txt`, data, plus
//!   `[fetch] secret_params`) are removed, and userinfo always is. This catches what the config
//!   never called secret.
//! - by **value**: what the config holds as secret (passwords, header values, cookies, the
//!   values of secret parameters, whatever reached a URL through `${ENV}`). Values are removed
//!   wherever they appear, in a path too, and scrubbed from what a publisher echoes back
//!   in its feed (a private feed that repeats our key in its links).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use url::Url;

/// What replaces a secret value found in text.
pub const REDACTED: &str = "redacted";

/// Known values shorter than this are not searched for in free text (error messages, URLs
/// in text): "ab" would match everywhere. They are still removed where they are a whole
/// query value.
const MIN_TEXT_VALUE: usize = 4;

/// Known values shorter than this are not scrubbed from entries' text: a short password
/// that happens to be a word must not cut that word out of articles. Keys and tokens are
/// long.
const MIN_CONTENT_VALUE: usize = 8;

/// A credential from the config. `Debug` and `Display` never show it, so a logged or printed
/// config cannot leak it; [`Secret::expose`] is the one way to the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it (the fetcher) or compares it (the server).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"redacted\")")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// One name pattern: exact, or with `*` at either end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamePattern {
    text: String,
    prefix: bool,
    suffix: bool,
}

impl NamePattern {
    fn parse(line: &str) -> Option<NamePattern> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let suffix = line.starts_with('*');
        let prefix = line.ends_with('*') && line.len() > 1;
        let text = normalise(line.trim_matches('*'));
        (!text.is_empty()).then_some(NamePattern {
            text,
            prefix,
            suffix,
        })
    }

    /// `name` is already normalised.
    fn matches(&self, name: &str) -> bool {
        match (self.suffix, self.prefix) {
            (false, false) => name == self.text,
            (false, true) => name.starts_with(&self.text),
            (true, false) => name.ends_with(&self.text),
            (true, true) => name.contains(&self.text),
        }
    }
}

/// Parameter names compare case-insensitively, and `api-key` is `api_key`.
fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

fn builtin() -> &'static [NamePattern] {
    static LIST: OnceLock<Vec<NamePattern>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("secret-params.txt")
            .lines()
            .filter_map(NamePattern::parse)
            .collect()
    })
}

/// Decides what of an address or a message may be shown. Cheap to clone (shared lists).
#[derive(Clone, PartialEq, Default)]
pub struct Redactor {
    /// `[fetch] secret_params`, beyond the built-in list.
    extra: Arc<[NamePattern]>,
    /// Known secret values, longest first (so a value that contains another goes whole).
    values: Arc<[String]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("extra", &self.extra)
            .field("values", &self.values.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor that also treats these parameter names (`[fetch] secret_params`, `*`
    /// allowed at either end) as secret.
    pub fn new(extra_params: &[String]) -> Redactor {
        Redactor {
            extra: extra_params
                .iter()
                .filter_map(|p| NamePattern::parse(p))
                .collect(),
            values: Arc::new([]),
        }
    }

    /// The same redactor, also knowing these secret values (empty ones are ignored).
    pub fn with_values(&self, values: impl IntoIterator<Item = String>) -> Redactor {
        let mut all: Vec<String> = self.values.iter().cloned().collect();
        all.extend(values.into_iter().filter(|v| !v.is_empty()));
        // Percent-encoded forms too: a value sent in a URL is seen encoded in echoes of it.
        let encoded: Vec<String> = all
            .iter()
            .map(|v| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>())
            .filter(|e| !all.contains(e))
            .collect();
        all.extend(encoded);
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        Redactor {
            extra: self.extra.clone(),
            values: all.into(),
        }
    }

    /// Whether a query parameter of this name carries a credential.
    pub fn is_secret_param(&self, name: &str) -> bool {
        let name = normalise(name);
        builtin()
            .iter()
            .chain(self.extra.iter())
            .any(|p| p.matches(&name))
    }

    fn is_known_value(&self, value: &str) -> bool {
        !value.is_empty() && self.values.iter().any(|v| v == value)
    }

    /// The address as it may be shown: userinfo dropped, secret parameters (by name or by
    /// value) removed, known secret values elsewhere in it replaced. `None` for anything
    /// but http(s): a local path is never shown (callers show the source's name).
    pub fn public_url(&self, url: &Url) -> Option<Url> {
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return None;
        }
        let mut out = url.clone();
        let _ = out.set_username("");
        let _ = out.set_password(None);
        if let Some(query) = url.query() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let kept: Vec<&(String, String)> = pairs
                .iter()
                .filter(|(k, v)| !self.is_secret_param(k) && !self.is_known_value(v))
                .collect();
            if kept.is_empty() {
                out.set_query(None);
            } else if kept.len() < pairs.len() {
                out.query_pairs_mut().clear().extend_pairs(kept);
            } else {
                out.set_query(Some(query));
            }
        }
        if let Cow::Owned(path) = self.replace_values(out.path(), MIN_TEXT_VALUE) {
            out.set_path(&path);
        }
        if let Some(q) = out.query()
            && let Cow::Owned(q) = self.replace_values(q, MIN_TEXT_VALUE)
        {
            out.set_query(Some(&q));
        }
        if out
            .fragment()
            .is_some_and(|f| self.replace_values(f, MIN_TEXT_VALUE) != f)
        {
            out.set_fragment(None);
        }
        Some(out)
    }

    /// [`Redactor::public_url`] of a URL given as text; `None` when it is not an http(s) URL.
    pub fn public_link(&self, link: &str) -> Option<String> {
        let url = Url::parse(link.trim()).ok()?;
        self.public_url(&url).map(String::from)
    }

    /// A message (an error, a log line) as it may be shown: every URL in it redacted (a local
    /// one replaced by "a local file") and known secret values replaced by "redacted".
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let urls = self.scrub_urls(text);
        match self.replace_values(&urls, MIN_TEXT_VALUE) {
            Cow::Borrowed(_) => urls,
            Cow::Owned(s) => Cow::Owned(s),
        }
    }

    /// Text of an entry (title, body, link) as it may be stored and published: known secret
    /// values of the source, when long enough not to be ordinary words, replaced.
    pub fn scrub_content<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.replace_values(text, MIN_CONTENT_VALUE)
    }

    /// An entry link as it may be stored: userinfo dropped, known values removed. Other
    /// parameters stay (a secret-looking name on an article link may be what finds the
    /// article; only the source's own address is judged by names).
    pub fn scrub_link(&self, link: &str) -> String {
        if self.values.is_empty() && !link.contains('@') {
            return link.to_string();
        }
        let Ok(url) = Url::parse(link) else {
            return self.scrub_content(link).into_owned();
        };
        if url.username().is_empty() && url.password().is_none() && self.values.is_empty() {
            return link.to_string();
        }
        let mut out = url.clone();
        let _ = out.set_username("");
        let _ = out.set_password(None);
        if url.query().is_some() && url.query_pairs().any(|(_, v)| self.is_known_value(&v)) {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(_, v)| !self.is_known_value(v))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if kept.is_empty() {
                out.set_query(None);
            } else {
                out.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
        let s = String::from(out);
        self.scrub_content(&s).into_owned()
    }

    fn replace_values<'a>(&self, text: &'a str, min: usize) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for v in self.values.iter().filter(|v| v.len() >= min) {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), REDACTED));
            }
        }
        out
    }

    /// Every `scheme://…` run in `text`, redacted.
    fn scrub_urls<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !text.contains("://") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("://") {
            // The scheme: the letters right before "://".
            let start = rest[..at]
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                .last()
                .map_or(at, |(i, _)| i);
            let end = rest[at..]
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
                .map_or(rest.len(), |i| at + i);
            // Sentence punctuation after a URL is not part of it.
            let token = rest[start..end].trim_end_matches(['.', ',', ';', ':', ')', ']', '}']);
            let end = start + token.len();
            out.push_str(&rest[..start]);
            match Url::parse(token) {
                Ok(u) if u.scheme() == "file" => out.push_str("a local file"),
                Ok(u) => match self.public_url(&u) {
                    Some(p) => out.push_str(p.as_str()),
                    None => {
                        let mut u = u;
                        let _ = u.set_username("");
                        let _ = u.set_password(None);
                        out.push_str(u.as_str());
                    }
                },
                // Not a URL after all; keep it, minus anything that looks like userinfo.
                Err(_) => match token.split_once('@') {
                    Some((_, host)) if start < at => {
                        out.push_str(&token[..at - start + 3]);
                        out.push_str(host);
                    }
                    _ => out.push_str(token),
                },
            }
            if end == start && end < rest.len() {
                // Nothing consumed (no scheme letters): step over "://".
                out.push_str(&rest[start..at + 3]);
                rest = &rest[at + 3..];
                continue;
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests;
