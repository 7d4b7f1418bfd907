use super::*;
use crate::model::{CleanEntry, FeedMeta, SourceState};

fn entry(guid: &str, title: &str) -> CleanEntry {
    CleanEntry {
        guid: guid.into(),
        link: Some(format!("https://example.org/{guid}")),
        title: title.into(),
        ..Default::default()
    }
}

fn ingest(store: &mut Store, source: &str, entries: &[CleanEntry]) -> crate::model::IngestCounts {
    let state = SourceState {
        url: "https://example.org/rss".into(),
        etag: Some("\"v1\"".into()),
        ..Default::default()
    };
    let meta = FeedMeta::default();
    let save = FetchSave {
        state: &state,
        log: FetchLog {
            started_at: Utc::now(),
            ..Default::default()
        },
        feed: Some((&meta, entries)),
        state_changed: false,
        learned: &[],
        rewrites: &[],
        pages: &[],
    };
    store
        .save_fetch(source, "https://example.org/rss", &save)
        .unwrap()
}

fn record(store: &mut Store, state: &SourceState, outcome: &str) {
    let save = FetchSave {
        state,
        log: FetchLog {
            started_at: Utc::now(),
            outcome: outcome.into(),
            ..Default::default()
        },
        feed: None,
        state_changed: true,
        learned: &[],
        rewrites: &[],
        pages: &[],
    };
    store
        .save_fetch("s", "https://example.org/rss", &save)
        .unwrap();
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sub/w.db")).unwrap();
    (dir, store)
}

#[test]
fn opening_applies_every_migration_once() {
    let (dir, store) = temp_store();
    let n = MIGRATIONS_DIR.files().count() as i64;
    assert_eq!(store.schema_version().unwrap(), n);
    drop(store);
    let again = Store::open(&dir.path().join("sub/w.db")).unwrap();
    assert_eq!(again.schema_version().unwrap(), n);
    let mode: String = again
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = again
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn reingesting_unchanged_entries_writes_nothing_and_changes_update_in_place() {
    let (_d, mut store) = temp_store();
    let batch = vec![entry("a", "A"), entry("b", "B")];
    let c = ingest(&mut store, "s", &batch);
    assert_eq!((c.new, c.updated, c.unchanged), (2, 0, 0));
    let changes = |s: &Store| -> i64 {
        s.conn
            .query_row("SELECT total_changes()", [], |r| r.get(0))
            .unwrap()
    };
    let before = changes(&store);
    let c = ingest(&mut store, "s", &batch);
    assert_eq!((c.new, c.updated, c.unchanged), (0, 0, 2));
    assert_eq!(
        changes(&store),
        before,
        "an unchanged fetch writes nothing at all"
    );

    let changed = vec![entry("a", "A, revised"), entry("b", "B")];
    let c = ingest(&mut store, "s", &changed);
    assert_eq!((c.new, c.updated), (0, 1));
    assert_eq!(store.entry_count(Some("s")).unwrap(), 2);
    let list = store
        .entries(&EntryQuery {
            sources: &["s".into()],
            limit: 10,
        })
        .unwrap();
    let a = list.iter().find(|e| e.title == "A, revised").unwrap();
    assert_eq!(a.public_id, entries::public_id_for_test("s", "a"));
}

#[test]
fn source_state_round_trips() {
    let (_d, mut store) = temp_store();
    let state = SourceState {
        url: "https://example.org/rss".into(),
        etag: Some("\"e\"".into()),
        last_modified: Some("Tue, 02 Jan 2024 03:04:05 GMT".into()),
        consecutive_errors: 3,
        last_error: Some("HTTP 503".into()),
        next_run_at: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        fetch_url: Some("https://example.org/new".into()),
        redirect_target: Some("https://example.org/new".into()),
        redirect_streak: 3,
        feed_interval: Some(std::time::Duration::from_secs(900)),
        ..Default::default()
    };
    record(&mut store, &state, "error");
    let back = store.source_state("s").unwrap().unwrap();
    assert_eq!(back.last_outcome.as_deref(), Some("error"));
    assert_eq!(
        SourceState {
            last_outcome: None,
            ..back
        },
        state
    );
}

#[test]
fn a_changed_configured_url_forgets_what_was_learned_about_the_old_one() {
    let (_d, mut store) = temp_store();
    let state = SourceState {
        url: "https://example.org/rss".into(),
        etag: Some("\"e\"".into()),
        fetch_url: Some("https://example.org/new".into()),
        ..Default::default()
    };
    record(&mut store, &state, "not-modified");
    store
        .register_source("s", "https://other.example/feed")
        .unwrap();
    let back = store.source_state("s").unwrap().unwrap();
    assert_eq!(back.url, "https://other.example/feed");
    assert_eq!((back.etag, back.fetch_url), (None, None));
}

#[test]
fn feeds_list_newest_first_within_their_sources() {
    let (_d, mut store) = temp_store();
    let mut old = entry("old", "Old");
    old.published = Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
    let mut new = entry("new", "New");
    new.published = Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    ingest(&mut store, "s", &[old, new]);
    ingest(&mut store, "other", &[entry("x", "X")]);
    let list = store
        .entries(&EntryQuery {
            sources: &["s".into()],
            limit: 10,
        })
        .unwrap();
    let titles: Vec<_> = list.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["New", "Old"]);
}
