//! Published feeds: rendering from the store, caching, and serving over HTTP.
//!
//! Rendering is cached per feed and tagged with a generation number that ingest bumps when it
//! changes something; a request for an unchanged feed is answered from memory without touching
//! the database, and its ETag stays the same so readers get 304s.

pub mod atom;
pub mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::model::StoredStory;
use crate::store::{EntryQuery, Store, StoreError, StoryQuery};

/// One rendered feed document with its HTTP validators.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: &'static str,
    /// Strong ETag (quoted), derived from the bytes.
    pub etag: String,
    /// The newest entry's update time (HTTP dates have one-second resolution).
    pub last_modified: DateTime<Utc>,
    generation: u64,
}

/// Renders and caches the configured feeds.
pub struct Publisher {
    db_path: PathBuf,
    config: RwLock<Arc<Config>>,
    generation: AtomicU64,
    cache: Mutex<HashMap<String, Arc<Rendered>>>,
    /// One reader connection, reused; WAL lets it read while the writer writes.
    reader: Mutex<Option<Store>>,
}

impl Publisher {
    /// A publisher reading from the configured database.
    pub fn new(config: Arc<Config>) -> Publisher {
        Publisher {
            db_path: config.storage.database.clone(),
            config: RwLock::new(config),
            generation: AtomicU64::new(1),
            cache: Mutex::new(HashMap::new()),
            reader: Mutex::new(None),
        }
    }

    /// The configuration feeds are rendered with.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    /// Swaps in a reloaded configuration; every cached feed is re-rendered on next request.
    pub fn set_config(&self, config: Arc<Config>) {
        *self.config.write().expect("config lock") = config;
        self.invalidate();
    }

    /// Marks every cached feed stale (called after an ingest changed something).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The Atom document of a feed, from cache when nothing changed since it was rendered.
    /// `Ok(None)` when no such feed is configured. Blocking: call from a blocking context.
    pub fn atom(&self, feed_name: &str) -> Result<Option<Arc<Rendered>>, StoreError> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(r) = self.cache.lock().expect("cache lock").get(feed_name)
            && r.generation == generation
        {
            return Ok(Some(r.clone()));
        }
        let config = self.config();
        let Some(feed) = config.feed(feed_name) else {
            return Ok(None);
        };
        let stories: Vec<StoredStory> = {
            let mut reader = self.reader.lock().expect("reader lock");
            if reader.is_none() {
                *reader = Some(Store::open_reader(&self.db_path)?);
            }
            let store = reader.as_ref().expect("just opened");
            if feed.dedup {
                store.stories(&StoryQuery {
                    sources: &feed.sources,
                    limit: feed.limit,
                })?
            } else {
                store
                    .entries(&EntryQuery {
                        sources: &feed.sources,
                        limit: feed.limit,
                    })?
                    .into_iter()
                    .map(StoredStory::single)
                    .collect()
            }
        };
        let body = atom::render_atom(feed, &config.server.base_url, &stories);
        let last_modified = stories
            .iter()
            .map(|s| s.entry.updated)
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let rendered = Arc::new(Rendered {
            etag: format!("\"{}\"", &blake3::hash(body.as_bytes()).to_hex()[..32]),
            body: Bytes::from(body),
            content_type: "application/atom+xml; charset=utf-8",
            last_modified,
            generation,
        });
        self.cache
            .lock()
            .expect("cache lock")
            .insert(feed_name.to_string(), rendered.clone());
        Ok(Some(rendered))
    }
}
