use super::*;
use crate::model::{CleanEntry, FeedMeta, SourceState};
use crate::store::Trim;

fn entry(guid: &str, title: &str) -> CleanEntry {
    CleanEntry {
        guid: guid.into(),
        link: Some(format!("https://example.org/{guid}")),
        title: title.into(),
        ..Default::default()
    }
}

pub(super) fn ingest(
    store: &mut Store,
    source: &str,
    entries: &[CleanEntry],
) -> crate::model::IngestCounts {
    try_ingest(store, source, entries).unwrap()
}

/// [`ingest`] that hands back the store's error.
pub(super) fn try_ingest(
    store: &mut Store,
    source: &str,
    entries: &[CleanEntry],
) -> Result<crate::model::IngestCounts, StoreError> {
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
        dedup: &DedupStep {
            engine: &crate::dedup::Dedup::new(Default::default()),
            fingerprint: &crate::ingest::fingerprint_of,
            paragraphs: &crate::clean::stored_blocks,
        },
    };
    store.save_fetch(source, "https://example.org/rss", &save)
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
        dedup: &DedupStep {
            engine: &crate::dedup::Dedup::new(Default::default()),
            fingerprint: &crate::ingest::fingerprint_of,
            paragraphs: &crate::clean::stored_blocks,
        },
    };
    store
        .save_fetch("s", "https://example.org/rss", &save)
        .unwrap();
}

pub(super) fn temp_store() -> (tempfile::TempDir, Store) {
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
            keep: &|_| true,
        })
        .unwrap();
    let a = list.iter().find(|s| s.entry.title == "A, revised").unwrap();
    assert_eq!(a.entry.public_id, entries::public_id_for_test("s", "a"));
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
            keep: &|_| true,
        })
        .unwrap();
    let titles: Vec<_> = list.iter().map(|s| s.entry.title.as_str()).collect();
    assert_eq!(titles, ["New", "Old"]);
}

pub(super) fn story_entry(guid: &str, link: &str, paragraphs: &[&str], hours: i64) -> CleanEntry {
    let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 12, 0, 0).unwrap();
    CleanEntry {
        guid: guid.into(),
        link: Some(link.into()),
        title: "Harbour bridge closes after ship strike".into(),
        content: Some(paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect()),
        published: Some(t + chrono::Duration::hours(hours)),
        ..Default::default()
    }
}

pub(super) const STORY: [&str; 3] = [
    "SEAPORT (AP) — A container ship struck a pillar of the Harbour Bridge before dawn on Monday, \
     forcing the closure of the city's busiest crossing and stranding thousands of commuters on \
     both sides of the water, officials said.",
    "No one was hurt, the port authority said, but engineers found cracks in the concrete around \
     the pillar's base and ordered the bridge shut until divers can inspect the foundation.",
    "The ship, the Northern Star, had lost steering shortly after leaving the container terminal, \
     according to a radio recording released by the coast guard later in the morning.",
];

#[test]
fn copies_from_two_outlets_become_one_story_with_both_members() {
    let (_dir, mut store) = temp_store();
    let a = ingest(
        &mut store,
        "wire",
        &[story_entry("w1", "https://wire.example/bridge", &STORY, 0)],
    );
    assert_eq!((a.stories_new, a.merged), (1, 0));
    let b = ingest(
        &mut store,
        "paper",
        &[story_entry(
            "p1",
            "https://paper.example/bridge?utm_source=x",
            &STORY[..2],
            3,
        )],
    );
    assert_eq!((b.new, b.stories_new, b.merged, b.revised), (1, 0, 1, 0));
    assert_eq!(store.story_count().unwrap(), 1);
    let both = ["wire".to_string(), "paper".to_string()];
    let stories = store
        .stories(&StoryQuery {
            sources: &both,
            limit: 10,
            keep: &|_| true,
        })
        .unwrap();
    assert_eq!(stories.len(), 1);
    let s = &stories[0];
    // the most complete version represents the story; its id is the first copy's, forever
    assert_eq!(s.entry.source_name, "wire");
    assert_eq!(s.entry.public_id, entries::public_id_for_test("wire", "w1"));
    assert_eq!(s.others.len(), 1);
    assert_eq!(s.others[0].source, "paper");
    assert_eq!(s.revisions, 1);
    // merging another outlet is not a change of the text
    assert_eq!(s.entry.updated, s.entry.published);
    // a feed of the paper alone still carries the story, with the paper's version
    let paper = ["paper".to_string()];
    let only = store
        .stories(&StoryQuery {
            sources: &paper,
            limit: 10,
            keep: &|_| true,
        })
        .unwrap();
    assert_eq!(only[0].entry.source_name, "paper");
    assert_eq!(only[0].entry.public_id, s.entry.public_id);
    let listing = store.story_listing().unwrap();
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].entries.len(), 2);
}

#[test]
fn a_substantive_edit_in_place_is_a_revision_and_a_mere_copy_is_not() {
    let (_dir, mut store) = temp_store();
    let first = story_entry("w1", "https://wire.example/bridge", &STORY, 0);
    ingest(&mut store, "wire", std::slice::from_ref(&first));
    let mut edited = first.clone();
    let mut content = edited.content.clone().unwrap();
    content.push_str(
        "<p>Late on Monday the port authority said divers had found no damage below the \
         waterline, and that one lane could reopen to buses on Tuesday morning.</p>",
    );
    edited.content = Some(content);
    edited.updated = Some(first.published.unwrap() + chrono::Duration::hours(9));
    let c = ingest(&mut store, "wire", &[edited]);
    assert_eq!((c.updated, c.revised), (1, 1));
    let all = ["wire".to_string()];
    let s = &store
        .stories(&StoryQuery {
            sources: &all,
            limit: 10,
            keep: &|_| true,
        })
        .unwrap()[0];
    assert_eq!(s.revisions, 2);
    assert_eq!(
        s.entry.updated - s.entry.published,
        chrono::Duration::hours(9)
    );
}

#[test]
fn different_stories_stay_apart_and_expiry_empties_the_index() {
    let (_dir, mut store) = temp_store();
    ingest(
        &mut store,
        "wire",
        &[story_entry("w1", "https://wire.example/bridge", &STORY, 0)],
    );
    let other = [
        "A city council voted on Tuesday to widen the ring road, after a debate that lasted \
         until after midnight and drew hundreds of residents to the town hall.",
        "Supporters said the project would cut congestion; opponents warned about noise, \
         the cost of the land and the loss of a park used by three schools.",
    ];
    let mut e = story_entry("w2", "https://wire.example/ring-road", &other, 1);
    e.title = "Council backs ring road plan".into();
    let c = ingest(&mut store, "wire", &[e]);
    assert_eq!(c.stories_new, 1);
    assert_eq!(store.story_count().unwrap(), 2);
    assert!(store.anchor_count().unwrap() > 0);
    let engine = crate::dedup::Dedup::new(Default::default());
    let cleared = store.expire_fingerprints(&engine, i64::MAX, 1).unwrap();
    assert_eq!(cleared, 1, "one entry per batch");
    store.expire_fingerprints(&engine, i64::MAX, 100).unwrap();
    assert_eq!(store.anchor_count().unwrap(), 0);
    // an exact repeat under the same URL still joins its story after expiry
    let again = ingest(
        &mut store,
        "mirror",
        &[story_entry(
            "m1",
            "https://wire.example/bridge",
            &STORY,
            200,
        )],
    );
    assert_eq!(again.merged, 1);
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn retention_removes_old_entries_keeps_stories_consistent_and_remembers_them() {
    let (_dir, mut store) = temp_store();
    // One story run by two outlets: the older copy (its representative) is pruned, the newer
    // keeps the story. A lone old entry takes its story with it.
    let old = story_entry("w1", "https://wire.example/a", &STORY, 0);
    let newer = story_entry("p1", "https://paper.example/a", &STORY[..2], 48);
    ingest(&mut store, "wire", std::slice::from_ref(&old));
    ingest(&mut store, "paper", &[newer]);
    let mut lone = entry("lone", "Lone");
    lone.published = old.published;
    ingest(&mut store, "other", &[lone.clone()]);
    assert_eq!(count(&store, "SELECT count(*) FROM stories"), 2);

    let cutoff = old.published.unwrap().timestamp() + 3600;
    let rules = Retention {
        older_than: Some(cutoff),
        ..Default::default()
    };
    let p = store.prune(&rules, 500, &Default::default()).unwrap();
    assert_eq!((p.entries, p.stories), (2, 1));
    // The pruned copy's candidate-index postings went with it; the kept copy's stay.
    let at = |e: &CleanEntry| e.published.unwrap().timestamp();
    let postings_at = |store: &Store, t: i64| {
        count(
            store,
            &format!("SELECT count(*) FROM dedup_anchors WHERE at = {t}"),
        )
    };
    assert_eq!(postings_at(&store, at(&old)), 0);
    assert!(postings_at(&store, at(&old) + 48 * 3600) > 0);
    assert_eq!(
        store
            .prune(&rules, 500, &Default::default())
            .unwrap()
            .entries,
        0
    );
    assert_eq!(count(&store, "SELECT count(*) FROM entries"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM stories"), 1);
    assert_eq!(
        count(&store, "SELECT members FROM stories"),
        1,
        "member count follows"
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM stories s JOIN entries e ON e.id = s.representative"
        ),
        1,
        "the representative is the remaining copy"
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    // The feeds still carry the pruned items: they are not new again.
    let c = ingest(&mut store, "wire", &[old]);
    assert_eq!((c.new, c.unchanged), (0, 1));
    ingest(&mut store, "other", &[lone]);
    assert_eq!(count(&store, "SELECT count(*) FROM entries"), 1);
}

#[test]
fn retention_keeps_the_newest_entries_of_each_source() {
    let (_dir, mut store) = temp_store();
    let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 12, 0, 0).unwrap();
    let many: Vec<CleanEntry> = (0..25)
        .map(|i| CleanEntry {
            published: Some(t + chrono::Duration::minutes(i)),
            ..entry(&format!("g{i}"), &format!("Item number {i} of a long feed"))
        })
        .collect();
    ingest(&mut store, "s", &many);
    ingest(&mut store, "t", &many[..5]);
    let rules = Retention {
        max_per_source: Some(10),
        ..Default::default()
    };
    assert_eq!(
        store.prune(&rules, 4, &Default::default()).unwrap().entries,
        4,
        "batches are bounded"
    );
    while store.prune(&rules, 4, &Default::default()).unwrap().entries > 0 {}
    assert_eq!(store.entry_count(Some("s")).unwrap(), 10);
    assert_eq!(store.entry_count(Some("t")).unwrap(), 5);
    let oldest_kept = count(
        &store,
        "SELECT min(e.published) FROM entries e JOIN sources s ON s.id = e.source_id WHERE s.name = 's'",
    );
    assert_eq!(oldest_kept, (t + chrono::Duration::minutes(15)).timestamp());
}

#[test]
fn trim_bounds_block_statistics_fetch_log_and_archives_of_removed_stories() {
    let (_dir, mut store) = temp_store();
    let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 1, 12, 0, 0).unwrap();
    let kept = CleanEntry {
        published: Some(t),
        ..entry("g1", "The one entry still stored")
    };
    ingest(&mut store, "s", &[kept]);
    let sid: i64 = count(&store, "SELECT id FROM sources WHERE name = 's'");
    let now = t.timestamp();
    store
        .conn
        .execute_batch(&format!(
            "INSERT INTO learned_blocks (source, hash, entries, first_seen, last_seen, sample)
             WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 10)
             SELECT 's', value, 1, value, value, 'block' FROM n;
             INSERT INTO learned_blocks (source, hash, entries, first_seen, last_seen, sample)
             VALUES ('s', 99, 5, 1, 4, 'learned clutter');
             INSERT INTO fetch_log (source_id, started_at, duration_ms, outcome)
             WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 5)
             SELECT {sid}, value, 1, 'new' FROM n;
             INSERT INTO archive_pages (feed, page, format, body, last_modified, created_at)
             VALUES ('all', 1, 'atom', x'00', {old}, 0), ('all', 2, 'atom', x'00', {now}, 0);",
            old = now - 3600
        ))
        .unwrap();
    let removed = store
        .trim(&Trim {
            learned_before: 3,
            learned_cap: 4,
            learned_threshold: 3,
            log_cap: 2,
            archives: true,
        })
        .unwrap();
    let hashes: Vec<i64> = store
        .conn
        .prepare("SELECT hash FROM learned_blocks ORDER BY hash")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Quiet for a window (1, 2) or beyond the cap (3..=6): gone; the learned block is not
    // capped, only forgotten when quiet for a window.
    assert_eq!(hashes, [7, 8, 9, 10, 99]);
    let starts: Vec<i64> = store
        .conn
        .prepare("SELECT started_at FROM fetch_log WHERE started_at < 100 ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(starts.len() <= 2 && !starts.contains(&1), "{starts:?}");
    assert_eq!(
        count(&store, "SELECT sum(page) FROM archive_pages"),
        2,
        "page 2 only"
    );
    assert!(removed > 2 + 4, "{removed}");
}

#[test]
fn media_is_stored_changes_an_entry_and_a_story_borrows_a_copys_when_its_own_has_none() {
    use crate::model::{EntryMedia, Media, MediaRole};
    let (_dir, mut store) = temp_store();
    let photo = EntryMedia {
        files: vec![Media {
            url: "https://paper.example/bridge.jpg".into(),
            role: MediaRole::Content,
            medium: Some("image".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    ingest(
        &mut store,
        "wire",
        &[story_entry("w1", "https://wire.example/bridge", &STORY, 0)],
    );
    let mut copy = story_entry("p1", "https://paper.example/bridge", &STORY[..2], 3);
    copy.media = photo.clone();
    let b = ingest(&mut store, "paper", std::slice::from_ref(&copy));
    assert_eq!(b.merged, 1);
    let both = ["wire".to_string(), "paper".to_string()];
    let query = StoryQuery {
        sources: &both,
        limit: 10,
        keep: &|_| true,
    };
    let s = &store.stories(&query).unwrap()[0];
    assert_eq!(
        s.entry.source_name, "wire",
        "the longer text represents the story"
    );
    assert_eq!(s.entry.media, photo, "with the photo another outlet ran");

    // The copy's own entry keeps its media; a change of media is a change of the entry.
    let paper = ["paper".to_string()];
    let plain = store
        .entries(&EntryQuery {
            sources: &paper,
            limit: 10,
            keep: &|_| true,
        })
        .unwrap();
    assert_eq!(plain[0].entry.media, photo);
    assert_eq!(
        ingest(&mut store, "paper", std::slice::from_ref(&copy)).unchanged,
        1
    );
    copy.media.files[0].width = Some(640);
    assert_eq!(ingest(&mut store, "paper", &[copy]).updated, 1);
}

#[test]
fn data_version_moves_for_other_connections_commits_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut daemon = Store::open(&db).unwrap();
    let before = daemon.data_version().unwrap();
    daemon
        .register_source("own", "https://example.org/own")
        .unwrap();
    assert_eq!(daemon.data_version().unwrap(), before, "its own commit");
    let mut other = Store::open(&db).unwrap();
    other
        .register_source("other", "https://example.org/other")
        .unwrap();
    assert_ne!(daemon.data_version().unwrap(), before, "another's commit");
    // A quiet daemon gives its page cache back; the connection works on.
    daemon.set_cache_mb(8).unwrap();
    daemon.release_memory().unwrap();
    assert_eq!(
        daemon.data_version().unwrap(),
        daemon.data_version().unwrap()
    );
}
