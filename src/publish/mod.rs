//! Published feeds: rendering from the store, caching, and serving over HTTP.
//!
//! Rendering is cached per feed and format and tagged with a generation number that ingest
//! bumps when it changes something; a request for an unchanged feed is answered from memory
//! without touching the database, and its ETag stays the same so readers get 304s. Each
//! rendering is compressed (gzip, brotli) once, when it is made, never per request.

pub mod access;
pub mod archive;
pub mod atom;
pub mod changes;
pub mod filter;
pub mod html;
mod info;
pub mod json;
pub mod media;
mod negotiate;
pub mod note;
pub mod provenance;
mod refresh;
pub mod rss;
pub mod server;
pub mod status;
pub mod websub;

pub use info::{Doc, FeedInfo, next_change, ttl_minutes};
pub use refresh::{DEBOUNCE, WATCH_EVERY};

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, FeedConfig};
use crate::model::StoredStory;
use crate::store::{EntryQuery, Store, StoreError, StoryQuery};

/// The Content-Type of a feed's web page.
pub const HTML_TYPE: &str = "text/html; charset=utf-8";

/// Removes the `<?xml-stylesheet?>` instruction that archive pages frozen by older
/// versions carry: it named an XSLT stylesheet, and browsers now get the page
/// ([`html`]) instead, while Chromium shows a deprecation banner over XSLT.
pub fn without_stylesheet(body: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = body.find("<?xml-stylesheet") else {
        return std::borrow::Cow::Borrowed(body);
    };
    let end = body[start..]
        .find("?>")
        .map_or(body.len(), |e| start + e + 2);
    let rest = body[end..].strip_prefix('\n').unwrap_or(&body[end..]);
    std::borrow::Cow::Owned(format!("{}{rest}", &body[..start]))
}

/// The formats every feed is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Atom 1.0, the primary format: the richest (related links, sources, html content).
    Atom,
    /// RSS 2.0, for readers that take nothing else.
    Rss,
    /// JSON Feed 1.1, for readers and scripts that prefer JSON.
    Json,
}

impl Format {
    /// Every format, Atom (the primary one) first.
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    /// The format served at a file extension (`world.rss` → RSS).
    pub fn from_ext(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == ext)
    }

    /// The file extension of the feed's URL.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    /// The media type without parameters (for `<link type>` and autodiscovery).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// The Content-Type header, with the charset strict readers want.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// Renders stories as a document of this format.
    pub fn render(self, info: &FeedInfo<'_>, base: &Url, stories: &[StoredStory]) -> String {
        match self {
            Format::Atom => atom::render_atom(info, base, stories),
            Format::Rss => rss::render_rss(info, base, stories),
            Format::Json => json::render_json(info, base, stories),
        }
    }

    /// The name people know the format by.
    pub fn label(self) -> &'static str {
        match self {
            Format::Atom => "Atom",
            Format::Rss => "RSS",
            Format::Json => "JSON Feed",
        }
    }
}

/// One rendered feed document with its HTTP validators and compressed forms.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The document as served without compression; `Bytes` so each response shares it.
    pub body: Bytes,
    /// `body` gzip-compressed, made once with the rendering.
    pub gzip: Bytes,
    /// `body` brotli-compressed, made once with the rendering.
    pub br: Bytes,
    /// The Content-Type header of the format.
    pub content_type: &'static str,
    /// Strong ETag of the uncompressed bytes, quoted; compressed forms append `-gz` / `-br`
    /// inside the quotes (a strong validator names exact bytes).
    pub etag: String,
    /// When this document last changed (HTTP dates have one-second resolution).
    pub last_modified: DateTime<Utc>,
    /// Until when it cannot change (the next scheduled fetch of its sources); `None` for a
    /// document that never changes (an archive page).
    pub fresh_until: Option<DateTime<Utc>>,
    generation: u64,
}

impl Rendered {
    /// Wraps a rendered document: hashes it and compresses it once.
    pub fn new(
        body: String,
        format: Format,
        last_modified: DateTime<Utc>,
        fresh_until: Option<DateTime<Utc>>,
    ) -> Self {
        // A document that never changes is compressed once, for good: the smallest output. A
        // live one is rendered again after every ingest that touches it, and brotli 11 took
        // ~0.2 s per 200 KB feed (readers waited on it during ingest): brotli 5 and gzip 6
        // come within a few percent of the best sizes in a small fraction of the time.
        let (gzip_level, br_quality) = match fresh_until {
            None => (flate2::Compression::best(), 11),
            Some(_) => (flate2::Compression::default(), 5),
        };
        let gzip = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), gzip_level);
            enc.write_all(body.as_bytes()).expect("writing to a Vec");
            enc.finish().expect("writing to a Vec")
        };
        let br = {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: br_quality,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut body.as_bytes(), &mut out, &params)
                .expect("writing to a Vec");
            out
        };
        Rendered {
            etag: format!("\"{}\"", &blake3::hash(body.as_bytes()).to_hex()[..32]),
            body: Bytes::from(body),
            gzip: Bytes::from(gzip),
            br: Bytes::from(br),
            content_type: format.content_type(),
            last_modified,
            fresh_until,
            generation: 0,
        }
    }

    /// The same document with other bytes (its links carrying a reader's token): same type
    /// and dates, its own ETag and compressed forms.
    pub fn derived(&self, body: String) -> Rendered {
        let format = Format::ALL
            .into_iter()
            .find(|f| f.content_type() == self.content_type)
            .unwrap_or(Format::Atom);
        let mut r = Rendered::new(body, format, self.last_modified, self.fresh_until);
        r.generation = self.generation;
        // A web page stays one (its type is no feed format's).
        r.content_type = self.content_type;
        r
    }

    /// Seconds a reader may cache it now (`Cache-Control: max-age`): until the next scheduled
    /// fetch, at least a minute and at most an hour (a fetch may run early after a restart or
    /// a reload); a year for a document that never changes.
    pub fn max_age(&self, now: DateTime<Utc>) -> u64 {
        match self.fresh_until {
            None => ARCHIVE_MAX_AGE,
            Some(t) => (t - now).num_seconds().clamp(60, 3600) as u64,
        }
    }
}

/// A live document: feed name and format.
type DocKey = (String, Format);

/// Archive pages never change: readers may keep them for a year.
const ARCHIVE_MAX_AGE: u64 = 365 * 86_400;

/// Renders and caches the configured feeds.
pub struct Publisher {
    db_path: PathBuf,
    config: RwLock<Arc<Config>>,
    /// What may be shown of each source, for the configuration above.
    provenance: RwLock<Arc<provenance::Provenance>>,
    generation: AtomicU64,
    cache: Mutex<HashMap<(String, Format), Arc<Rendered>>>,
    status: Mutex<Option<status::StatusPage>>,
    /// Per feed: how far the archive scan got (see `archive::Cursor`).
    archive_cursors: Mutex<HashMap<String, archive::Cursor>>,
    /// Per live document: its last ETag and when that changed (for Last-Modified).
    modified: Mutex<HashMap<DocKey, (String, DateTime<Utc>)>>,
    /// Frozen archive pages, rendered with their compressed forms.
    archives: Mutex<HashMap<(String, u32, Format), Arc<Rendered>>>,
    /// Feeds' web pages (see [`html`]), by feed and the format they name; an archive page's
    /// under `NAME/archive/N`.
    pages: Mutex<HashMap<DocKey, Arc<Rendered>>>,
    /// What static export and WebSub last saw of each live document (its ETag).
    published: Mutex<HashMap<(String, Format), String>>,
    /// Wakes the after-change task.
    changed: tokio::sync::Notify,
    /// One reader connection, reused; WAL lets it read while the writer writes.
    reader: Mutex<Option<Store>>,
    /// Live documents and the status page being rendered now (see [`Flights`]).
    rendering: Flights,
    /// Documents whose links carry a reader's token (see [`access`]), by the plain
    /// document's ETag and the token's digest.
    tokenized: Mutex<HashMap<(String, blake3::Hash), Arc<Rendered>>>,
    /// Whether static export has looked for archive files written with secrets by an older
    /// version (once per start).
    legacy_checked: std::sync::atomic::AtomicBool,
    /// A refresher task renders stale documents (see [`refresh`]): requests serve the
    /// previous bytes meanwhile instead of rendering.
    background: std::sync::atomic::AtomicBool,
    /// Wakes the refresher.
    refresh: tokio::sync::Notify,
    /// A request found the status page's snapshot out of date.
    status_wanted: std::sync::atomic::AtomicBool,
    /// When each recent generation began (see [`refresh`]): how long a document was stale.
    changes: Mutex<std::collections::VecDeque<(u64, std::time::Instant)>>,
    /// Where the refresher records freshness, when the daemon measures it.
    freshness: std::sync::OnceLock<prometheus_client::metrics::histogram::Histogram>,
}

/// One rendering at a time per document.
///
/// Why: under a busy ingest every save makes the documents stale, and each request used to
/// render its own copy, all of them queueing on the one reader connection: at 32 concurrent
/// readers the feed took seconds. Now a request that finds a rendering in progress waits for
/// it and takes its result when that is at least as new as what the request saw; otherwise
/// it renders next. A reader therefore never gets a document older than the store was when
/// it asked, and at most one rendering per document runs.
#[derive(Default)]
struct Flights {
    active: Mutex<HashSet<Option<DocKey>>>,
    done: std::sync::Condvar,
}

/// What a request does about a stale document.
enum Turn<'a, T> {
    /// A rendering that finished meanwhile is new enough.
    Ready(T),
    /// This request renders; others wait until the guard drops.
    Render(InFlight<'a>),
}

/// Marks a document as being rendered until dropped.
struct InFlight<'a> {
    flights: &'a Flights,
    key: Option<DocKey>,
}

impl Flights {
    /// Waits for any rendering of `key` in progress; `fresh` says whether what is cached now
    /// will do (`None` is the status page).
    fn turn<T>(&self, key: Option<DocKey>, fresh: impl Fn() -> Option<T>) -> Turn<'_, T> {
        let mut active = self.active.lock().expect("rendering lock");
        loop {
            if let Some(r) = fresh() {
                return Turn::Ready(r);
            }
            if active.insert(key.clone()) {
                return Turn::Render(InFlight { flights: self, key });
            }
            active = self.done.wait(active).expect("rendering lock");
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.flights
            .active
            .lock()
            .expect("rendering lock")
            .remove(&self.key);
        self.flights.done.notify_all();
    }
}

impl Publisher {
    /// A publisher reading from the configured database.
    pub fn new(config: Arc<Config>) -> Publisher {
        Publisher {
            db_path: config.storage.database.clone(),
            provenance: RwLock::new(Arc::new(provenance::Provenance::of(&config))),
            config: RwLock::new(config),
            generation: AtomicU64::new(1),
            cache: Mutex::new(HashMap::new()),
            status: Mutex::new(None),
            modified: Mutex::new(HashMap::new()),
            archive_cursors: Mutex::new(HashMap::new()),
            archives: Mutex::new(HashMap::new()),
            pages: Mutex::new(HashMap::new()),
            published: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
            reader: Mutex::new(None),
            rendering: Flights::default(),
            tokenized: Mutex::new(HashMap::new()),
            legacy_checked: std::sync::atomic::AtomicBool::new(false),
            background: std::sync::atomic::AtomicBool::new(false),
            refresh: tokio::sync::Notify::new(),
            status_wanted: std::sync::atomic::AtomicBool::new(false),
            changes: Mutex::new(std::collections::VecDeque::new()),
            freshness: std::sync::OnceLock::new(),
        }
    }

    /// The configuration feeds are rendered with.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// Swaps in a reloaded configuration; every cached feed is re-rendered on next request.
    pub fn set_config(&self, config: Arc<Config>) {
        *self.provenance.write().expect("provenance lock") =
            Arc::new(provenance::Provenance::of(&config));
        *self.config.write().expect("config lock") = config;
        // Not only stale: a reloaded feed may have other sources or filters, and nothing
        // rendered under the old configuration may be served in the meantime.
        self.cache.lock().expect("cache lock").clear();
        self.pages.lock().expect("pages lock").clear();
        *self.status.lock().expect("status lock") = None;
        self.invalidate();
    }

    /// Marks every cached feed stale (called after an ingest changed something), and wakes
    /// the refresher, if one runs, to render them again.
    pub fn invalidate(&self) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.note_change(generation);
        self.refresh.notify_one();
    }

    /// What may be shown of each source: every story rendered passes through it.
    pub fn provenance(&self) -> Arc<provenance::Provenance> {
        self.provenance.read().expect("provenance lock").clone()
    }

    /// The Atom document of a feed (see [`Publisher::render`]).
    pub fn atom(&self, feed_name: &str) -> Result<Option<Arc<Rendered>>, StoreError> {
        self.render(feed_name, Format::Atom)
    }

    /// A feed in one format if its cached rendering is current; never blocks on the store.
    pub fn cached(&self, feed_name: &str, format: Format) -> Option<Arc<Rendered>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let cache = self.cache.lock().expect("cache lock");
        cache
            .get(&(feed_name.to_string(), format))
            .filter(|r| r.generation == generation)
            .cloned()
    }

    /// A feed in one format, from cache when nothing changed since it was rendered.
    /// `Ok(None)` when no such feed is configured. Blocking: call from a blocking context.
    pub fn render(
        &self,
        feed_name: &str,
        format: Format,
    ) -> Result<Option<Arc<Rendered>>, StoreError> {
        Ok(self
            .render_formats(feed_name, &[format])?
            .and_then(|mut r| r.pop()))
    }

    /// [`Publisher::render`] for several formats of one feed (in [`Format::ALL`] order, so
    /// that two callers never wait on each other's renderings), from one reading of its
    /// stories: the refresher renders a stale feed's formats together.
    pub(super) fn render_formats(
        &self,
        feed_name: &str,
        formats: &[Format],
    ) -> Result<Option<Vec<Arc<Rendered>>>, StoreError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut slots: Vec<Option<Arc<Rendered>>> = vec![None; formats.len()];
        let mut flights = Vec::new();
        for (i, &format) in formats.iter().enumerate() {
            if let Some(r) = self.cached(feed_name, format) {
                slots[i] = Some(r);
                continue;
            }
            let key = (feed_name.to_string(), format);
            let fresh = || {
                let cache = self.cache.lock().expect("cache lock");
                cache
                    .get(&key)
                    .filter(|r| r.generation >= generation)
                    .cloned()
            };
            match self.rendering.turn(Some(key.clone()), fresh) {
                Turn::Ready(r) => slots[i] = Some(r),
                Turn::Render(f) => flights.push((i, key, f)),
            }
        }
        if !flights.is_empty() {
            // What this rendering will reflect: at least what the request saw.
            let generation = self.generation.load(Ordering::SeqCst);
            let config = self.config();
            let Some(feed) = config.feed(feed_name) else {
                return Ok(None);
            };
            let stories = self.stories(feed)?;
            let (prev, podcast) = self.with_reader(|store| {
                Ok((
                    store.archive_state(&feed.name)?.pages,
                    store.podcast_of(&feed.sources)?,
                ))
            })?;
            let mut info = FeedInfo::of(
                feed,
                &config,
                Doc::Live {
                    prev: (prev > 0).then_some(prev),
                },
            );
            info.podcast = podcast;
            let base = &config.server.base_url;
            let newest = stories
                .iter()
                .map(|s| s.entry.updated)
                .max()
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
            let now = Utc::now();
            for (i, key, _flight) in flights {
                let format = key.1;
                let body = format.render(&info, base, &stories);
                let mut rendered =
                    Rendered::new(body, format, newest, Some(next_change(feed, &config, now)));
                // Last-Modified is when the bytes last changed: a new archive link or a pruned
                // story changes the document without a newer story. The first rendering after
                // start uses the newest story's date.
                {
                    let mut seen = self.modified.lock().expect("modified lock");
                    let at = match seen.get(&key) {
                        Some((etag, at)) if *etag == rendered.etag => *at,
                        Some(_) => now.max(newest),
                        None => newest,
                    };
                    rendered.last_modified = at;
                    seen.insert(key.clone(), (rendered.etag.clone(), at));
                }
                rendered.generation = generation;
                let rendered = Arc::new(rendered);
                self.cache
                    .lock()
                    .expect("cache lock")
                    .insert(key, rendered.clone());
                slots[i] = Some(rendered);
            }
        }
        Ok(Some(slots.into_iter().flatten().collect()))
    }

    /// Archive page `n` of a feed in one format, as frozen; `Ok(None)` when the feed or the
    /// page does not exist. Pages never change, so they are cached for good (a bounded
    /// number of them). Blocking: call from a blocking context.
    pub fn archive_page(
        &self,
        feed_name: &str,
        n: u32,
        format: Format,
    ) -> Result<Option<Arc<Rendered>>, StoreError> {
        let key = (feed_name.to_string(), n, format);
        if let Some(r) = self.archives.lock().expect("archive lock").get(&key) {
            return Ok(Some(r.clone()));
        }
        if self.config().feed(feed_name).is_none() {
            return Ok(None);
        }
        let Some(page) = self.with_reader(|s| s.archive_page(feed_name, n, format.ext()))? else {
            return Ok(None);
        };
        let body = String::from_utf8(page.body)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let body = match self.provenance().scrub_frozen(&body) {
            std::borrow::Cow::Owned(scrubbed) => scrubbed,
            std::borrow::Cow::Borrowed(_) => body,
        };
        let body = match without_stylesheet(&body) {
            std::borrow::Cow::Owned(plain) => plain,
            std::borrow::Cow::Borrowed(_) => body,
        };
        let rendered = Arc::new(Rendered::new(body, format, page.last_modified, None));
        let mut cache = self.archives.lock().expect("archive lock");
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(key, rendered.clone());
        Ok(Some(rendered))
    }

    /// Runs `f` on the shared reader connection, opening it on first use.
    pub(super) fn with_reader<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut reader = self.reader.lock().expect("reader lock");
        if reader.is_none() {
            let store = Store::open_reader(&self.db_path)?;
            // Readers render a few feeds at a time: a quarter of the writer's cache.
            store.set_cache_mb((self.config().storage.cache_mb / 4).max(1))?;
            *reader = Some(store);
        }
        f(reader.as_ref().expect("just opened"))
    }

    /// The stories a feed carries now, newest first, its filters applied, fit to publish
    /// (see [`provenance`]).
    pub fn stories(&self, feed: &FeedConfig) -> Result<Vec<StoredStory>, StoreError> {
        let filter = filter::StoryFilter::of(feed);
        let keep = |s: &StoredStory| filter.keeps(s);
        let mut stories = self.with_reader(|store| {
            let mut stories = Self::query(store, feed, &keep)?;
            if feed.dedup && feed.show_changes {
                for s in stories.iter_mut().filter(|s| s.revisions > 1) {
                    if let Some(rev) = store.latest_revision(&s.entry.public_id)? {
                        note::prepend(s, &rev);
                    }
                }
            }
            Ok(stories)
        })?;
        self.provenance().apply(&mut stories);
        Ok(stories)
    }

    fn query(
        store: &Store,
        feed: &FeedConfig,
        keep: &dyn Fn(&StoredStory) -> bool,
    ) -> Result<Vec<StoredStory>, StoreError> {
        if feed.dedup {
            store.stories(&StoryQuery {
                sources: &feed.sources,
                limit: feed.limit,
                keep,
            })
        } else {
            store.entries(&EntryQuery {
                sources: &feed.sources,
                limit: feed.limit,
                keep,
            })
        }
    }
}
