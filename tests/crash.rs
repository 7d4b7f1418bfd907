//! Crash safety of the real daemon: it ingests many feeds from a loopback server (every story
//! carried by several outlets, whole or cut short, so stories merge) and is killed with
//! SIGKILL at a random moment, again and again. After every kill: the database passes
//! `integrity_check`, everything committed before the kill is still there, and no story
//! exists twice. At the end, the stories equal an uninterrupted run's, partition for
//! partition.
//!
//! `CRASH_ROUNDS` sets the number of rounds (default 20; the closing note reports 100).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{FeedServer, Served};

/// A small deterministic generator, so a failing round can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

const WORDS: &[&str] = &[
    "council",
    "river",
    "harbour",
    "minister",
    "budget",
    "storm",
    "village",
    "court",
    "school",
    "railway",
    "museum",
    "factory",
    "election",
    "hospital",
    "bridge",
    "festival",
    "market",
    "police",
    "doctors",
    "farmers",
    "workers",
    "engineers",
    "voters",
    "judges",
    "officials",
    "announced",
    "rejected",
    "approved",
    "delayed",
    "opened",
    "closed",
    "repaired",
    "flooded",
    "northern",
    "eastern",
    "coastal",
    "rural",
    "annual",
    "emergency",
    "temporary",
    "national",
];

fn story_text(rng: &mut Lcg) -> Vec<String> {
    (0..3)
        .map(|_| {
            let words: Vec<&str> = (0..40)
                .map(|_| WORDS[rng.next() as usize % WORDS.len()])
                .collect();
            format!("&lt;p&gt;{}.&lt;/p&gt;", words.join(" "))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_committed_and_duplicates_no_story() {
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let mut rng = Lcg(0x5eed_cafe);
    let stories: Vec<Vec<String>> = (0..60).map(|_| story_text(&mut rng)).collect();
    // 30 outlets; outlet j carries story k when (k + j) % 5 < 2: each story runs at 12.
    let mut files = HashMap::new();
    let mut sources = Vec::new();
    let server_files: Vec<(String, String)> = (0..30)
        .map(|j| {
            let items: String = (0..stories.len())
                .filter(|k| (k + j) % 5 < 2)
                .map(|k| {
                    format!(
                        "<item><guid>o{j}-s{k}</guid><title>Story {k}</title>\
                         <link>http://outlet{j}.example/news/{k}</link>\
                         <description>{}</description></item>",
                        // Whole, or its first two paragraphs, or its lead alone.
                        stories[k][..3 - j % 3].concat()
                    )
                })
                .collect();
            (
                format!("o{j}.xml"),
                format!(
                    "<rss version=\"2.0\"><channel><title>Outlet {j}</title>{items}</channel></rss>"
                ),
            )
        })
        .collect();
    for (name, body) in &server_files {
        files.insert(
            name.clone(),
            Served {
                body: body.clone().into(),
                content_type: "application/rss+xml".into(),
                ..Default::default()
            },
        );
    }
    let server = FeedServer::start(files).await;
    for (name, _) in &server_files {
        sources.push((name.trim_end_matches(".xml").to_string(), server.url(name)));
    }
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(dir.path(), port, &sources, "[[feeds]]\nname = \"all\"\n");
    let db = dir.path().join("wirefeed.db");

    let mut committed: BTreeSet<String> = BTreeSet::new();
    let mut killed_mid_ingest = 0;
    for round in 0..=rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if round < rounds {
            // Startup spreads the first fetches over up to five seconds.
            let delay = rng.next() % 2500;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            child.kill().unwrap();
            child.wait().unwrap();
        } else {
            // The last round runs to the end: every entry must arrive.
            let want = 30 * 24;
            common::wait_for(60, "every entry", || {
                (check(&db, round).0.len() == want).then_some(())
            });
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let (now, stories_ok) = check(&db, round);
        assert!(
            now.is_superset(&committed),
            "round {round}: committed entries lost: {:?}",
            committed.difference(&now).take(5).collect::<Vec<_>>()
        );
        if now.len() < 30 * 24 {
            killed_mid_ingest += 1;
        }
        assert!(stories_ok, "round {round}: a story exists twice");
        committed = now;
    }
    assert_eq!(committed.len(), 30 * 24);
    eprintln!("{rounds} kills, {killed_mid_ingest} of them mid-ingest");

    // The same feeds into a fresh database, uninterrupted: the same stories.
    let clean = tempfile::tempdir().unwrap();
    let config = common::write_config(
        clean.path(),
        common::free_port(),
        &sources,
        "[[feeds]]\nname = \"all\"\n",
    );
    let clean_db = clean.path().join("wirefeed.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for(60, "every entry, uninterrupted", || {
        (check(&clean_db, 0).0.len() == 30 * 24).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let (crashed, uninterrupted) = (partition(&db), partition(&clean_db));
    assert_eq!(crashed.len(), 60, "one story per generated story");
    assert_eq!(
        crashed, uninterrupted,
        "after {rounds} kills the stories differ from an uninterrupted run's"
    );
}

/// The stories as sets of `source:guid`.
fn partition(db: &std::path::Path) -> BTreeSet<BTreeSet<String>> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT e.story_id, s.name || ':' || e.guid FROM entries e
             JOIN sources s ON s.id = e.source_id",
        )
        .unwrap();
    let mut by: HashMap<Option<i64>, BTreeSet<String>> = HashMap::new();
    for row in stmt
        .query_map([], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap()
    {
        let (story, member) = row.unwrap();
        by.entry(story).or_default().insert(member);
    }
    by.into_values().collect()
}

/// (source:guid of every stored entry, whether every generated story is one stored story),
/// after checking the file's integrity.
fn check(db: &std::path::Path, round: usize) -> (BTreeSet<String>, bool) {
    if !db.exists() {
        return (BTreeSet::new(), true);
    }
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "round {round}: database damaged");
    let has_stories: bool = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'stories'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        > 0;
    if !has_stories {
        return (BTreeSet::new(), true);
    }
    let mut stmt = c
        .prepare(
            "SELECT s.name, e.guid, e.story_id FROM entries e JOIN sources s ON s.id = e.source_id",
        )
        .unwrap();
    let rows: Vec<(String, String, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut story_of: HashMap<String, BTreeSet<Option<i64>>> = HashMap::new();
    let mut entries = BTreeSet::new();
    for (source, guid, story) in rows {
        let k = guid.split('-').nth(1).unwrap_or_default().to_string();
        story_of.entry(k).or_default().insert(story);
        entries.insert(format!("{source}:{guid}"));
    }
    let one_each = story_of
        .values()
        .all(|s| s.len() == 1 && !s.contains(&None));
    (entries, one_each)
}
