//! The `wirefeed` command line. Parsing arguments and choosing exit codes only; the work is
//! in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

use wirefeed::config::{self, Config, ConfigError};

/// `writeln!` to standard output, returning its error (a closed pipe ends the command
/// quietly, see `broken_pipe`) instead of panicking as `println!` does.
macro_rules! out {
    ($($arg:tt)*) => {
        {
            use std::io::Write as _;
            writeln!(std::io::stdout().lock(), $($arg)*)?
        }
    };
}

#[path = "cli/extract.rs"]
mod extract;
#[path = "cli/story.rs"]
mod story;
#[path = "cli/subscriptions.rs"]
mod subscriptions;
use wirefeed::publish::Publisher;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

/// jemalloc, with its background purging thread, instead of glibc's allocator.
///
/// Why: in the one-hour soak the daemon's RSS grew from 200 to 350 MB while its data stayed
/// level, and calling glibc's `malloc_trim` on it gave back 130 MB at once: glibc kept freed
/// memory in the arenas of the blocking pool's threads. jemalloc returns pages that stay
/// unused for ten seconds, and ingest runs faster on it (a 2,000-source poll: 16% less CPU).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// wirefeed fetches news feeds, strips publishers' clutter, merges the copies of one wire
/// story that many outlets run, and republishes clean feeds for your feed reader.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Config file. Default: $WIREFEED_CONFIG, else ./config/wirefeed.toml, else
    /// $XDG_CONFIG_HOME/wirefeed/wirefeed.toml, else /etc/wirefeed/wirefeed.toml
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: fetch every source on its schedule and serve the feeds over HTTP.
    /// Saving the config (or SIGHUP) reloads it; SIGTERM or Ctrl-C stops cleanly.
    Run,
    /// Fetch sources once (all, or those named) and exit. Prints one line per source.
    Fetch {
        /// A source name from the config; repeat to fetch several.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
    },
    /// Validate the config file: exit 0 if it is good, 2 if not (each problem on stderr as
    /// file:line:col: message). Warnings (a private source served without a token, a
    /// readable file holding credentials) go to stderr too, with exit 0.
    Check,
    /// Print a published feed to stdout, as the server would serve it.
    Render {
        /// The feed's name from a [[feeds]] table.
        feed: String,
        /// Output format.
        #[arg(long, default_value = "atom", value_parser = ["atom", "rss", "json"])]
        format: String,
    },
    /// Add a source by its feed's address or a page of its site: a page is searched for
    /// feeds (its <link rel="alternate">, then the usual addresses). The running daemon
    /// reloads and fetches it.
    Add {
        /// A feed's URL, or a page's (the site's home page, an article).
        url: String,
        /// The source's name (default: from the feed's title).
        #[arg(long, value_name = "N")]
        name: Option<String>,
        /// Tags, comma-separated.
        #[arg(long, value_name = "a,b", value_delimiter = ',')]
        tags: Vec<String>,
        /// When the page offers several feeds: the one to add, as numbered in the list.
        #[arg(long, value_name = "N")]
        pick: Option<usize>,
    },
    /// Take a source out of the config (and out of the feeds that name it); its stored
    /// entries stay. The running daemon reloads.
    Remove {
        /// The source's name.
        name: String,
    },
    /// Ask the running daemon to fetch one source now, and print how that went.
    Refresh {
        /// The source's name.
        name: String,
    },
    /// Write a consistent copy of the database to FILE, safely while the daemon runs.
    Backup {
        /// Where the copy goes (must not exist yet).
        file: std::path::PathBuf,
    },
    /// Move subscriptions in and out: OPML, the format every feed reader imports and exports.
    Opml {
        #[command(subcommand)]
        action: OpmlAction,
    },
    /// List the stories and the entries merged into each (every outlet that ran it),
    /// newest first.
    Stories {
        /// Print one JSON array: [{"id","title","published","updated",
        /// "entries":[{"source","url","guid"}],
        /// "revisions":[{"revision","at","added","changed","removed"}]}].
        #[arg(long)]
        json: bool,
    },
    /// Show one story: its outlets and the history of its text, each revision with the
    /// paragraphs it added (+), changed (~) and removed (-).
    Story {
        /// The story's id as feeds publish it (urn:uuid:…); an absorbed story's id shows
        /// the story it is part of now.
        id: String,
    },
    /// List the boilerplate learned per source: text blocks seen in several distinct entries
    /// of one source, removed from its entries. Override with [clean] keep patterns.
    Boilerplate {
        /// Only this source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Also list blocks seen in more than one entry that are not yet boilerplate.
        #[arg(long)]
        all: bool,
    },
    /// Extract the article from one HTML page: its body as plain text (paragraphs separated
    /// by a blank line, no title), or with --json its metadata too. Needs no config.
    Extract {
        /// The page's address, for resolving links and site rules.
        #[arg(long)]
        url: Option<String>,
        /// Print {"title","text","author","published","agency","dateline","byline"}.
        #[arg(long)]
        json: bool,
        /// Learn the site's page clutter in the config's database, as full-text sources do:
        /// a paragraph seen on `learn_after` pages of the --url's host is left out from then
        /// on (`wirefeed boilerplate` lists it as page:HOST). Needs --url and a config.
        #[arg(long)]
        learn: bool,
        /// The HTML file, or - for standard input.
        file: String,
    },
}

#[derive(Subcommand)]
enum OpmlAction {
    /// Print the configured sources as OPML 2.0, without their credentials (userinfo,
    /// secret query parameters) and without local paths.
    Export {
        /// Print the addresses as configured, credentials included: a private backup.
        #[arg(long)]
        with_secrets: bool,
    },
    /// Add the subscriptions of an OPML file (a reader's export) to the config as
    /// [[sources]], keeping the file's comments and layout; URLs already configured are
    /// skipped. Then reloads the running daemon, if there is one.
    Import {
        /// The OPML file, or - for standard input.
        file: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Extract {
        url,
        json,
        file,
        learn,
    } = &cli.command
    {
        wirefeed::logging::init(None);
        let learning = (*learn).then(|| config::locate(cli.config.clone()));
        return extract::run(url.as_deref(), *json, file, learning).unwrap_or_else(|e| {
            if broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("wirefeed: {e:#}");
            ExitCode::from(2)
        });
    }
    let path = config::locate(cli.config);
    // A first `add` starts the config file it adds to.
    if matches!(cli.command, Command::Add { .. }) && !path.exists() {
        let made = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, "# wirefeed's config: see README.md\n"));
        match made {
            Ok(()) => eprintln!("wirefeed: created {}", path.display()),
            Err(e) => {
                eprintln!("wirefeed: cannot create {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => return config_failure(&e),
    };
    wirefeed::logging::init(config.log_level.as_deref());
    let result = match cli.command {
        Command::Check => check(&config, &path),
        Command::Run => runtime()
            .block_on(wirefeed::daemon::run(path))
            .map(|_| ExitCode::SUCCESS),
        Command::Fetch { sources } => fetch(config, sources),
        Command::Render { feed, format } => render(config, &feed, &format),
        Command::Backup { file } => backup(&config, &file),
        Command::Opml {
            action: OpmlAction::Export { with_secrets },
        } => opml_export(&config, with_secrets),
        Command::Add {
            url,
            name,
            tags,
            pick,
        } => subscriptions::add(&config, &path, &url, name.as_deref(), &tags, pick),
        Command::Remove { name } => subscriptions::remove(&config, &path, &name),
        Command::Refresh { name } => subscriptions::refresh(&config, &name),
        Command::Opml {
            action: OpmlAction::Import { file },
        } => opml_import(&config, &path, &file),
        Command::Extract { .. } => unreachable!("handled before loading the config"),
        Command::Boilerplate { source, all } => boilerplate(config, source.as_deref(), all),
        Command::Stories { json } => stories(config, json),
        Command::Story { id } => story::story(config, &id),
    };
    result.unwrap_or_else(|e| {
        if broken_pipe(&e) {
            return ExitCode::SUCCESS;
        }
        eprintln!("wirefeed: {e:#}");
        // A second daemon on one database is a usage error, like a bad config: exit 2.
        if matches!(
            e.downcast_ref::<wirefeed::pidfile::LockError>(),
            Some(wirefeed::pidfile::LockError::Held { .. })
        ) {
            return ExitCode::from(2);
        }
        ExitCode::FAILURE
    })
}

/// Whether the error is standard output closing under us (`wirefeed boilerplate | head`):
/// the reader has what it wanted, so the command ends quietly, as Unix tools do.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn opml_export(config: &Config, with_secrets: bool) -> anyhow::Result<ExitCode> {
    out!(
        "{}",
        wirefeed::opml::export(config, with_secrets).trim_end()
    );
    Ok(ExitCode::SUCCESS)
}

/// `check`: problems (exit 2) were reported by loading; here the warnings and the verdict.
fn check(config: &Config, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    for w in &config.warnings {
        eprintln!("{w}");
    }
    out!(
        "{}: ok ({} sources, {} feeds)",
        path.display(),
        config.sources.len(),
        config.feeds.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn config_failure(e: &ConfigError) -> ExitCode {
    // A message about a bad value quotes it: URLs in it lose their credentials.
    eprintln!(
        "{}",
        wirefeed::redact::Redactor::default().scrub(&e.to_string())
    );
    ExitCode::from(2)
}

fn runtime() -> tokio::runtime::Runtime {
    // Blocking work is parsing, cleaning and SQLite: CPU-bound or serialised on the one
    // writer, so a few threads per core do it all; hundreds would only hold memory.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads((cores * 4).max(8))
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn fetch(config: Config, names: Vec<String>) -> anyhow::Result<ExitCode> {
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| config.source(n).is_none())
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "wirefeed: unknown source(s): {} (known: {})",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            config
                .sources
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    let (sources, disabled): (Vec<_>, Vec<_>) = config
        .sources
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .cloned()
        .partition(|s| s.enabled);
    for s in &disabled {
        out!(
            "{}\tdisabled (enabled = false in the config): not fetched",
            s.name
        );
    }
    let store = Store::open(&config.storage.database)?;
    let writer = Arc::new(Mutex::new(store));
    let runner = Runner::new(&config, writer)?;
    let reports = if std::io::stdout().is_terminal() {
        // Interactive: a progress bar, with each source's line printed as it finishes.
        let bar = indicatif::ProgressBar::new(sources.len() as u64).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sources  {elapsed}")
                .expect("static template"),
        );
        let reports = runtime().block_on(runner.run_all_with(&sources, |r| {
            bar.println(r.to_string());
            for w in &r.warnings {
                bar.println(format!("{}\twarning: {w}", r.source));
            }
            bar.inc(1);
        }));
        bar.finish_and_clear();
        reports
    } else {
        // Scripted: one line per source, in config order.
        let reports = runtime().block_on(runner.run_all(&sources));
        for r in &reports {
            out!("{r}");
            for w in &r.warnings {
                out!("{}\twarning: {w}", r.source);
            }
        }
        reports
    };
    // A daemon running on the same database publishes what this pass stored at once.
    if reports.iter().any(|r| r.counts.changed())
        && let Some(pid) = wirefeed::pidfile::running_daemon(&config.storage.database)
        && let Err(e) = wirefeed::control::announce_change(&config.storage.database, pid)
    {
        eprintln!("wirefeed: could not tell the running daemon (pid {pid}) to publish: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    // Opening the writer first applies migrations (a backup of an old file is current);
    // the copy itself is read on a reader connection, which never blocks a running daemon.
    drop(Store::open(&config.storage.database)?);
    Store::open_reader(&config.storage.database)?.backup(file)?;
    out!(
        "backed up {} to {}",
        config.storage.database.display(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn opml_import(config: &Config, path: &std::path::Path, file: &str) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use std::io::Read;
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    }
    let subs = match wirefeed::opml::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wirefeed: {file}: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let current =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (edited, report) = match wirefeed::config::edit::add_sources(&current, path, config, &subs)
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wirefeed: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    for (url, why) in &report.skipped {
        out!("skipped {url}: {why}");
    }
    if report.added.is_empty() {
        out!("no new sources; {} left unchanged", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    wirefeed::config::edit::replace_file(path, &edited)
        .with_context(|| format!("replacing {}", path.display()))?;
    for (name, url) in &report.added {
        out!("added {name}: {url}");
    }
    out!(
        "{} source(s) added to {}",
        report.added.len(),
        path.display()
    );
    out!("{}", subscriptions::reload_daemon(config)?);
    Ok(ExitCode::SUCCESS)
}

fn render(config: Config, feed: &str, format: &str) -> anyhow::Result<ExitCode> {
    if config.feed(feed).is_none() {
        eprintln!(
            "wirefeed: no feed named {feed:?} in the config (known: {})",
            config
                .feeds
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    // Opening the writer applies migrations, so render works on a fresh database too.
    drop(Store::open(&config.storage.database)?);
    let publisher = Publisher::new(Arc::new(config));
    let format = wirefeed::publish::Format::from_ext(format).expect("clap checked the format");
    let rendered = publisher.render(feed, format)?.expect("feed exists");
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&rendered.body)?;
    writeln!(stdout)?;
    Ok(ExitCode::SUCCESS)
}

fn boilerplate(config: Config, source: Option<&str>, all: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.storage.database)?;
    let threshold = u32::try_from(config.clean.learn_after).unwrap_or(u32::MAX);
    let rows = store.learned_list(source, if all { 2 } else { threshold })?;
    let provenance = wirefeed::publish::provenance::Provenance::of(&config);
    if rows.is_empty() {
        out!("no learned boilerplate yet");
    }
    for r in rows {
        let learned = if r.stats.entries >= threshold {
            "learned"
        } else {
            "candidate"
        };
        let last = chrono::DateTime::from_timestamp(r.stats.last_seen, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        out!(
            "{}\t{learned}\tentries={}\tlast={last}\t{}",
            r.source,
            r.stats.entries,
            provenance.scrub_text(&r.source, &r.stats.sample)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn stories(config: Config, json: bool) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let store = Store::open(&config.storage.database)?;
    let mut list = store.story_listing()?;
    wirefeed::publish::provenance::Provenance::of(&config).apply_listing(&mut list);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &list)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in &list {
        writeln!(
            out,
            "{}\t{}\t{} outlet{}\t{}",
            s.published,
            s.id,
            s.entries.len(),
            if s.entries.len() == 1 { "" } else { "s" },
            s.title
        )?;
        for e in &s.entries {
            writeln!(
                out,
                "    {}\t{}",
                e.source,
                e.url.as_deref().unwrap_or(&e.guid)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
