use super::*;
use crate::model::{CleanEntry, EntryChange, FeedMeta};

fn entry(guid: &str, title: &str) -> CleanEntry {
    CleanEntry {
        guid: guid.into(),
        link: Some(format!("https://example.org/{guid}")),
        title: title.into(),
        ..Default::default()
    }
}

fn rec() -> FetchRecord {
    FetchRecord {
        started_at: Utc::now(),
        etag: Some("\"v1\"".into()),
        ..Default::default()
    }
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
    let meta = FeedMeta::default();
    let batch = vec![entry("a", "A"), entry("b", "B")];
    let c = store
        .ingest("s", "https://example.org/rss", &meta, &batch, &rec())
        .unwrap();
    assert_eq!((c.new, c.updated, c.unchanged), (2, 0, 0));
    let before: i64 = store
        .conn
        .query_row("SELECT total_changes()", [], |r| r.get(0))
        .unwrap();
    let c = store
        .ingest("s", "https://example.org/rss", &meta, &batch, &rec())
        .unwrap();
    assert_eq!((c.new, c.updated, c.unchanged), (0, 0, 2));
    let after: i64 = store
        .conn
        .query_row("SELECT total_changes()", [], |r| r.get(0))
        .unwrap();
    // Only the source's state row and one fetch-log row were written.
    assert_eq!(after - before, 3);

    let changed = vec![entry("a", "A, revised"), entry("b", "B")];
    let c = store
        .ingest("s", "https://example.org/rss", &meta, &changed, &rec())
        .unwrap();
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
fn fetch_state_is_kept_and_errors_count_up_then_reset() {
    let (_d, mut store) = temp_store();
    let url = "https://example.org/rss";
    store
        .ingest("s", url, &FeedMeta::default(), &[], &rec())
        .unwrap();
    let st = store.source_state("s").unwrap().unwrap();
    assert_eq!(st.etag.as_deref(), Some("\"v1\""));
    for _ in 0..2 {
        let r = FetchRecord {
            outcome: "error".into(),
            error: Some("timeout".into()),
            started_at: Utc::now(),
            ..Default::default()
        };
        store.record_fetch("s", url, &r).unwrap();
    }
    let st = store.source_state("s").unwrap().unwrap();
    assert_eq!(st.consecutive_errors, 2);
    assert_eq!(
        st.etag.as_deref(),
        Some("\"v1\""),
        "an error keeps the validators"
    );
    let ok = FetchRecord {
        outcome: "not-modified".into(),
        started_at: Utc::now(),
        ..Default::default()
    };
    store.record_fetch("s", url, &ok).unwrap();
    let st = store.source_state("s").unwrap().unwrap();
    assert_eq!(st.consecutive_errors, 0);
    assert!(st.last_success_at.is_some());
}

#[test]
fn feeds_list_newest_first_within_their_sources() {
    let (_d, mut store) = temp_store();
    let mut old = entry("old", "Old");
    old.published = Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
    let mut new = entry("new", "New");
    new.published = Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    store
        .ingest("s", "u", &FeedMeta::default(), &[old, new], &rec())
        .unwrap();
    store
        .ingest(
            "other",
            "u2",
            &FeedMeta::default(),
            &[entry("x", "X")],
            &rec(),
        )
        .unwrap();
    let list = store
        .entries(&EntryQuery {
            sources: &["s".into()],
            limit: 10,
        })
        .unwrap();
    let titles: Vec<_> = list.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["New", "Old"]);
    let _ = EntryChange::New;
}
