//! Validation: the raw shape given its meaning, one table at a time, every problem
//! collected with its location.

use std::path::Path;
use std::time::Duration;

use url::Url;

use super::super::access;
use super::super::diagnostics::{Diagnostic, Locator};
use super::super::interpolate::Substituted;
use super::super::warnings;
use super::super::{
    CleanConfig, Config, DedupSettings, FeedConfig, FetchConfig, PublishConfig, ServerConfig,
    SourceConfig, SourceRules, StorageConfig, check_patterns, check_selectors, check_unique,
    parse_cron, parse_duration, parse_size, parse_source_url, strings,
};
use super::{
    RawClean, RawConfig, RawDedup, RawFeed, RawFetch, RawLog, RawPublish, RawServer, RawSource,
    RawStorage, span_of,
};
use crate::schedule::{CronSchedule, HintBounds};

/// What every table's validation needs: where the file is and what interpolation did.
pub(in crate::config) struct Ctx<'a> {
    pub(in crate::config) loc: &'a Locator<'a>,
    /// The config file's folder: relative paths in it are relative to this.
    pub(in crate::config) base_dir: &'a Path,
    pub(in crate::config) substituted: &'a Substituted,
}

impl RawConfig {
    /// Gives the raw shape its meaning, one table at a time, collecting every problem.
    pub(in crate::config) fn validate(
        self,
        ctx: &Ctx<'_>,
        path: &Path,
        problems: &mut Vec<Diagnostic>,
    ) -> Config {
        let server = self.server.validate(ctx, problems);
        let fetch = self.fetch.validate(ctx.loc, problems);
        let clean = self.clean.validate(ctx.loc, problems);
        let dedup = self.dedup.validate(ctx.loc, problems);
        let storage = self.storage.validate(ctx, &dedup, problems);
        check_unique(
            self.sources.iter().map(|s| &s.name),
            "source",
            ctx.loc,
            problems,
        );
        let sources: Vec<SourceConfig> = self
            .sources
            .iter()
            .map(|s| s.validate(ctx, &fetch, problems))
            .collect();
        check_unique(
            self.feeds.iter().map(|f| &f.name),
            "feed",
            ctx.loc,
            problems,
        );
        let feeds = self
            .feeds
            .iter()
            .map(|f| f.validate(&sources, ctx.loc, problems))
            .collect();
        let mut config = Config {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            server,
            storage,
            log_level: self.log.validate(ctx.loc, problems),
            publish: self.publish.validate(ctx, problems),
            fetch,
            clean,
            dedup,
            sources,
            feeds,
            warnings: Vec::new(),
        };
        let s = &self.server;
        let spans = [
            s.token.as_ref().or(s.token_file.as_ref()).and_then(span_of),
            s.admin_token
                .as_ref()
                .or(s.admin_token_file.as_ref())
                .and_then(span_of),
        ];
        config.warnings = warnings::of_config(
            &config,
            span_of(&s.listen),
            s.base_url.as_ref().and_then(span_of),
            spans,
            ctx.loc,
        );
        config
    }
}

impl RawServer {
    fn validate(&self, ctx: &Ctx<'_>, problems: &mut Vec<Diagnostic>) -> ServerConfig {
        let loc = ctx.loc;
        let listen = match self.listen.get_ref().parse() {
            Ok(a) => a,
            Err(_) => {
                problems.push(loc.at(
                    span_of(&self.listen),
                    format!(
                        "listen address {:?} must be IP:port, e.g. \"127.0.0.1:8080\"",
                        self.listen.get_ref()
                    ),
                ));
                "127.0.0.1:8080".parse().expect("literal address")
            }
        };
        let base_url = match &self.base_url {
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
        let token = access::token(
            "token",
            self.token.as_ref(),
            self.token_file.as_ref(),
            ctx,
            problems,
        );
        let admin_token = access::token(
            "admin_token",
            self.admin_token.as_ref(),
            self.admin_token_file.as_ref(),
            ctx,
            problems,
        );
        if let (Some(t), Some(a)) = (&token, &admin_token)
            && t == a
        {
            let at = self.admin_token.as_ref().or(self.admin_token_file.as_ref());
            problems.push(loc.at(
                at.and_then(span_of),
                "admin_token must differ from token (readers would be administrators)".into(),
            ));
        }
        ServerConfig {
            listen,
            base_url,
            token,
            admin_token,
        }
    }
}

impl RawStorage {
    fn validate(
        &self,
        ctx: &Ctx<'_>,
        dedup: &DedupSettings,
        problems: &mut Vec<Diagnostic>,
    ) -> StorageConfig {
        let loc = ctx.loc;
        let database = ctx.base_dir.join(&self.database);
        let database = std::path::absolute(&database).unwrap_or(database);
        // Retention must outlast the merge window: a pruned entry's story could still be
        // matched inside it.
        let floor = dedup.window + Duration::from_secs(86_400);
        let keep = self
            .keep
            .as_ref()
            .and_then(|k| match humantime::parse_duration(k.get_ref()) {
                Ok(d) if d >= floor => Some(d),
                Ok(_) => {
                    problems.push(loc.at(
                        span_of(k),
                        format!(
                            "keep {:?} must be at least the dedup window plus a day ({})",
                            k.get_ref(),
                            humantime::format_duration(floor)
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
        let max_per_source = self.max_per_source.as_ref().and_then(|m| {
            if *m.get_ref() < 10 {
                problems.push(loc.at(span_of(m), "max_per_source must be at least 10".into()));
                None
            } else {
                Some(*m.get_ref())
            }
        });
        let cache_mb = match *self.cache_mb.get_ref() {
            n @ 1..=4096 => n,
            _ => {
                problems.push(loc.at(
                    span_of(&self.cache_mb),
                    "cache_mb must be between 1 and 4096 (MiB of SQLite page cache)".into(),
                ));
                super::super::DEFAULT_CACHE_MB
            }
        };
        StorageConfig {
            database,
            keep,
            max_per_source,
            cache_mb,
        }
    }
}

impl RawFetch {
    fn validate(&self, loc: &Locator, problems: &mut Vec<Diagnostic>) -> FetchConfig {
        let default_schedule = parse_cron(&self.schedule, loc, problems)
            .unwrap_or_else(|| CronSchedule::parse("*/15 * * * *").expect("literal cron"));
        for (v, what) in [
            (&self.concurrency, "concurrency"),
            (&self.per_host, "per_host"),
            (&self.max_entries, "max_entries"),
        ] {
            if *v.get_ref() == 0 {
                problems.push(loc.at(span_of(v), format!("{what} must be at least 1")));
            }
        }
        for h in &self.allow_hosts {
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
        FetchConfig {
            schedule: default_schedule,
            timeout: parse_duration(&self.timeout, loc, problems),
            connect_timeout: parse_duration(&self.connect_timeout, loc, problems),
            max_body: parse_size(&self.max_body, loc, problems),
            max_redirects: self.max_redirects,
            max_entries: (*self.max_entries.get_ref()).max(1),
            max_field: usize::try_from(parse_size(&self.max_field, loc, problems))
                .unwrap_or(usize::MAX),
            max_backoff: parse_duration(&self.max_backoff, loc, problems),
            concurrency: (*self.concurrency.get_ref()).max(1),
            per_host: (*self.per_host.get_ref()).max(1),
            allow_private: self.allow_private,
            allow_hosts: strings(&self.allow_hosts),
            secret_params: access::secret_params(&self.secret_params, loc, problems),
            user_agent: self
                .user_agent
                .as_ref()
                .and_then(|u| access::user_agent(u, loc, problems)),
            proxy: self
                .proxy
                .as_ref()
                .and_then(|p| access::proxy(p, loc, problems))
                .flatten(),
        }
    }
}

impl RawClean {
    fn validate(&self, loc: &Locator, problems: &mut Vec<Diagnostic>) -> CleanConfig {
        if *self.learn_after.get_ref() < 2 {
            problems.push(loc.at(
                span_of(&self.learn_after),
                "learn_after must be at least 2".into(),
            ));
        }
        check_patterns(&self.drop, loc, problems);
        check_patterns(&self.keep, loc, problems);
        CleanConfig {
            learn_after: (*self.learn_after.get_ref()).max(2),
            learn_window: parse_duration(&self.learn_window, loc, problems),
            drop: strings(&self.drop),
            keep: strings(&self.keep),
        }
    }
}

impl RawDedup {
    fn validate(&self, loc: &Locator, problems: &mut Vec<Diagnostic>) -> DedupSettings {
        let containment = *self.min_containment.get_ref();
        if !(containment > 0.0 && containment <= 1.0) {
            problems.push(loc.at(
                span_of(&self.min_containment),
                "min_containment must be above 0 and at most 1".into(),
            ));
        }
        if *self.min_shared.get_ref() < 2 {
            problems.push(loc.at(
                span_of(&self.min_shared),
                "min_shared must be at least 2".into(),
            ));
        }
        DedupSettings {
            enabled: self.enabled,
            window: parse_duration(&self.window, loc, problems),
            min_containment: containment.clamp(0.01, 1.0) as f32,
            min_shared: (*self.min_shared.get_ref()).max(2),
        }
    }
}

impl RawLog {
    fn validate(&self, loc: &Locator, problems: &mut Vec<Diagnostic>) -> Option<String> {
        let l = self.level.as_ref()?;
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
    }
}

impl RawPublish {
    fn validate(&self, ctx: &Ctx<'_>, problems: &mut Vec<Diagnostic>) -> PublishConfig {
        PublishConfig {
            dir: self.dir.as_ref().map(|d| {
                let d = ctx.base_dir.join(d);
                std::path::absolute(&d).unwrap_or(d)
            }),
            websub_hub: self
                .websub_hub
                .as_ref()
                .and_then(|h| match Url::parse(h.get_ref()) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
                    Ok(_) => {
                        problems.push(ctx.loc.at(
                            span_of(h),
                            format!("websub_hub {:?} must be an http(s) URL", h.get_ref()),
                        ));
                        None
                    }
                    Err(e) => {
                        problems.push(ctx.loc.at(
                            span_of(h),
                            format!("websub_hub {:?} is not a URL: {e}", h.get_ref()),
                        ));
                        None
                    }
                }),
        }
    }
}

impl RawSource {
    fn validate(
        &self,
        ctx: &Ctx<'_>,
        fetch: &FetchConfig,
        problems: &mut Vec<Diagnostic>,
    ) -> SourceConfig {
        let loc = ctx.loc;
        check_selectors(&self.remove, loc, problems);
        check_selectors(&self.keep, loc, problems);
        check_patterns(&self.drop, loc, problems);
        check_patterns(&self.include, loc, problems);
        check_patterns(&self.exclude, loc, problems);
        let min = (self.min_interval.as_ref()).map(|d| (parse_duration(d, loc, problems), d));
        let max = (self.max_interval.as_ref()).map(|d| (parse_duration(d, loc, problems), d));
        if let (Some((lo, _)), Some((hi, at))) = (&min, &max)
            && lo > hi
        {
            problems.push(loc.at(
                span_of(at),
                format!(
                    "max_interval {:?} is shorter than min_interval ({})",
                    at.get_ref(),
                    humantime::format_duration(*lo)
                ),
            ));
        }
        let url = parse_source_url(self.url.get_ref(), ctx.base_dir).unwrap_or_else(|e| {
            problems.push(loc.at(span_of(&self.url), e));
            Url::parse("file:///invalid").expect("literal URL")
        });
        let (access, redactor) = access::source_access(self, &url, fetch, ctx, problems);
        SourceConfig {
            name: self.name.get_ref().clone(),
            url,
            schedule: self
                .schedule
                .as_ref()
                .and_then(|c| parse_cron(c, loc, problems))
                .unwrap_or_else(|| fetch.schedule.clone()),
            tags: self.tags.clone(),
            full_text: self.full_text,
            rules: SourceRules {
                remove: strings(&self.remove),
                keep: strings(&self.keep),
                drop: strings(&self.drop),
            },
            access,
            redactor,
            enabled: self.enabled,
            include: strings(&self.include),
            exclude: strings(&self.exclude),
            hints: HintBounds {
                min: min.map(|(d, _)| d),
                max: max.map(|(d, _)| d),
            },
        }
    }
}

impl RawFeed {
    fn validate(
        &self,
        sources: &[SourceConfig],
        loc: &Locator,
        problems: &mut Vec<Diagnostic>,
    ) -> FeedConfig {
        if *self.limit.get_ref() == 0 {
            problems.push(loc.at(span_of(&self.limit), "limit must be at least 1".into()));
        }
        if *self.min_outlets.get_ref() == 0 {
            problems.push(loc.at(
                span_of(&self.min_outlets),
                "min_outlets must be at least 1".into(),
            ));
        }
        check_patterns(&self.include, loc, problems);
        check_patterns(&self.exclude, loc, problems);
        if let Some(l) = &self.language
            && !crate::model::valid_language(l.get_ref())
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
            name: self.name.get_ref().clone(),
            title: self
                .title
                .clone()
                .unwrap_or_else(|| self.name.get_ref().clone()),
            description: self.description.clone(),
            sources: resolve_feed_sources(self, sources, loc, problems),
            limit: (*self.limit.get_ref()).max(1),
            dedup: self.dedup,
            include: strings(&self.include),
            exclude: strings(&self.exclude),
            language: self.language.as_ref().map(|l| l.get_ref().clone()),
            min_outlets: (*self.min_outlets.get_ref()).max(1),
            show_changes: self.show_changes,
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
