//! The TOML configuration: typed structs with defaults, and validation that reports every
//! problem at once, each as `file:line:col: message`.
//!
//! Loading happens in three passes over one parse: syntax (the `toml` parser, with spans),
//! shape (serde into `raw` structs, recording keys it did not expect instead of failing on the
//! first), and meaning (URLs, cron expressions, names, cross-references). All problems found
//! are returned together, so a user fixes a file in one round.

mod access;
mod diagnostics;
pub mod edit;
mod interpolate;
mod raw;
mod warnings;
pub mod watch;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use url::Url;

pub use diagnostics::{ConfigError, Diagnostic};

pub use crate::fetch::SourceAccess;
use crate::redact::Redactor;
pub use crate::redact::Secret;
use crate::schedule::{CronSchedule, HintBounds};
use diagnostics::Locator;

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this came from; relative paths inside it are resolved against its folder.
    pub path: PathBuf,
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub fetch: FetchConfig,
    pub clean: CleanConfig,
    pub dedup: DedupSettings,
    pub publish: PublishConfig,
    /// `[log] level`: a tracing filter ("info", "warn,wirefeed=debug"); `RUST_LOG` wins.
    pub log_level: Option<String>,
    pub sources: Vec<SourceConfig>,
    pub feeds: Vec<FeedConfig>,
    /// Things that work but are probably not what the user wants (a private source served
    /// to the network without a token, a world-readable file holding passwords): `check`
    /// prints them, the daemon logs them at start. Never fatal.
    pub warnings: Vec<Diagnostic>,
}

/// Publishing beyond the HTTP server: static files and WebSub.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublishConfig {
    /// A folder that gets every feed file and archive page (written atomically when they
    /// change), for serving by nginx or any web server.
    pub dir: Option<PathBuf>,
    /// A WebSub hub: feeds name it (`rel="hub"`) and it is pinged when a feed changes.
    pub websub_hub: Option<Url>,
}

/// Where the HTTP server listens, how it names itself in published feeds, and who may read.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Absolute, ends with `/`; feed self links and ids are built on it.
    pub base_url: Url,
    /// `[server] token` / `token_file`: when set, feeds and archive pages are served only to
    /// requests that present it (`?token=` or `Authorization: Bearer`).
    pub token: Option<Secret>,
    /// `[server] admin_token` / `admin_token_file`: when set, the status page, `/opml` and
    /// `/metrics` need it (the reader token is not enough there).
    pub admin_token: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StorageConfig {
    /// Absolute path of the SQLite database.
    pub database: PathBuf,
    /// Entries dated longer ago than this are deleted (`keep = "90d"`); none when unset.
    pub keep: Option<Duration>,
    /// At most this many entries per source are kept, the newest.
    pub max_per_source: Option<usize>,
    /// `cache_mb`: MiB of SQLite page cache of the writer (readers get a quarter). Why a
    /// setting: the cache is what a burst of ingest leaves filled (see
    /// `Store::release_memory`), so it bounds the daemon's footprint; a small machine trades
    /// ingest speed for memory here.
    pub cache_mb: usize,
}

/// `[storage] cache_mb` when unset: the writer's page cache, which the dedup index needs
/// (misses on it dominated ingest at 2 MiB, SQLite's default).
pub const DEFAULT_CACHE_MB: usize = 64;

/// Defaults and limits for fetching, shared by all sources.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    pub schedule: CronSchedule,
    /// Whole fetch (all redirect hops and the body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub max_redirects: usize,
    /// Entries read from one feed document (the first ones, in document order).
    pub max_entries: usize,
    /// Bytes kept of any one text field of an entry.
    pub max_field: usize,
    /// Longest wait between attempts of a failing source; it is retried for ever at this pace.
    pub max_backoff: Duration,
    pub concurrency: usize,
    pub per_host: usize,
    pub allow_private: bool,
    pub allow_hosts: Vec<String>,
    /// Query parameter names (beyond the built-in list in `src/redact/secret-params.txt`)
    /// whose values are credentials, never shown.
    pub secret_params: Vec<String>,
    /// What wirefeed calls itself to publishers; `None`: `wirefeed/VERSION`, which tells
    /// them nothing about this instance.
    pub user_agent: Option<String>,
    /// The proxy every source is fetched through unless it names its own. Explicit only:
    /// proxies from the environment are ignored.
    pub proxy: Option<Url>,
}

/// One feed to poll.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub name: String,
    /// The address as configured, credentials included. Never shown: see
    /// [`SourceConfig::public_url`].
    pub url: Url,
    pub schedule: CronSchedule,
    pub tags: Vec<String>,
    pub full_text: bool,
    /// This source's own cleaning rules.
    pub rules: SourceRules,
    /// How it is asked for: credentials, headers, user agent, proxy.
    pub access: SourceAccess,
    /// What of this source must never be shown: its secret parameters, by name and value,
    /// and every credential of [`SourceConfig::access`].
    pub redactor: Redactor,
    /// `enabled = false` keeps a source in the config (its stored entries stay in feeds)
    /// without ever fetching it: pausing a source needs no commenting out.
    pub enabled: bool,
    /// Patterns (regular expressions, case-insensitive) on title and text: when any are
    /// given, an entry must match one of them to be stored.
    pub include: Vec<String>,
    /// Patterns (as `include`) whose matching entries are not stored.
    pub exclude: Vec<String>,
    /// The user's bounds on the publisher's polling hints (`min_interval`, `max_interval`).
    pub hints: HintBounds,
}

impl SourceConfig {
    /// The address as it may be shown (published feeds, the status page, OPML, logs):
    /// without userinfo and secret parameters. `None` for a local `file:` source, which is
    /// shown by its name.
    pub fn public_url(&self) -> Option<Url> {
        self.redactor.public_url(&self.url)
    }

    /// Whether fetching it needs credentials (so its feed is private to whoever holds them).
    pub fn has_credentials(&self) -> bool {
        self.access.has_credentials() || self.public_url().is_some_and(|p| p != self.url)
    }
}

/// Per-source cleaning rules, validated at load (selectors parse, patterns compile).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceRules {
    /// CSS selectors whose elements are removed from the entry's HTML.
    pub remove: Vec<String>,
    /// CSS selectors: when given, only matching elements are kept.
    pub keep: Vec<String>,
    /// Regular expressions: paragraphs whose text matches are dropped.
    pub drop: Vec<String>,
}

/// How boilerplate is learned, and what must never be treated as boilerplate.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanConfig {
    /// A text block seen in this many distinct entries of one source is its boilerplate.
    pub learn_after: usize,
    /// … within this window.
    pub learn_window: Duration,
    /// Regular expressions for paragraphs to drop from every source.
    pub drop: Vec<String>,
    /// Regular expressions for blocks that are never boilerplate, learned or built in.
    pub keep: Vec<String>,
}

/// How copies of one story from several outlets are merged (`[dedup]`).
///
/// Why so few knobs: the defaults are tuned for precision on labelled data; these are
/// the ones a user may have a reason to move (a slower news cycle, a stricter match).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupSettings {
    /// Off: every entry is published as its own story.
    pub enabled: bool,
    /// Copies dated further apart than this are never merged.
    pub window: Duration,
    /// Share of the shorter text's 5-word shingles the other must contain.
    pub min_containment: f32,
    /// Shingles two texts must share at least.
    pub min_shared: u32,
}

/// One feed to publish, and which sources feed it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    pub name: String,
    pub title: String,
    /// Names of the sources it carries (resolved from `sources`, `tags`, or every source).
    pub sources: Vec<String>,
    pub limit: usize,
    /// Publish one item per story (true) or every entry as it came (false).
    pub dedup: bool,
    /// What readers see under the title; a default names wirefeed and the sources.
    pub description: Option<String>,
    /// Patterns (regular expressions, case-insensitive) on title and text: when any are
    /// given, a story must match one of them.
    pub include: Vec<String>,
    /// Patterns (as `include`) that keep a story out.
    pub exclude: Vec<String>,
    /// The feed's language (BCP 47): declared in every format, and stories whose source
    /// declares another language are left out.
    pub language: Option<String>,
    /// Only stories run by at least this many outlets ("what the wires agree on").
    pub min_outlets: usize,
    /// An updated story's content starts with a short note of what changed (paragraphs
    /// added, changed and removed since the previous version). Default on.
    pub show_changes: bool,
}

impl FetchConfig {
    /// The fetch stage's settings from `[fetch]`. The User-Agent is `[fetch] user_agent`,
    /// else `wirefeed/VERSION`: it names the software, never this instance's address (which
    /// may be private), unless the user writes it there.
    pub fn settings(&self) -> crate::fetch::FetchSettings {
        crate::fetch::FetchSettings {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout.min(self.timeout),
            max_body: self.max_body,
            user_agent: self
                .user_agent
                .clone()
                .unwrap_or_else(crate::fetch::default_user_agent),
            policy: crate::fetch::guard::GuardPolicy {
                allow_private: self.allow_private,
                allow_hosts: self.allow_hosts.clone(),
            },
            max_redirects: self.max_redirects,
        }
    }
}

impl Config {
    /// Reads and validates a config file. `${NAME}` takes the environment variable NAME.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut cfg = Config::parse(&text, path)?;
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            cfg.warnings.extend(warnings::readable_secrets(
                &cfg,
                &text,
                path,
                meta.permissions().mode(),
            ));
        }
        Ok(cfg)
    }

    /// Validates config text; `path` names it in messages and anchors relative paths.
    /// `${NAME}` takes the environment variable NAME.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_with_env(text, path, &|name| std::env::var(name).ok())
    }

    /// [`Config::parse`] with the environment given (tests, and tools that must not read the
    /// process's own).
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let loc = Locator::new(path, text);
        let mut table = toml::de::DeTable::parse(text)
            .map_err(|e| ConfigError::Invalid(vec![loc.toml_error(&e)]))?;
        let mut problems = Vec::new();
        let substituted = interpolate::interpolate(table.get_mut(), text, &loc, env, &mut problems);
        let mut unknown = Vec::new();
        let de = toml::de::Deserializer::from(table.clone());
        let raw: raw::RawConfig = serde_ignored::deserialize(de, |p| unknown.push(p.to_string()))
            .map_err(|e| ConfigError::Invalid(vec![loc.toml_error(&e)]))?;
        for key in unknown {
            let span = diagnostics::span_of_key(table.get_ref(), &key);
            problems.push(loc.at(span, format!("unknown key `{key}`")));
        }
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let ctx = raw::Ctx {
            loc: &loc,
            base_dir: &base_dir,
            substituted: &substituted,
        };
        let cfg = raw.validate(&ctx, path, &mut problems);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            problems.sort_by_key(|d| (d.line, d.column));
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The source with this name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The published feed with this name.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }
}

/// Finds the config file the way DESIGN.md's contract says: flag, environment, `./config/`,
/// the XDG folder, `/etc`. Returns the first that exists, or the flag/env value as given.
pub fn locate(flag: Option<PathBuf>) -> PathBuf {
    if let Some(p) = flag {
        return p;
    }
    if let Some(p) = std::env::var_os("WIREFEED_CONFIG").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let mut candidates = vec![PathBuf::from("config/wirefeed.toml")];
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(x) = xdg {
        candidates.push(x.join("wirefeed/wirefeed.toml"));
    }
    candidates.push(PathBuf::from("/etc/wirefeed/wirefeed.toml"));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| candidates[0].clone())
}

/// Names appear in URLs (`/feeds/{name}.atom`) and log lines, so keep them plain.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with('.')
}

/// Parses a source URL: `http(s)://…`, absolute `file:///…`, or `file:relative/path`
/// (relative to the config file's folder, for demos and local feed folders).
fn parse_source_url(text: &str, base_dir: &Path) -> Result<Url, String> {
    if let Some(rest) = text.strip_prefix("file:")
        && !rest.starts_with('/')
    {
        let p = base_dir.join(rest);
        let abs = std::path::absolute(&p).map_err(|e| format!("cannot resolve {p:?}: {e}"))?;
        return Url::from_file_path(&abs).map_err(|_| format!("cannot make a file URL of {abs:?}"));
    }
    let url = Url::parse(text).map_err(|e| format!("invalid URL {text:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "file" => Ok(url),
        "http" | "https" => Err(format!("URL {text:?} has no host")),
        other => Err(format!(
            "unsupported URL scheme {other:?} in {text:?} (use http, https or file)"
        )),
    }
}

/// Longest duration any setting accepts: beyond it, date arithmetic stops making sense.
const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

fn parse_duration(s: &Spanned<String>, loc: &Locator, problems: &mut Vec<Diagnostic>) -> Duration {
    match humantime::parse_duration(s.get_ref()) {
        Ok(d) if d > MAX_DURATION => {
            problems.push(loc.at(Some(s.span()), "duration must be at most a year".into()));
            MAX_DURATION
        }
        Ok(d) if !d.is_zero() => d,
        Ok(_) => {
            problems.push(loc.at(Some(s.span()), "duration must be positive".into()));
            Duration::from_secs(1)
        }
        Err(e) => {
            problems.push(loc.at(
                Some(s.span()),
                format!(
                    "invalid duration {:?}: {e} (try \"30s\" or \"2m\")",
                    s.get_ref()
                ),
            ));
            Duration::from_secs(1)
        }
    }
}

fn parse_size(s: &Spanned<String>, loc: &Locator, problems: &mut Vec<Diagnostic>) -> u64 {
    match s.get_ref().trim().parse::<bytesize::ByteSize>() {
        Ok(b) if b.as_u64() > 0 => b.as_u64(),
        _ => {
            problems.push(loc.at(
                Some(s.span()),
                format!(
                    "invalid size {:?} (try \"16MiB\" or \"500KB\")",
                    s.get_ref()
                ),
            ));
            1
        }
    }
}

fn parse_cron(
    s: &Spanned<String>,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Option<CronSchedule> {
    match CronSchedule::parse(s.get_ref()) {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(loc.at(Some(s.span()), e.to_string()));
            None
        }
    }
}

/// Problems with CSS selectors and regular expressions, located.
fn check_selectors(list: &[Spanned<String>], loc: &Locator, problems: &mut Vec<Diagnostic>) {
    for s in list {
        if let Err(e) = scraper::Selector::parse(s.get_ref()) {
            problems.push(loc.at(
                Some(s.span()),
                format!("invalid CSS selector {:?}: {e}", s.get_ref()),
            ));
        }
    }
}

fn check_patterns(list: &[Spanned<String>], loc: &Locator, problems: &mut Vec<Diagnostic>) {
    for s in list {
        if let Err(e) = regex::Regex::new(s.get_ref()) {
            let msg = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string();
            problems.push(loc.at(
                Some(s.span()),
                format!("invalid pattern {:?}: {msg}", s.get_ref()),
            ));
        }
    }
}

fn strings(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().clone()).collect()
}

fn check_unique<'a>(
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) {
    let mut seen = HashSet::new();
    for n in names {
        if !valid_name(n.get_ref()) {
            problems.push(loc.at(
                Some(n.span()),
                format!(
                    "{what} name {:?} must be 1-64 letters, digits, '-', '_' or '.'",
                    n.get_ref()
                ),
            ));
        }
        if !seen.insert(n.get_ref().as_str()) {
            problems.push(loc.at(
                Some(n.span()),
                format!("duplicate {what} name {:?}", n.get_ref()),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
