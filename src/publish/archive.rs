//! RFC 5005 archived feeds: full pages of a feed's older stories, frozen once and linked
//! from the live feed by `prev-archive`, so that a reader that was offline catches up.
//!
//! A page holds `limit` stories (the feed's own size) in the order the stories first
//! appeared in the feed. It is written when it is full, in every format, and from then on
//! served as stored: its bytes never change, whatever later happens to its stories.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use url::Url;

use super::filter::StoryFilter;
use super::{Doc, FeedInfo, Format, atom, json, rss};
use crate::config::Config;
use crate::store::{ArchiveQuery, Store, StoreError};

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

/// Freezes every archive page that has become full, for every configured feed; returns
/// (feed, page) of each page written. Runs on the writer (the daemon calls it after an
/// ingest changed something); cheap when nothing is due: one query over the entries stored
/// since the last page.
pub fn freeze_full_pages(
    config: &Config,
    store: &mut Store,
) -> Result<Vec<(String, u32)>, StoreError> {
    let mut frozen = Vec::new();
    for feed in &config.feeds {
        let filter = StoryFilter::of(feed);
        let keep = |s: &crate::model::StoredStory| filter.keeps(s);
        loop {
            let state = store.archive_state(&feed.name)?;
            let page = store.archive_candidates(&ArchiveQuery {
                sources: &feed.sources,
                dedup: feed.dedup,
                after: state.last_key,
                limit: feed.limit,
                keep: &keep,
            })?;
            if page.len() < feed.limit {
                break;
            }
            let last_key = page.last().map_or(state.last_key, |(k, _)| *k);
            // Newest first, like the live feed.
            let mut stories: Vec<_> = page.into_iter().map(|(_, s)| s).collect();
            stories.sort_by(|a, b| {
                (b.entry.published, &b.entry.public_id)
                    .cmp(&(a.entry.published, &a.entry.public_id))
            });
            let n = state.pages + 1;
            let mut info = FeedInfo::of(feed, config, Doc::Archive { n });
            // A frozen page is not polled: no hub, no time-to-live.
            info.hub = None;
            info.ttl_minutes = None;
            let base = &config.server.base_url;
            let docs = [
                ("atom", atom::render_atom(&info, base, &stories)),
                ("rss", rss::render_rss(&info, base, &stories)),
                ("json", json::render_json(&info, base, &stories)),
            ];
            let refs: Vec<(&str, &[u8])> = docs.iter().map(|(f, b)| (*f, b.as_bytes())).collect();
            let last_modified: DateTime<Utc> = stories
                .iter()
                .map(|s| s.entry.updated)
                .max()
                .unwrap_or_default();
            if !store.freeze_archive_page(&feed.name, n, last_key, last_modified, &refs)? {
                break;
            }
            tracing::info!(feed = %feed.name, page = n, stories = stories.len(), "archive page frozen");
            frozen.push((feed.name.clone(), n));
        }
    }
    Ok(frozen)
}

/// The format named by an archive file's extension.
pub fn format_of(ext: &str) -> Option<Format> {
    Format::from_ext(ext)
}
