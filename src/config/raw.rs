//! The config file's shape as serde sees it, before validation gives it meaning.
//!
//! Fields that can be wrong in a way only validation sees (names, URLs, cron expressions) are
//! kept `Spanned`, so the error can point at the exact line and column.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::diagnostics::{Diagnostic, Locator};
use super::{
    CleanConfig, Config, DedupSettings, FeedConfig, FetchConfig, PublishConfig, ServerConfig,
    SourceConfig, SourceRules, StorageConfig, check_patterns, check_selectors, check_unique,
    parse_cron, parse_duration, parse_size, parse_source_url, strings,
};
use crate::schedule::CronSchedule;

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
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: Spanned::new(0..0, "127.0.0.1:8080".into()),
            base_url: None,
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
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            database: "wirefeed.db".into(),
            keep: None,
            max_per_source: None,
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
struct RawSource {
    name: Spanned<String>,
    url: Spanned<String>,
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
fn span_of<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    let r = s.span();
    if r.is_empty() && r.start == 0 {
        None
    } else {
        Some(r)
    }
}

impl RawConfig {
    pub(super) fn validate(
        self,
        loc: &Locator,
        base_dir: &Path,
        path: &Path,
        problems: &mut Vec<Diagnostic>,
    ) -> Config {
        let listen = match self.server.listen.get_ref().parse() {
            Ok(a) => a,
            Err(_) => {
                problems.push(loc.at(
                    span_of(&self.server.listen),
                    format!(
                        "listen address {:?} must be IP:port, e.g. \"127.0.0.1:8080\"",
                        self.server.listen.get_ref()
                    ),
                ));
                "127.0.0.1:8080".parse().expect("literal address")
            }
        };
        let base_url = match &self.server.base_url {
            None => Url::parse(&format!("http://{listen}/")).expect("socket addr makes a URL"),
            Some(s) => match Url::parse(s.get_ref()) {
                Ok(u)
                    if matches!(u.scheme(), "http" | "https")
                        && u.host().is_some()
                        && u.query().is_none()
                        && u.fragment().is_none() =>
                {
                    let mut u = u;
                    if !u.path().ends_with('/') {
                        let p = format!("{}/", u.path());
                        u.set_path(&p);
                    }
                    u
                }
                _ => {
                    problems.push(loc.at(
                        span_of(s),
                        format!(
                            "base_url {:?} must be an absolute http(s) URL without query or fragment",
                            s.get_ref()
                        ),
                    ));
                    Url::parse("http://127.0.0.1:8080/").expect("literal URL")
                }
            },
        };
        let database = base_dir.join(&self.storage.database);
        let database = std::path::absolute(&database).unwrap_or(database);

        let f = &self.fetch;
        let default_schedule = parse_cron(&f.schedule, loc, problems)
            .unwrap_or_else(|| CronSchedule::parse("*/15 * * * *").expect("literal cron"));
        for (v, what) in [
            (&f.concurrency, "concurrency"),
            (&f.per_host, "per_host"),
            (&f.max_entries, "max_entries"),
        ] {
            if *v.get_ref() == 0 {
                problems.push(loc.at(span_of(v), format!("{what} must be at least 1")));
            }
        }
        let fetch = FetchConfig {
            schedule: default_schedule.clone(),
            timeout: parse_duration(&f.timeout, loc, problems),
            connect_timeout: parse_duration(&f.connect_timeout, loc, problems),
            max_body: parse_size(&f.max_body, loc, problems),
            max_redirects: f.max_redirects,
            max_entries: (*f.max_entries.get_ref()).max(1),
            max_field: usize::try_from(parse_size(&f.max_field, loc, problems))
                .unwrap_or(usize::MAX),
            max_backoff: parse_duration(&f.max_backoff, loc, problems),
            concurrency: (*f.concurrency.get_ref()).max(1),
            per_host: (*f.per_host.get_ref()).max(1),
            allow_private: f.allow_private,
            allow_hosts: f.allow_hosts.iter().map(|h| h.get_ref().clone()).collect(),
        };
        for h in &f.allow_hosts {
            let bare = h.get_ref().trim_matches(|c| c == '[' || c == ']');
            let ok = !bare.is_empty()
                && (bare.parse::<std::net::IpAddr>().is_ok()
                    || url::Host::parse(bare).is_ok() && !bare.contains(['/', ':', ' ']));
            if !ok {
                problems.push(loc.at(
                    span_of(h),
                    format!(
                        "allow_hosts entry {:?} is not a host name or IP address",
                        h.get_ref()
                    ),
                ));
            }
        }

        let c = &self.clean;
        if *c.learn_after.get_ref() < 2 {
            problems.push(loc.at(
                span_of(&c.learn_after),
                "learn_after must be at least 2".into(),
            ));
        }
        check_patterns(&c.drop, loc, problems);
        check_patterns(&c.keep, loc, problems);
        let clean = CleanConfig {
            learn_after: (*c.learn_after.get_ref()).max(2),
            learn_window: parse_duration(&c.learn_window, loc, problems),
            drop: strings(&c.drop),
            keep: strings(&c.keep),
        };

        let d = &self.dedup;
        let containment = *d.min_containment.get_ref();
        if !(containment > 0.0 && containment <= 1.0) {
            problems.push(loc.at(
                span_of(&d.min_containment),
                "min_containment must be above 0 and at most 1".into(),
            ));
        }
        if *d.min_shared.get_ref() < 2 {
            problems.push(loc.at(
                span_of(&d.min_shared),
                "min_shared must be at least 2".into(),
            ));
        }
        let dedup = DedupSettings {
            enabled: d.enabled,
            window: parse_duration(&d.window, loc, problems),
            min_containment: containment.clamp(0.01, 1.0) as f32,
            min_shared: (*d.min_shared.get_ref()).max(2),
        };
        // Retention must outlast the merge window: a pruned entry's story could still be
        // matched inside it.
        let keep =
            self.storage
                .keep
                .as_ref()
                .and_then(|k| match humantime::parse_duration(k.get_ref()) {
                    Ok(d) if d >= dedup.window + Duration::from_secs(86_400) => Some(d),
                    Ok(_) => {
                        problems.push(loc.at(
                            span_of(k),
                            format!(
                                "keep {:?} must be at least the dedup window plus a day ({})",
                                k.get_ref(),
                                humantime::format_duration(
                                    dedup.window + Duration::from_secs(86_400)
                                )
                            ),
                        ));
                        None
                    }
                    Err(e) => {
                        problems.push(loc.at(
                            span_of(k),
                            format!("invalid duration {:?}: {e} (try \"30d\")", k.get_ref()),
                        ));
                        None
                    }
                });
        let max_per_source = self.storage.max_per_source.as_ref().and_then(|m| {
            if *m.get_ref() < 10 {
                problems.push(loc.at(span_of(m), "max_per_source must be at least 10".into()));
                None
            } else {
                Some(*m.get_ref())
            }
        });

        check_unique(
            self.sources.iter().map(|s| &s.name),
            "source",
            loc,
            problems,
        );
        for s in &self.sources {
            check_selectors(&s.remove, loc, problems);
            check_selectors(&s.keep, loc, problems);
            check_patterns(&s.drop, loc, problems);
        }
        let sources: Vec<SourceConfig> = self
            .sources
            .iter()
            .map(|s| SourceConfig {
                name: s.name.get_ref().clone(),
                url: parse_source_url(s.url.get_ref(), base_dir).unwrap_or_else(|e| {
                    problems.push(loc.at(span_of(&s.url), e));
                    Url::parse("file:///invalid").expect("literal URL")
                }),
                schedule: s
                    .schedule
                    .as_ref()
                    .and_then(|c| parse_cron(c, loc, problems))
                    .unwrap_or_else(|| default_schedule.clone()),
                tags: s.tags.clone(),
                full_text: s.full_text,
                rules: SourceRules {
                    remove: strings(&s.remove),
                    keep: strings(&s.keep),
                    drop: strings(&s.drop),
                },
            })
            .collect();

        check_unique(self.feeds.iter().map(|f| &f.name), "feed", loc, problems);
        let feeds = self
            .feeds
            .iter()
            .map(|f| {
                if *f.limit.get_ref() == 0 {
                    problems.push(loc.at(span_of(&f.limit), "limit must be at least 1".into()));
                }
                if *f.min_outlets.get_ref() == 0 {
                    problems.push(loc.at(
                        span_of(&f.min_outlets),
                        "min_outlets must be at least 1".into(),
                    ));
                }
                check_patterns(&f.include, loc, problems);
                check_patterns(&f.exclude, loc, problems);
                if let Some(l) = &f.language
                    && !super::valid_language(l.get_ref())
                {
                    problems.push(loc.at(
                        span_of(l),
                        format!(
                            "language {:?} is not a language tag such as \"en\" or \"pt-BR\"",
                            l.get_ref()
                        ),
                    ));
                }
                FeedConfig {
                    name: f.name.get_ref().clone(),
                    title: f.title.clone().unwrap_or_else(|| f.name.get_ref().clone()),
                    description: f.description.clone(),
                    sources: resolve_feed_sources(f, &sources, loc, problems),
                    limit: (*f.limit.get_ref()).max(1),
                    dedup: f.dedup,
                    include: strings(&f.include),
                    exclude: strings(&f.exclude),
                    language: f.language.as_ref().map(|l| l.get_ref().clone()),
                    min_outlets: (*f.min_outlets.get_ref()).max(1),
                }
            })
            .collect();

        Config {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            server: ServerConfig { listen, base_url },
            storage: StorageConfig {
                database,
                keep,
                max_per_source,
            },
            log_level: self.log.level.as_ref().and_then(|l| {
                match tracing_subscriber::EnvFilter::try_new(l.get_ref()) {
                    Ok(_) => Some(l.get_ref().clone()),
                    Err(e) => {
                        problems.push(loc.at(
                            span_of(l),
                            format!("invalid log level {:?}: {e}", l.get_ref()),
                        ));
                        None
                    }
                }
            }),
            publish: PublishConfig {
                dir: self.publish.dir.as_ref().map(|d| {
                    let d = base_dir.join(d);
                    std::path::absolute(&d).unwrap_or(d)
                }),
                websub_hub: self.publish.websub_hub.as_ref().and_then(|h| {
                    match Url::parse(h.get_ref()) {
                        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
                        Ok(_) => {
                            problems.push(loc.at(
                                span_of(h),
                                format!("websub_hub {:?} must be an http(s) URL", h.get_ref()),
                            ));
                            None
                        }
                        Err(e) => {
                            problems.push(loc.at(
                                span_of(h),
                                format!("websub_hub {:?} is not a URL: {e}", h.get_ref()),
                            ));
                            None
                        }
                    }
                }),
            },
            fetch,
            clean,
            dedup,
            sources,
            feeds,
        }
    }
}

/// A feed names its sources, or selects them by tag, or (neither given) carries all of them.
fn resolve_feed_sources(
    feed: &RawFeed,
    sources: &[SourceConfig],
    loc: &Locator,
    problems: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(names) = &feed.sources {
        for n in names {
            if sources.iter().any(|s| &s.name == n.get_ref()) {
                out.push(n.get_ref().clone());
            } else {
                problems.push(loc.at(
                    span_of(n),
                    format!(
                        "feed {:?} names unknown source {:?}",
                        feed.name.get_ref(),
                        n.get_ref()
                    ),
                ));
            }
        }
    }
    if let Some(tags) = &feed.tags {
        for t in tags {
            let matching: Vec<&SourceConfig> = sources
                .iter()
                .filter(|s| s.tags.iter().any(|st| st == t.get_ref()))
                .collect();
            if matching.is_empty() {
                problems.push(loc.at(
                    span_of(t),
                    format!(
                        "feed {:?}: no source has tag {:?}",
                        feed.name.get_ref(),
                        t.get_ref()
                    ),
                ));
            }
            for s in matching {
                if !out.contains(&s.name) {
                    out.push(s.name.clone());
                }
            }
        }
    }
    if feed.sources.is_none() && feed.tags.is_none() {
        out = sources.iter().map(|s| s.name.clone()).collect();
    }
    out
}
