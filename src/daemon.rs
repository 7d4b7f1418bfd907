//! The long-running service: wires the stages as tokio tasks and handles signals.
//!
//! It holds no business logic. The scheduler loop owns one map of "next run" times; each due
//! source is ingested on its own task through the [`Runner`] (which enforces the concurrency
//! limits) and reports back over a channel, so the loop itself never blocks on the network.
//! The config reloads when its file is saved ([`crate::config::watch`]) or on SIGHUP, through
//! the same validation (a bad file keeps the old one); SIGUSR1 picks up `wirefeed refresh`
//! requests ([`crate::control`]) and fetches those sources now. SIGTERM/SIGINT stop
//! scheduling, give in-flight fetches up to ten seconds, then close the database cleanly.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::model::{Outcome, SourceReport};
use crate::publish::{Publisher, server};
use crate::runner::Runner;
use crate::store::Store;

/// In-flight fetches get this long to finish at shutdown; with the server's drain and the
/// final commit the daemon exits within ten seconds (systemd's TimeoutStopSec is 20 s).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(7);

/// Ingest quiet for this long after a burst: the daemon gives back the memory the burst used
/// (SQLite page caches, the allocator's free pages).
const QUIET: Duration = Duration::from_secs(5);

/// How often the scheduler's next-run times are saved (they are also saved at shutdown).
const SCHEDULE_SAVE_EVERY: Duration = Duration::from_secs(600);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf) -> anyhow::Result<()> {
    // These handlers first: a SIGHUP or SIGUSR1 sent as soon as the pid file appears must
    // be caught, not kill the daemon (their default action). SIGTERM keeps its default
    // until the loop runs, so a stop during start-up is immediate.
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigusr1 = signal(SignalKind::user_defined1())?;
    let config = Arc::new(load(&config_path)?);
    // One writer per database: a second `run` stops here (exit 2), before it touches the
    // store or the pid file. Held until this function returns.
    let lock = crate::pidfile::DaemonLock::acquire(&config.storage.database)?;
    let store = Store::open(&config.storage.database)?;
    store.set_cache_mb(config.storage.cache_mb)?;
    let writer = Arc::new(Mutex::new(store));
    register_sources(&writer, &config)?;
    let mut runner = Runner::new(&config, writer.clone())?;
    let publisher = Arc::new(Publisher::new(config.clone()));

    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let local = listener.local_addr()?;
    if let Err(e) = crate::control::prepare(&config.storage.database) {
        tracing::warn!(error = %e, "cannot make the request folder; `wirefeed refresh` will not reach this daemon");
    }
    let _pid_file = lock
        .write_pid_file()
        .map_err(|e| tracing::warn!(error = %e, "cannot write the pid file; `opml import` will not reload this daemon"))
        .ok();
    tracing::info!(listen = %local, base_url = %config.server.base_url, sources = config.sources.len(), feeds = config.feeds.len(), "wirefeed started");
    for w in &config.warnings {
        tracing::warn!("{w}");
    }

    // Archive pages, static files and WebSub pings after changes; one pass at start.
    let after_changes = tokio::spawn(publisher.clone().run_after_changes(writer.clone()));
    // Feeds are rendered off the request path, and changes by other processes are seen.
    let refresher = tokio::spawn(publisher.clone().run_refresher());
    let store_watch = tokio::spawn(publisher.clone().watch_store());
    publisher.changed();

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let metrics = Arc::new(crate::metrics::Metrics::new(
        config.storage.database.clone(),
    ));
    metrics.set_sources(config.sources.len(), 0);
    publisher.measure_freshness(metrics.publish_freshness());
    let app = server::router(publisher.clone(), metrics.clone());
    let mut http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await
    });

    let mut status = crate::notify::StatusLine::new(config.sources.len());
    // The port is bound and the server task runs: systemd may route traffic now.
    crate::notify::ready(&status.render());
    // The watchdog is fed from this loop only; without one, STATUS= is refreshed anyway.
    let mut heartbeat = tokio::time::interval(
        crate::notify::watchdog_interval().unwrap_or(Duration::from_secs(10)),
    );
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    // Saving the file reloads it. Without a watch (inotify limits) SIGHUP still works.
    let mut watch = crate::config::watch::watch(&config_path)
        .map_err(
            |e| tracing::warn!(error = %e, "cannot watch the config file; reload it with SIGHUP"),
        )
        .ok();
    let mut loaded = crate::config::watch::fingerprint(&config_path);
    let mut settle_at: Option<tokio::time::Instant> = None;
    let database = config.storage.database.clone();
    // Refresh requests not yet started, and those whose fetch is running, by source.
    let mut refresh_waiting: HashMap<String, Vec<String>> = HashMap::new();
    let mut refresh_running: HashMap<String, Vec<String>> = HashMap::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let (report_tx, mut report_rx) = mpsc::unbounded_channel::<SourceReport>();
    let mut next_runs = initial_next_runs(&writer, &config);
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut config = config;
    // When to give memory back: set when the last fetch in flight reports.
    let mut release_at: Option<tokio::time::Instant> = None;
    let mut save_schedule = tokio::time::interval(SCHEDULE_SAVE_EVERY);
    save_schedule.tick().await;

    loop {
        let now = Utc::now();
        for source in config.sources.iter().filter(|s| s.enabled) {
            let due = next_runs.get(&source.name).is_none_or(|t| *t <= now);
            // Due sources beyond a small window wait their turn here rather than as parked
            // tasks; the next report that comes back wakes the loop.
            let room = in_flight.len() < config.fetch.concurrency * 4;
            if due && room && !in_flight.contains(&source.name) {
                in_flight.insert(source.name.clone());
                if let Some(ids) = refresh_waiting.remove(&source.name) {
                    refresh_running.insert(source.name.clone(), ids);
                }
                let (r, s, tx) = (runner.clone(), source.clone(), report_tx.clone());
                tasks.spawn(async move {
                    let _ = tx.send(r.run_source(&s).await);
                });
            }
        }
        let wake = next_runs
            .iter()
            .filter(|(n, _)| !in_flight.contains(*n) && config.source(n).is_some_and(|s| s.enabled))
            .map(|(_, t)| *t)
            .min()
            .map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        let settled = async {
            match settle_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let quiet = async {
            match release_at {
                Some(t) if in_flight.is_empty() => tokio::time::sleep_until(t).await,
                _ => std::future::pending().await,
            }
        };
        let mut reload_now = false;
        tokio::select! {
            Some(report) = report_rx.recv() => {
                in_flight.remove(&report.source);
                // A source removed by a reload while in flight is not scheduled again.
                if config.source(&report.source).is_some() {
                    // A refresh asked for while this fetch ran gets a fetch of its own, now.
                    let next = if refresh_waiting.contains_key(&report.source) {
                        Utc::now()
                    } else {
                        report.next_run_at
                    };
                    next_runs.insert(report.source.clone(), next);
                }
                log_report(&report);
                for id in refresh_running.remove(&report.source).unwrap_or_default() {
                    crate::control::answer(&database, &id, &report.to_string());
                }
                status.record(&report, Utc::now());
                metrics.record(&report);
                metrics.set_sources(status.sources(), status.failing());
                if report.counts.changed() {
                    publisher.changed();
                }
                if in_flight.is_empty() {
                    release_at = Some(tokio::time::Instant::now() + QUIET);
                }
            }
            _ = quiet => {
                release_at = None;
                release_memory(&writer, &publisher).await;
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = save_schedule.tick() => {
                persist_schedule(&writer, &next_runs).await;
                if runner.upkeep().await > 0 {
                    publisher.changed();
                }
            }
            _ = tokio::time::sleep(wake) => {}
            _ = heartbeat.tick() => {
                if crate::notify::watchdog_interval().is_some() {
                    crate::notify::watchdog();
                }
                crate::notify::status(&status.render());
                // Saves leave their group transaction open for a save already waiting
                // (`store::group`); if that one panicked before saving, the group would stay
                // open, invisible to readers, for as long as the daemon idles.
                let w = writer.clone();
                tokio::task::spawn_blocking(move || {
                    let mut store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Err(e) = store.settle() {
                        tracing::error!(error = %e, "could not commit the last saves");
                    }
                });
            }
            _ = sighup.recv() => reload_now = true,
            Some(()) = async {
                match watch.as_mut() {
                    Some(w) => w.touched.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                // Wait for the writes to settle: every event moves the moment on.
                settle_at = Some(tokio::time::Instant::now() + crate::config::watch::SETTLE);
            }
            _ = settled => {
                settle_at = None;
                let now_on_disk = crate::config::watch::fingerprint(&config_path);
                if now_on_disk.is_some() && now_on_disk != loaded {
                    tracing::info!(path = %config_path.display(), "config file changed; reloading");
                    reload_now = true;
                }
            }
            _ = sigusr1.recv() => {
                for request in crate::control::take_requests(&database) {
                    let r = match request {
                        crate::control::Request::Changed => {
                            tracing::info!("another process stored new entries; publishing them");
                            publisher.changed();
                            continue;
                        }
                        crate::control::Request::Refresh(r) => r,
                    };
                    match config.source(&r.source) {
                        Some(s) if s.enabled => {
                            tracing::info!(source = %r.source, "refresh requested");
                            next_runs.insert(r.source.clone(), Utc::now());
                            refresh_waiting.entry(r.source).or_default().push(r.id);
                        }
                        Some(_) => crate::control::answer(&database, &r.id, &format!("{}\tdisabled (enabled = false in the config): not fetched", r.source)),
                        None => crate::control::answer(&database, &r.id, &format!("{}\tunknown source: not in the running config", r.source)),
                    }
                }
            }
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            r = &mut http => {
                anyhow::bail!("HTTP server stopped: {:?}", r);
            }
        }
        if reload_now {
            crate::notify::reloading();
            loaded = crate::config::watch::fingerprint(&config_path);
            match reload(&config_path, &config, &runner, &writer) {
                Ok((new_config, new_runner)) => {
                    let known: HashSet<&str> =
                        new_config.sources.iter().map(|s| s.name.as_str()).collect();
                    next_runs.retain(|n, _| known.contains(n.as_str()));
                    for s in &new_config.sources {
                        let changed = config.source(&s.name) != Some(s);
                        if changed {
                            next_runs.remove(&s.name);
                        }
                    }
                    runner = new_runner;
                    config = Arc::new(new_config);
                    publisher.set_config(config.clone());
                    publisher.changed();
                    let names: Vec<String> =
                        config.sources.iter().map(|s| s.name.clone()).collect();
                    status.reconfigured(&names);
                    metrics.set_sources(status.sources(), status.failing());
                    for w in &config.warnings {
                        tracing::warn!("{w}");
                    }
                    tracing::info!(
                        sources = config.sources.len(),
                        feeds = config.feeds.len(),
                        "config reloaded"
                    );
                }
                Err(e) => {
                    // A message about a bad value may quote it, credentials and all.
                    let e = crate::redact::Redactor::default()
                        .scrub(&e.to_string())
                        .into_owned();
                    tracing::error!(error = %e, "config reload failed; keeping the running config");
                    let first = e.to_string().lines().next().unwrap_or_default().to_string();
                    status.set_note(format!(
                        "config reload failed, running the previous config: {first}"
                    ));
                }
            }
            crate::notify::ready(&status.render());
        }
    }

    crate::notify::stopping();
    tracing::info!(in_flight = in_flight.len(), "shutting down");
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!("abandoning fetches still running after {SHUTDOWN_GRACE:?}");
        tasks.abort_all();
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), http).await;
    for task in [after_changes, refresher, store_watch] {
        task.abort();
        let _ = task.await;
    }
    drop(runner);
    persist_schedule(&writer, &next_runs).await;
    // Closing the last connection checkpoints the WAL into the main file.
    match Arc::try_unwrap(writer) {
        Ok(m) => drop(m.into_inner()),
        Err(_) => tracing::warn!("database still in use at exit"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Gives back what a burst of ingest left: the writer's and the reader's page caches, then
/// the allocator's free pages. The caches fill again on the next burst.
async fn release_memory(writer: &Arc<Mutex<Store>>, publisher: &Arc<Publisher>) {
    let (w, p) = (writer.clone(), publisher.clone());
    let done = tokio::task::spawn_blocking(move || {
        let before = crate::alloc::resident_mib();
        {
            let mut store = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            store.settle()?;
            store.release_memory()?;
        }
        p.release_memory()?;
        let caches = crate::alloc::resident_mib();
        crate::alloc::release_free_memory();
        Ok::<_, crate::store::StoreError>((before, caches, crate::alloc::resident_mib()))
    })
    .await;
    match done {
        Ok(Ok((before, caches, after))) => tracing::debug!(
            rss_mib_before = before,
            rss_mib_after_caches = caches,
            rss_mib_after = after,
            "ingest quiet: memory given back"
        ),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot release the page caches"),
        Err(e) => tracing::error!(error = %e, "memory release task failed"),
    }
}

async fn persist_schedule(writer: &Arc<Mutex<Store>>, next_runs: &HashMap<String, DateTime<Utc>>) {
    let runs: Vec<(String, DateTime<Utc>)> =
        next_runs.iter().map(|(n, t)| (n.clone(), *t)).collect();
    let w = writer.clone();
    match tokio::task::spawn_blocking(move || {
        w.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .save_schedule(&runs)
    })
    .await
    {
        Ok(Ok(n)) => tracing::debug!(changed = n, "schedule saved"),
        Ok(Err(e)) => tracing::error!(error = %e, "cannot save the schedule"),
        Err(e) => tracing::error!(error = %e, "schedule save task failed"),
    }
}

fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

fn register_sources(writer: &Arc<Mutex<Store>>, config: &Config) -> anyhow::Result<()> {
    let mut w = writer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for s in &config.sources {
        w.register_source(&s.name, s.url.as_str())?;
    }
    Ok(())
}

/// Next run per source from the store; a source never fetched (or overdue after downtime) is
/// due now, once.
fn initial_next_runs(
    writer: &Arc<Mutex<Store>>,
    config: &Config,
) -> HashMap<String, DateTime<Utc>> {
    let w = writer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = Utc::now();
    config
        .sources
        .iter()
        .map(|s| {
            let stored = w
                .source_state(&s.name)
                .ok()
                .flatten()
                .and_then(|st| st.next_run_at);
            // Sources due at start (never fetched, or overdue after downtime) are spread over a
            // few seconds by their jitter instead of all firing in the same instant.
            let spread = crate::schedule::startup_spread(&s.schedule, &s.name, now);
            (
                s.name.clone(),
                stored.filter(|t| *t > now).unwrap_or(spread),
            )
        })
        .collect()
}

/// Re-reads the config. Returns the new config and a runner for it (which keeps the
/// running one's in-flight limits when they did not change): each source's cleaning rules
/// are compiled by the runner, so a new or edited source needs a new one.
fn reload(
    path: &Path,
    old: &Config,
    current: &Runner,
    writer: &Arc<Mutex<Store>>,
) -> anyhow::Result<(Config, Runner)> {
    let new = load(path)?;
    if new.server.listen != old.server.listen {
        tracing::warn!(old = %old.server.listen, new = %new.server.listen, "a new listen address takes effect at restart");
    }
    if new.storage.database != old.storage.database {
        tracing::warn!("a new database path takes effect at restart");
    }
    register_sources(writer, &new)?;
    let runner = current.reloaded(&new)?;
    Ok((new, runner))
}

fn log_report(r: &SourceReport) {
    for w in &r.warnings {
        tracing::warn!(source = %r.source, "{w}");
    }
    match &r.outcome {
        Outcome::Error(e) => {
            tracing::warn!(source = %r.source, error = %e, ms = r.duration_ms, next = %r.next_run_at, "fetch failed")
        }
        o => {
            tracing::info!(source = %r.source, outcome = o.label(), new = r.counts.new, updated = r.counts.updated, ms = r.duration_ms, next = %r.next_run_at, "fetched")
        }
    }
}
