//! The commands that change what wirefeed follows while it may be running: `add`,
//! `remove`, `refresh` (part of the `wirefeed` binary: arguments, messages and exit codes;
//! the work is in [`wirefeed::discover`], [`wirefeed::config::edit`] and
//! [`wirefeed::control`]).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use url::Url;

use wirefeed::config::Config;
use wirefeed::config::edit::{self, EditError};
use wirefeed::discover::{Found, FoundFeed};

/// Tells the daemon running on this config's database to reload it, and says so. (It
/// also reloads by itself when it sees the file change; the signal makes it certain.)
pub fn reload_daemon(config: &Config) -> anyhow::Result<String> {
    Ok(
        match wirefeed::pidfile::running_daemon(&config.storage.database) {
            Some(pid) => {
                wirefeed::pidfile::signal_reload(pid)?;
                format!("asked the running daemon (pid {pid}) to reload")
            }
            None => "no daemon running on this database; the change applies from its next start"
                .to_string(),
        },
    )
}

fn describe(f: &FoundFeed) -> String {
    format!(
        "{} — {} ({}, {} entr{})",
        f.url,
        f.title.as_deref().unwrap_or("untitled"),
        f.format,
        f.entries,
        if f.entries == 1 { "y" } else { "ies" }
    )
}

/// `wirefeed add URL [--name N] [--tags a,b] [--pick N]`.
pub fn add(
    config: &Config,
    path: &Path,
    url: &str,
    name: Option<&str>,
    tags: &[String],
    pick: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let Ok(url) = Url::parse(url.trim()) else {
        eprintln!("wirefeed: {url:?} is not a URL (give a feed's or a page's http(s) address)");
        return Ok(ExitCode::from(2));
    };
    let fetcher = wirefeed::fetch::Fetcher::new(config.fetch.settings())?;
    let limits = wirefeed::parse::ParseLimits {
        max_entries: config.fetch.max_entries,
        max_field: config.fetch.max_field,
    };
    let found = super::runtime().block_on(wirefeed::discover::discover(&fetcher, &url, limits));
    let chosen = match found {
        Err(e) => {
            eprintln!("wirefeed: {e}");
            return Ok(ExitCode::from(2));
        }
        Ok(Found::Feed(f)) => f,
        Ok(Found::Page(list)) if list.is_empty() => {
            eprintln!(
                "wirefeed: no feed found at {url}: the page links to none (<link rel=\"alternate\">) \
                 and none of the usual addresses (/feed, /rss.xml, /atom.xml, …) is a feed"
            );
            return Ok(ExitCode::from(2));
        }
        Ok(Found::Page(list)) => match pick {
            Some(n) if (1..=list.len()).contains(&n) => list[n - 1].clone(),
            Some(n) => {
                eprintln!(
                    "wirefeed: --pick {n}: {url} offers feeds 1 to {}",
                    list.len()
                );
                return Ok(ExitCode::from(2));
            }
            None if list.len() == 1 => list[0].clone(),
            None => {
                out!("{url} offers {} feeds:", list.len());
                for (i, f) in list.iter().enumerate() {
                    out!("{}. {}", i + 1, describe(f));
                }
                eprintln!("wirefeed: several feeds; add one with --pick N (nothing was added)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let current =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let added = edit::add_source(
        &current,
        path,
        config,
        &chosen.url,
        name,
        chosen.title.as_deref(),
        tags,
    );
    let (text, name) = match added {
        Ok(r) => r,
        Err(e @ EditError::AlreadySource { .. }) => {
            out!("{e}; nothing to add");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            eprintln!("wirefeed: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    edit::replace_file(path, &text).with_context(|| format!("replacing {}", path.display()))?;
    out!("added {name}: {}", describe(&chosen));
    out!("{}", reload_daemon(config)?);
    Ok(ExitCode::SUCCESS)
}

/// `wirefeed remove NAME`.
pub fn remove(config: &Config, path: &Path, name: &str) -> anyhow::Result<ExitCode> {
    let current =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (text, report) = match edit::remove_source(&current, path, name) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wirefeed: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    edit::replace_file(path, &text).with_context(|| format!("replacing {}", path.display()))?;
    out!(
        "removed {name} from {} (its stored entries stay)",
        path.display()
    );
    for feed in &report.feeds {
        out!("feed {feed} no longer names it");
    }
    out!("{}", reload_daemon(config)?);
    Ok(ExitCode::SUCCESS)
}

/// `wirefeed refresh NAME`: asks the daemon, waits for its answer, prints it.
pub fn refresh(config: &Config, name: &str) -> anyhow::Result<ExitCode> {
    match config.source(name) {
        None => {
            eprintln!(
                "wirefeed: unknown source {name:?} (known: {})",
                config
                    .sources
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(ExitCode::from(2));
        }
        Some(s) if !s.enabled => {
            eprintln!("wirefeed: {name} has enabled = false in the config: it is not fetched");
            return Ok(ExitCode::from(2));
        }
        Some(_) => {}
    }
    let db = &config.storage.database;
    let Some(pid) = wirefeed::pidfile::running_daemon(db) else {
        eprintln!(
            "wirefeed: no daemon is running on {}; fetch it here with `wirefeed fetch --source {name}`",
            db.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    let pending = wirefeed::control::request_refresh(db, pid, name)
        .with_context(|| format!("asking the daemon (pid {pid})"))?;
    if !pending.wait_picked_up(Duration::from_secs(10)) {
        eprintln!("wirefeed: the daemon (pid {pid}) did not take the request within 10 s");
        return Ok(ExitCode::FAILURE);
    }
    out!("the running daemon (pid {pid}) is fetching {name} now");
    match pending.wait_done(config.fetch.timeout * 2 + Duration::from_secs(30)) {
        Some(line) => out!("{line}"),
        None => out!("{name} is still being fetched; its result will be in the daemon's log"),
    }
    Ok(ExitCode::SUCCESS)
}
