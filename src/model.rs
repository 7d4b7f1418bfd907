//! The data that flows between pipeline stages.
//!
//! Every stage depends on these types and on nothing upstream of itself, so a stage can be
//! tested (and later replaced) on its own. Times are UTC; `None` means "the feed did not say".

use chrono::{DateTime, Utc};

pub mod media;
pub mod report;

pub use media::{EntryMedia, Media, MediaRole, Podcast};
pub use report::{IngestError, Outcome, SourceReport};

/// One item as the feed gave it, after parsing but before any cleaning.
///
/// `guid` is always set: parsing derives a stable identity when the feed has none, so that a
/// re-fetch of the same feed never produces a second copy of the same item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawEntry {
    /// The feed's own id for the item (guid / atom:id / JSON id), or a derived stable one.
    pub guid: String,
    /// The article's address, as the feed wrote it (possibly relative).
    pub link: Option<String>,
    /// Plain-text headline.
    pub title: String,
    /// Author names, joined; `None` when the feed names nobody.
    pub author: Option<String>,
    /// Short description (RSS `description`, Atom `summary`), HTML or text.
    pub summary: Option<String>,
    /// Full body (RSS `content:encoded`, Atom `content`), HTML or text.
    pub content: Option<String>,
    /// Category terms.
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Files and pictures it carries (enclosures, Media RSS, JSON Feed attachments), as
    /// written (URLs possibly relative).
    pub media: EntryMedia,
}

/// Feed-level facts worth keeping beside its entries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedMeta {
    pub title: Option<String>,
    /// The site the feed belongs to (its HTML alternate link).
    pub link: Option<String>,
    /// The feed's own address as it declares it (`rel="self"`): where readers find the
    /// publisher's feed, for provenance in what we publish.
    pub self_link: Option<String>,
    /// How often the publisher says the feed changes (RSS `<ttl>`, `sy:updatePeriod` /
    /// `sy:updateFrequency`): a floor on polling.
    pub update_interval: Option<std::time::Duration>,
    /// The language the feed declares (RSS `<language>`, `xml:lang`, JSON Feed `language`).
    pub language: Option<String>,
    /// What a podcast app needs of the channel (cover, category, owner), when the feed is one.
    pub podcast: Option<Podcast>,
}

/// A parsed feed: its metadata and its entries, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedFeed {
    pub meta: FeedMeta,
    pub entries: Vec<RawEntry>,
    /// Items left out because they were malformed; their well-formed siblings are kept.
    pub skipped: Vec<SkippedItem>,
}

/// An item of a feed document that could not be read, and why: reported per source so the
/// publisher's mistake can be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedItem {
    /// Its position in the document (1 = first item).
    pub position: usize,
    /// How it names itself (its id, title or link), if it could be read at all.
    pub label: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for SkippedItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "item {}", self.position)?;
        if let Some(l) = &self.label {
            write!(f, " ({l})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// An entry made safe to republish: sanitised HTML with absolute URLs, plain-text title.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CleanEntry {
    pub guid: String,
    /// Absolute article URL.
    pub link: Option<String>,
    pub title: String,
    pub author: Option<String>,
    /// Sanitised HTML.
    pub summary: Option<String>,
    /// Sanitised HTML.
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Wire agency code ("AP", "Reuters"…) credited in the text, byline or author.
    pub agency: Option<String>,
    /// Place of the dateline ("CARACAS, Venezuela").
    pub dateline: Option<String>,
    /// The byline line as written ("Via AP news wire", "By Jane Roe").
    pub byline: Option<String>,
    /// Files and pictures, with absolute http(s) URLs.
    pub media: EntryMedia,
}

/// What storing one entry did; drives the per-source report and the publish cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryChange {
    New,
    Updated,
    Unchanged,
}

/// Counts of what one ingest of one source changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New and edited entries that opened a story of their own.
    pub stories_new: usize,
    /// New entries merged into an existing story as another outlet's copy.
    pub merged: usize,
    /// Substantive changes of a story's text (agency updates, in-place edits).
    pub revised: usize,
}

impl IngestCounts {
    /// Adds one entry's result to the totals.
    pub fn record(&mut self, change: EntryChange) {
        match change {
            EntryChange::New => self.new += 1,
            EntryChange::Updated => self.updated += 1,
            EntryChange::Unchanged => self.unchanged += 1,
        }
    }

    /// Adds one placement's result to the totals.
    pub fn record_story(&mut self, placed: Placement) {
        match placed {
            Placement::NewStory => self.stories_new += 1,
            Placement::Merged { revised } => {
                self.merged += 1;
                self.revised += usize::from(revised);
            }
            Placement::Edited { revised } => self.revised += usize::from(revised),
        }
    }

    /// Whether anything visible to readers changed, i.e. whether published feeds are stale.
    pub fn changed(&self) -> bool {
        self.new + self.updated > 0
    }
}

/// Where a new or edited entry ended up among the stories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// It opened a new story.
    NewStory,
    /// It joined an existing story; `revised` when it changed the story's text.
    Merged { revised: bool },
    /// It was edited in place; `revised` when the edit changed the story's text.
    Edited { revised: bool },
}

/// One story as feeds publish it: the representative version, with the story's own id
/// and dates, and every other outlet that ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredStory {
    /// The representative version; its `public_id`, `published` and `updated` are the
    /// story's (stable id, earliest copy, last substantive change).
    pub entry: StoredEntry,
    /// The other members, oldest first.
    pub others: Vec<StoryMember>,
    /// How many times the text changed in substance (1 = never since first seen).
    pub revisions: u32,
}

impl StoredStory {
    /// An entry published on its own (a feed with `dedup = false`).
    pub fn single(entry: StoredEntry) -> StoredStory {
        StoredStory {
            entry,
            others: Vec::new(),
            revisions: 1,
        }
    }

    /// How many distinct outlets (sources) ran the story.
    pub fn outlets(&self) -> usize {
        let mut names: Vec<&str> = self.others.iter().map(|m| m.source.as_str()).collect();
        names.push(&self.entry.source_name);
        names.sort_unstable();
        names.dedup();
        names.len()
    }
}

/// One member entry of a story, as `wirefeed stories` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoryMember {
    /// The source's name in the config.
    pub source: String,
    /// The entry's link.
    pub url: Option<String>,
    /// The entry's guid in its feed.
    pub guid: String,
}

/// A story with all its members, for `wirefeed stories --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoryListing {
    /// The story's stable public id.
    pub id: String,
    /// The representative version's title.
    pub title: String,
    /// Earliest copy, RFC 3339.
    pub published: String,
    /// Last substantive change, RFC 3339.
    pub updated: String,
    /// Every member, oldest first.
    pub entries: Vec<StoryMember>,
    /// The versions of its text: the first (when the story was first published), then each
    /// substantive change, oldest first.
    pub revisions: Vec<RevisionInfo>,
}

/// One version of a story's text, as `wirefeed stories --json` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RevisionInfo {
    /// 1 for the first version, then 2, 3, ...
    pub revision: u32,
    /// When it appeared (the first: the story's publication; later ones: when wirefeed saw
    /// the change), RFC 3339.
    pub at: String,
    /// Paragraphs added, changed and removed against the previous version.
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// A substantive change of a story's text, with the paragraphs it added, changed and
/// removed: the "what changed" note and `wirefeed story ID`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoryRevision {
    /// The revision it made (2 for the first change).
    pub revision: u32,
    /// When wirefeed saw it.
    pub at: DateTime<Utc>,
    /// The source whose copy changed.
    pub source: Option<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// A stored entry as the publisher needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredEntry {
    /// Stable public identifier (`urn:uuid:…`), fixed when the entry was first stored.
    pub public_id: String,
    pub source_name: String,
    /// The source feed's title, for Atom `<source>`.
    pub source_title: Option<String>,
    /// The source feed's address as it may be published: the feed's own `rel="self"` link
    /// when it declares one (from the store), else the configured address without its
    /// credentials (filled in by `publish::provenance`); `None` for a local `file:` source.
    pub source_url: Option<String>,
    /// The site the source feed belongs to, as the feed declares it.
    pub source_site: Option<String>,
    pub link: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub categories: Vec<String>,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// The language the source feed declares, if it does.
    pub language: Option<String>,
    /// Files and pictures the entry carries.
    pub media: EntryMedia,
}

/// Per-source fetch state kept between runs (validators for conditional GET, scheduling,
/// errors, permanent moves). Survives restarts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceState {
    /// The configured URL this state belongs to (a changed config URL starts afresh).
    pub url: String,
    /// Where the feed is fetched from after a confirmed permanent redirect.
    pub fetch_url: Option<String>,
    /// The permanent-redirect target seen on the last fetches, and how many in a row.
    pub redirect_target: Option<String>,
    pub redirect_streak: u32,
    /// The publisher's polling hint from the last parsed document.
    pub feed_interval: Option<std::time::Duration>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub last_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub consecutive_errors: u32,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// One source as the status page shows it: configured name and address, what its last
/// fetch did, when it runs next, how many entries it has given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceOverview {
    /// The source's config name.
    pub name: String,
    /// The configured address.
    pub url: String,
    /// The title its feed gives itself.
    pub feed_title: Option<String>,
    /// The site the feed belongs to.
    pub feed_link: Option<String>,
    /// When it was last fetched, and with what outcome (`new`, `error`…) and error.
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub last_error: Option<String>,
    /// When the scheduler runs it next.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Failures in a row: how long it has been broken.
    pub consecutive_errors: u32,
    /// Entries stored from it.
    pub entries: u64,
}

/// What is known about one block of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockStats {
    pub hash: u64,
    /// Distinct entries seen carrying the block, within the window.
    pub entries: u32,
    /// Hashes of the most recent of those entries' guids.
    pub recent: Vec<u64>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The block's text as first seen, for people reading `wirefeed boilerplate`.
    pub sample: String,
}

/// An article page fetched for a full-text source, with what extraction found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The page's address (the entry's canonical link).
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: i64,
    /// Why the page could not be used, if it could not.
    pub error: Option<String>,
    pub title: Option<String>,
    /// The article body, paragraphs separated by blank lines.
    pub text: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub agency: Option<String>,
    pub dateline: Option<String>,
    pub byline: Option<String>,
}

/// Whether `tag` looks like a BCP 47 language tag (`en`, `pt-BR`, `zh-Hant-TW`): a loose
/// check that catches typos without a registry.
pub fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}
