//! wirefeed: fetch news feeds, clean them, merge wire copies, republish.
//!
//! The pipeline, one module per stage (each depends on [`model`] and nothing upstream):
//!
//! ```text
//! config ─▶ schedule ─▶ fetch ─▶ parse ─▶ clean ─▶ store ─▶ publish ─▶ HTTP
//! ```
//!
//! - [`config`]: the TOML file → typed, validated structs; every problem as `file:line:col`;
//!   [`config::watch`] notices the file saved, and the daemon reloads it.
//! - [`schedule`]: cron expressions (crontab 5-field or 6-field, errors in the user's terms),
//!   per-source jitter, the publisher's hints and a source's bounds on them.
//! - [`fetch`]: one shared HTTP client; conditional GET, body cap, SSRF [`fetch::guard`];
//!   `file://` sources. Returns bytes, never parses.
//! - [`parse`]: bytes → [`model::ParsedFeed`] via feed-rs, after charset decoding
//!   ([`parse::encoding`]) and dialect bridges and repairs ([`parse::legacy`]); stable guids;
//!   each item's media (enclosures, Media RSS, iTunes; [`model::media`]); a malformed item
//!   skipped and named, its siblings kept (JSON Feed checked item by item, an XML document
//!   feed-rs refuses read one item at a time).
//! - [`clean`]: each entry field parsed once ([`clean::doc::EntryDoc`]); from that tree the
//!   clutter judgement, wire metadata, sanitised HTML with absolute tracking-free URLs
//!   ([`clean::sanitize`]), repaired text ([`clean::repair`]) and the blocks dedup
//!   fingerprints. Whole article pages: [`clean::extract`].
//! - [`keywords`]: `include` / `exclude` patterns, of feeds (what they carry) and of sources
//!   (what is stored).
//! - [`store`]: the only module with SQL (SQLite, WAL, migrations from `migrations/`).
//! - [`publish`]: Atom, RSS 2.0 and JSON Feed rendering (files and pictures in each format's
//!   vocabulary: [`publish::media`]), a feed's web page for browsers ([`publish::html`], no
//!   XSLT), the render cache (compressed once per change), feed filters, RFC 5005 archive
//!   pages, static export, WebSub, the status page and the HTTP server ([`publish::server`]);
//!   who may read it ([`publish::access`]: tokens). Requests are answered from memory:
//!   `publish::refresh` re-renders a stale document off the request path, at most once a
//!   second, and swaps the new bytes in whole.
//! - [`redact`]: what of a source may be shown. Userinfo, secret query parameters and a
//!   source's credentials never leave the daemon: every output cites sources through
//!   [`publish::provenance`], errors pass [`redact::Redactor::scrub`], and ingest stores
//!   nothing secret. Credentials go out only as [`fetch::SourceRequest`] sends them: to the
//!   source's own origin.
//! - [`opml`]: subscription lists in and out; [`discover`] finds a site's feeds from a page
//!   (`wirefeed add`); [`config::edit`] adds and removes sources in the user's file without
//!   disturbing it.
//! - [`dedup`]: which story an entry belongs to (exact URL and text keys, winnowed shingle
//!   anchors, containment verification). Pure logic over the [`dedup::StoryStore`] trait,
//!   which the store implements inside the ingest transaction.
//! - [`ingest`]: one source through fetch → parse → clean → store, as a sequence of steps
//!   (`ingest/steps.rs`); [`runner`] runs many
//!   under the global and per-host concurrency limits.
//! - [`daemon`]: wires it all as tokio tasks; signals (SIGHUP reload, SIGUSR1 refresh
//!   requests from [`control`], SIGTERM stop); reload when the config file is saved.
//!   [`pidfile`] is how other commands find it, and holds the lock on `DATABASE.lock` that
//!   keeps one daemon per database; [`alloc`] gives memory back after a burst. `src/main.rs`
//!   and `src/cli/` are the command line.
//! - For tests: [`harness`] (the entry points fuzzing drives) and [`testdata`] (the project's
//!   fixtures, and the real-data suites' `$WIREFEED_DATA`, skipped where absent).
//!
//! Where is boilerplate removed? [`clean::clutter`], for feed entries and article pages alike:
//! trackers, the source's rules, the built-in rules (`clutter.txt`), learned blocks, boxes.
//! Where is the ETag sent? [`fetch::Fetcher::fetch_as`]. Where are feeds cached?
//! [`publish::Publisher`]. Where is an entry's identity decided? [`parse::stable_guid`] and
//! the `UNIQUE (source_id, guid)` in `migrations/0001_initial.sql`. A story's?
//! [`dedup::Dedup::decide`], applied by `store::stories`; stories one entry proves to be one
//! are joined by `store::merges` (the older id survives, the other answers as an alias), so
//! the same entries give the same stories in any order. What changed in an updated story:
//! [`dedup::revision`], published by [`publish::note`].

pub mod alloc;
pub mod clean;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dedup;
pub mod discover;
pub mod fetch;
pub mod harness;
pub mod ingest;
pub mod keywords;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod opml;
pub mod parse;
pub mod pidfile;
pub mod publish;
pub mod redact;
pub mod runner;
pub mod schedule;
pub mod store;
pub mod testdata;
