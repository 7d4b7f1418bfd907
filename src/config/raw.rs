//! The config file's shape as serde sees it, before validation gives it meaning.
//!
//! Fields that can be wrong in a way only validation sees (names, URLs, cron expressions) are
//! kept `Spanned`, so the error can point at the exact line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

mod validate;

pub(super) use validate::Ctx;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawConfig {
    server: RawServer,
    storage: RawStorage,
    fetch: RawFetch,
    clean: RawClean,
    dedup: RawDedup,
    publish: RawPublish,
    log: RawLog,
    sources: Vec<RawSource>,
    feeds: Vec<RawFeed>,
}

#[derive(Deserialize)]
#[serde(default)]
struct RawServer {
    listen: Spanned<String>,
    base_url: Option<Spanned<String>>,
    token: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    admin_token: Option<Spanned<String>>,
    admin_token_file: Option<Spanned<String>>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: Spanned::new(0..0, "127.0.0.1:8080".into()),
            base_url: None,
            token: None,
            token_file: None,
            admin_token: None,
            admin_token_file: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLog {
    level: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPublish {
    dir: Option<String>,
    websub_hub: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(default)]
struct RawStorage {
    database: String,
    keep: Option<Spanned<String>>,
    max_per_source: Option<Spanned<usize>>,
    cache_mb: Spanned<usize>,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            database: "wirefeed.db".into(),
            keep: None,
            max_per_source: None,
            cache_mb: Spanned::new(0..0, crate::config::DEFAULT_CACHE_MB),
        }
    }
}

#[derive(Deserialize)]
#[serde(default)]
struct RawFetch {
    schedule: Spanned<String>,
    timeout: Spanned<String>,
    connect_timeout: Spanned<String>,
    max_body: Spanned<String>,
    max_redirects: usize,
    max_entries: Spanned<usize>,
    max_field: Spanned<String>,
    max_backoff: Spanned<String>,
    concurrency: Spanned<usize>,
    per_host: Spanned<usize>,
    allow_private: bool,
    allow_hosts: Vec<Spanned<String>>,
    secret_params: Vec<Spanned<String>>,
    user_agent: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
}

impl Default for RawFetch {
    fn default() -> Self {
        RawFetch {
            schedule: Spanned::new(0..0, "*/15 * * * *".into()),
            timeout: Spanned::new(0..0, "30s".into()),
            connect_timeout: Spanned::new(0..0, "10s".into()),
            max_body: Spanned::new(0..0, "16MiB".into()),
            max_redirects: 10,
            max_entries: Spanned::new(0..0, 1000),
            max_field: Spanned::new(0..0, "1MiB".into()),
            max_backoff: Spanned::new(0..0, "24h".into()),
            concurrency: Spanned::new(0..0, 32),
            per_host: Spanned::new(0..0, 2),
            allow_private: false,
            allow_hosts: Vec::new(),
            secret_params: Vec::new(),
            user_agent: None,
            proxy: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(default)]
struct RawClean {
    learn_after: Spanned<usize>,
    learn_window: Spanned<String>,
    drop: Vec<Spanned<String>>,
    keep: Vec<Spanned<String>>,
}

impl Default for RawClean {
    fn default() -> Self {
        RawClean {
            learn_after: Spanned::new(0..0, 3),
            learn_window: Spanned::new(0..0, "30d".into()),
            drop: Vec::new(),
            keep: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default)]
struct RawDedup {
    enabled: bool,
    window: Spanned<String>,
    min_containment: Spanned<f64>,
    min_shared: Spanned<u32>,
}

impl Default for RawDedup {
    fn default() -> Self {
        RawDedup {
            enabled: true,
            window: Spanned::new(0..0, "7d".into()),
            min_containment: Spanned::new(0..0, 0.6),
            min_shared: Spanned::new(0..0, 8),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RawSource {
    pub(super) name: Spanned<String>,
    pub(super) url: Spanned<String>,
    #[serde(default)]
    schedule: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    full_text: bool,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
    #[serde(default)]
    drop: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) username: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) password: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) password_file: Option<Spanned<String>>,
    /// Header name → value, as an inline table.
    #[serde(default)]
    pub(super) headers: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    pub(super) headers_file: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) cookie: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) user_agent: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) proxy: Option<Spanned<String>>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    min_interval: Option<Spanned<String>>,
    #[serde(default)]
    max_interval: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct RawFeed {
    name: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    sources: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    tags: Option<Vec<Spanned<String>>>,
    #[serde(default = "default_limit")]
    limit: Spanned<usize>,
    #[serde(default = "yes")]
    dedup: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default = "one")]
    min_outlets: Spanned<usize>,
    #[serde(default = "yes")]
    show_changes: bool,
}

fn one() -> Spanned<usize> {
    Spanned::new(0..0, 1)
}

fn yes() -> bool {
    true
}

fn default_limit() -> Spanned<usize> {
    Spanned::new(0..0, 100)
}

/// Spans of defaults are empty; report those at the top of the file rather than nowhere.
pub(super) fn span_of<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    let r = s.span();
    if r.is_empty() && r.start == 0 {
        None
    } else {
        Some(r)
    }
}
