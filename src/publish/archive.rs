//! RFC 5005 archived feeds: full pages of a feed's older stories, frozen once and linked
//! from the live feed by `prev-archive`, so that a reader that was offline catches up.
//!
//! A page holds `limit` stories (the feed's own size) in the order the stories first
//! appeared in the feed. It is written when it is full, in every format, and from then on
//! served as stored: its bytes never change, whatever later happens to its stories.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use url::Url;

use super::filter::StoryFilter;
use super::{Doc, FeedInfo, Format, Publisher};
use crate::config::{Config, FeedConfig};
use crate::model::StoredStory;
use crate::store::{ArchiveItem, ArchiveQuery, Store, StoreError};

/// The feed-history namespace and its prefix.
const FH: (&str, &str) = ("fh", "http://purl.org/syndication/history/1.0");

/// The URL of archive page `n` of a feed.
pub fn page_url(base: &Url, feed: &str, n: u32, ext: &str) -> String {
    format!("{base}feeds/{feed}/archive/{n}.{ext}")
}

/// Namespaces and extension elements marking an archive document (`<fh:archive/>`), for
/// the Atom writer.
pub(super) fn atom_marker(
    doc: Doc,
) -> (
    BTreeMap<String, String>,
    atom_syndication::extension::ExtensionMap,
) {
    let mut ns = BTreeMap::new();
    let mut ext = BTreeMap::new();
    if let Doc::Archive { .. } = doc {
        ns.insert(FH.0.to_string(), FH.1.to_string());
        let element = atom_syndication::extension::Extension {
            name: format!("{}:archive", FH.0),
            ..Default::default()
        };
        ext.insert(
            FH.0.to_string(),
            BTreeMap::from([("archive".to_string(), vec![element])]),
        );
    }
    (ns, ext)
}

/// [`atom_marker`] for the RSS writer.
pub(super) fn rss_marker(doc: Doc) -> (BTreeMap<String, String>, ::rss::extension::ExtensionMap) {
    let mut ns = BTreeMap::new();
    let mut ext = BTreeMap::new();
    if let Doc::Archive { .. } = doc {
        ns.insert(FH.0.to_string(), FH.1.to_string());
        let element = ::rss::extension::Extension {
            name: format!("{}:archive", FH.0),
            ..Default::default()
        };
        ext.insert(
            FH.0.to_string(),
            BTreeMap::from([("archive".to_string(), vec![element])]),
        );
    }
    (ns, ext)
}

/// Where the archive scan of one feed stands: kept in memory (a restart rescans from the
/// last frozen page), so each pass reads only what was stored since the previous one.
#[derive(Debug, Default)]
pub(super) struct Cursor {
    pages: u32,
    scanned_to: i64,
    pending: Vec<ArchiveItem>,
}

/// Scans per feed and pass at most (each reads a bounded number of stories).
const SCANS_PER_PASS: usize = 20;

impl Publisher {
    /// Freezes every archive page that has become full, for every configured feed; returns
    /// (feed, page) of each page written. Scanning and rendering use the reader connection;
    /// the writer is held only to store a finished page.
    pub(super) fn freeze_full_pages(
        &self,
        writer: &Mutex<Store>,
    ) -> Result<Vec<(String, u32)>, StoreError> {
        let config = self.config();
        let mut frozen = Vec::new();
        let mut cursors = self.archive_cursors.lock().expect("cursor lock");
        for feed in &config.feeds {
            let filter = StoryFilter::of(feed);
            let keep = |s: &StoredStory| filter.keeps(s);
            let state = self.with_reader(|s| s.archive_state(&feed.name))?;
            let cur = cursors.entry(feed.name.clone()).or_default();
            if cur.pages != state.pages || cur.scanned_to < state.last_key {
                *cur = Cursor {
                    pages: state.pages,
                    scanned_to: state.last_key,
                    pending: Vec::new(),
                };
            }
            for _ in 0..SCANS_PER_PASS {
                if cur.pending.len() < feed.limit {
                    let scan = self.with_reader(|s| {
                        s.archive_scan(&ArchiveQuery {
                            feed: &feed.name,
                            sources: &feed.sources,
                            dedup: feed.dedup,
                            after: cur.scanned_to,
                            limit: feed.limit - cur.pending.len(),
                            keep: &keep,
                        })
                    })?;
                    let progressed = scan.scanned_to > cur.scanned_to;
                    cur.scanned_to = scan.scanned_to;
                    for item in scan.kept {
                        // A pending story can show up again when another copy arrives.
                        if !cur.pending.iter().any(|p| p.item == item.item) {
                            cur.pending.push(item);
                        }
                    }
                    if cur.pending.len() < feed.limit {
                        if progressed {
                            continue;
                        }
                        break;
                    }
                }
                let page: Vec<ArchiveItem> = cur.pending.drain(..feed.limit).collect();
                let n = cur.pages + 1;
                if !self.freeze(&config, feed, n, &page, writer)? {
                    // Another writer moved the state: start again from the store next pass.
                    *cur = Cursor::default();
                    break;
                }
                cur.pages = n;
                frozen.push((feed.name.clone(), n));
            }
        }
        Ok(frozen)
    }

    /// Renders page `n` from its stories in every format and stores it.
    fn freeze(
        &self,
        config: &Config,
        feed: &FeedConfig,
        n: u32,
        page: &[ArchiveItem],
        writer: &Mutex<Store>,
    ) -> Result<bool, StoreError> {
        let last_key = page.last().map_or(0, |i| i.key);
        let items: Vec<i64> = page.iter().map(|i| i.item).collect();
        // Newest first, like the live feed.
        let mut stories: Vec<StoredStory> = page.iter().map(|i| i.story.clone()).collect();
        self.provenance().apply(&mut stories);
        stories.sort_by(|a, b| {
            (b.entry.published, &b.entry.public_id).cmp(&(a.entry.published, &a.entry.public_id))
        });
        let mut info = FeedInfo::of(feed, config, Doc::Archive { n });
        // A frozen page is not polled: no hub, no time-to-live.
        info.hub = None;
        info.ttl_minutes = None;
        let podcast = self.with_reader(|s| s.podcast_of(&feed.sources))?;
        info.podcast = podcast;
        let base = &config.server.base_url;
        let docs: Vec<(&str, String)> = Format::ALL
            .iter()
            .map(|f| (f.ext(), f.render(&info, base, &stories)))
            .collect();
        let refs: Vec<(&str, &[u8])> = docs.iter().map(|(f, b)| (*f, b.as_bytes())).collect();
        let last_modified: DateTime<Utc> = stories
            .iter()
            .map(|s| s.entry.updated)
            .max()
            .unwrap_or_default();
        let done = writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .freeze_archive_page(&feed.name, n, last_key, &items, last_modified, &refs)?;
        if done {
            tracing::info!(feed = %feed.name, page = n, stories = stories.len(), "archive page frozen");
        }
        Ok(done)
    }
}
