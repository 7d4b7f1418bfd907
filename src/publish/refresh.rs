//! Serving isolated from ingest: live documents are re-rendered off the request path.
//!
//! Why: during a 10k-source ingest every save made the feeds stale, and each request that
//! found its feed stale rendered it (or waited for the rendering in progress) on the one
//! reader connection: `/feeds/all.atom` had a p99 of 607 ms while ingest ran. Now, once a
//! document has been rendered, requests are answered from memory only: a stale document
//! wakes the refresher ([`Publisher::run_refresher`]) and is served as it is until the new
//! bytes replace it whole (one `Arc` swapped under a lock, never a half-written document).
//! Each document is rendered at most once per [`DEBOUNCE`], so a burst of saves costs one
//! rendering per second per feed, and a reader is never served bytes older than the last
//! change by more than the debounce plus one rendering.
//!
//! Changes made by other processes (`wirefeed fetch` beside the daemon, a restore) are seen
//! through `PRAGMA data_version` ([`Publisher::watch_store`]), polled every [`WATCH_EVERY`]
//! on a reader connection of its own; the same poll catches the daemon's own group commits
//! that land after the report that announced them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::{DocKey, Format, Publisher, Rendered};
use crate::store::Store;

/// Shortest time between two renderings of one live document.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// How often the store is asked whether another connection committed.
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

/// Generations remembered with the time they began: enough for every document the
/// refresher may find stale, bounded whatever the rate of changes.
const CHANGES_KEPT: usize = 4096;

/// Runs `f` on a thread of its own and waits for it without holding an async worker.
///
/// Why not `spawn_blocking`: during a burst of ingest, hundreds of parse and save tasks queue
/// on the blocking pool, and a rendering queued behind them was served seconds late.
/// `None` when the thread could not start or panicked.
async fn off_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("wirefeed-render".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| tracing::error!(error = %e, "cannot start a rendering thread"))
        .ok()?;
    rx.await.ok()
}

/// A live document the refresher keeps current.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Live {
    /// A feed in one format.
    Feed(DocKey),
    /// A feed's web page, naming one format.
    Page(DocKey),
    /// The status page's default view.
    Status,
}

/// The newest rendering of `key` in `cache`, if any; when it is stale and a refresher runs,
/// the refresher is woken and the stale bytes are served meanwhile. `None` means the caller
/// renders (nothing rendered yet, or no refresher: the CLI, tests).
fn newest(
    p: &Publisher,
    cache: &std::sync::Mutex<HashMap<DocKey, Arc<Rendered>>>,
    key: &DocKey,
) -> Option<Arc<Rendered>> {
    let generation = p.generation.load(Ordering::SeqCst);
    let r = cache.lock().expect("cache lock").get(key).cloned()?;
    if r.generation == generation {
        return Some(r);
    }
    if !p.background.load(Ordering::SeqCst) {
        return None;
    }
    p.refresh.notify_one();
    Some(r)
}

impl Publisher {
    /// Remembers when `generation` began. Called with each invalidation.
    pub(super) fn note_change(&self, generation: u64) {
        let mut changes = self.changes.lock().expect("changes lock");
        if changes.len() >= CHANGES_KEPT {
            changes.pop_front();
        }
        changes.push_back((generation, std::time::Instant::now()));
    }

    /// When a document rendered at generation `rendered` became stale: the start of the
    /// generation after it (or the oldest one remembered).
    fn stale_since(&self, rendered: u64) -> Option<std::time::Instant> {
        let changes = self.changes.lock().expect("changes lock");
        changes
            .iter()
            .find(|(g, _)| *g > rendered)
            .or(changes.front())
            .map(|(_, t)| *t)
    }

    /// When the cached rendering of a feed document became stale, if it is.
    fn feed_stale_since(&self, key: &DocKey) -> Option<Instant> {
        let generation = self.cache.lock().expect("cache lock").get(key)?.generation;
        self.stale_since(generation).map(Instant::from_std)
    }

    /// Records freshness (see [`Publisher::run_refresher`]) in `histogram` from now on.
    pub fn measure_freshness(&self, histogram: prometheus_client::metrics::histogram::Histogram) {
        let _ = self.freshness.set(histogram);
    }

    /// What a request for a feed is served without touching the store: its current
    /// rendering, or, while the refresher renders the next one, the previous.
    pub fn serve(&self, feed_name: &str, format: Format) -> Option<Arc<Rendered>> {
        newest(self, &self.cache, &(feed_name.to_string(), format))
    }

    /// [`Publisher::serve`] for a feed's web page.
    pub fn serve_page(&self, feed_name: &str, shown: Format) -> Option<Arc<Rendered>> {
        newest(self, &self.pages, &(feed_name.to_string(), shown))
    }

    /// Whether a refresher task keeps the documents current (the daemon); requests then
    /// never render a document that has been rendered once.
    pub fn refreshes_in_background(&self) -> bool {
        self.background.load(Ordering::SeqCst)
    }

    /// Live documents rendered before whose store has changed since.
    fn stale_documents(&self) -> Vec<Live> {
        let generation = self.generation.load(Ordering::SeqCst);
        let stale = |m: &HashMap<DocKey, Arc<Rendered>>| -> Vec<DocKey> {
            m.iter()
                .filter(|(_, r)| r.generation != generation)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let mut out: Vec<Live> = stale(&self.cache.lock().expect("cache lock"))
            .into_iter()
            .map(Live::Feed)
            .collect();
        out.extend(
            stale(&self.pages.lock().expect("pages lock"))
                .into_iter()
                .map(Live::Page),
        );
        if self.status_wanted.swap(false, Ordering::SeqCst) {
            out.push(Live::Status);
        }
        out
    }

    /// Renders one live document into its cache. Blocking.
    fn render_live(&self, doc: &Live) {
        let result = match doc {
            Live::Feed((name, format)) => self.render_formats(name, &[*format]).map(drop),
            Live::Page((name, format)) => self.html_view(name, *format).map(drop),
            Live::Status => self.refresh_status().map(drop),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, document = ?doc, "cannot render a live document; serving the previous one");
        }
    }

    /// The refresher: re-renders stale documents, each at most once per [`DEBOUNCE`], until
    /// the process ends. The daemon spawns it once; from then on requests are served from
    /// memory ([`Publisher::serve`]).
    pub async fn run_refresher(self: Arc<Self>) {
        self.background.store(true, Ordering::SeqCst);
        let mut last: HashMap<Live, Instant> = HashMap::new();
        loop {
            // Registered before looking, so a change made while rendering wakes the next pass.
            let woken = self.refresh.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let mut next: Option<Instant> = None;
            let mut rendered = false;
            let now = Instant::now();
            // Due feeds by name with their stale formats, rendered together from one query.
            let mut feeds: BTreeMap<String, Vec<Format>> = BTreeMap::new();
            let mut others = Vec::new();
            for doc in self.stale_documents() {
                let due = last.get(&doc).map_or(now, |t| *t + DEBOUNCE);
                if due > now {
                    if doc == Live::Status {
                        // Still wanted when its turn comes.
                        self.status_wanted.store(true, Ordering::SeqCst);
                    }
                    next = Some(next.map_or(due, |n: Instant| n.min(due)));
                    continue;
                }
                match doc {
                    Live::Feed((name, format)) => feeds.entry(name).or_default().push(format),
                    other => others.push(other),
                }
            }
            for (name, mut formats) in feeds {
                formats.sort_by_key(|f| Format::ALL.iter().position(|a| a == f));
                // Freshness of a feed: from when it became stale, or when its debounce ended
                // if that was later, until the new bytes are served.
                let since: Vec<Option<Instant>> = formats
                    .iter()
                    .map(|f| {
                        let doc = Live::Feed((name.clone(), *f));
                        let since = self.feed_stale_since(&(name.clone(), *f))?;
                        Some(last.get(&doc).map_or(since, |l| since.max(*l + DEBOUNCE)))
                    })
                    .collect();
                for f in &formats {
                    last.insert(Live::Feed((name.clone(), *f)), Instant::now());
                }
                rendered = true;
                let p = self.clone();
                match off_pool(move || p.render_formats(&name, &formats)).await {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "cannot render a feed; serving the previous one")
                    }
                    None => tracing::error!("rendering thread failed"),
                }
                if let Some(h) = self.freshness.get() {
                    for s in since.into_iter().flatten() {
                        h.observe(s.elapsed().as_secs_f64());
                    }
                }
            }
            for doc in others {
                last.insert(doc.clone(), Instant::now());
                let p = self.clone();
                if doc == Live::Status {
                    // The status page (a row per source) never holds the feeds back.
                    tokio::spawn(off_pool(move || p.render_live(&doc)));
                    continue;
                }
                rendered = true;
                if off_pool(move || p.render_live(&doc)).await.is_none() {
                    tracing::error!("rendering thread failed");
                }
            }
            if rendered {
                // Static export and WebSub follow what is served now.
                self.changed.notify_one();
            }
            // Forget documents long done with (a feed removed by a reload).
            last.retain(|_, t| t.elapsed() < DEBOUNCE * 60);
            match next {
                Some(t) => {
                    tokio::select! {
                        _ = &mut woken => {}
                        _ = tokio::time::sleep_until(t) => {}
                    }
                }
                None => woken.await,
            }
        }
    }

    /// Gives back what a burst left behind: the reader connection's page cache and the
    /// documents whose links carry a reader's token (made again on their next request).
    /// Blocking.
    pub fn release_memory(&self) -> Result<(), crate::store::StoreError> {
        self.tokenized.lock().expect("tokenized lock").clear();
        if let Some(reader) = self.reader.lock().expect("reader lock").as_ref() {
            reader.release_memory()?;
        }
        Ok(())
    }

    /// Watches the store for commits made through other connections (another process's
    /// `wirefeed fetch`, or this daemon's own group commits) and marks the feeds stale
    /// within [`WATCH_EVERY`]; runs until the process ends.
    pub async fn watch_store(self: Arc<Self>) {
        let path = self.db_path.clone();
        let mut tick = tokio::time::interval(WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut conn: Option<Store> = None;
        let mut seen: Option<i64> = None;
        loop {
            tick.tick().await;
            // Inline, not on the blocking pool: a burst of ingest queues hundreds of tasks
            // there, and this poll takes microseconds (it reads the WAL index header).
            if conn.is_none() {
                conn = Store::open_reader(&path)
                    .map_err(|e| tracing::warn!(error = %e, "cannot watch the store for changes"))
                    .ok();
            }
            let Some(store) = conn.as_ref() else {
                continue;
            };
            match store.data_version() {
                Ok(version) => {
                    if seen.is_some_and(|s| s != version) {
                        tracing::debug!("the store changed; rendering the feeds again");
                        self.changed();
                    }
                    seen = Some(version);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch the store for changes");
                    conn = None;
                }
            }
        }
    }
}
