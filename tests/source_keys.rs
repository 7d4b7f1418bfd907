//! Per-source control from the config: `enabled = false` pauses a source, `include` /
//! `exclude` decide which of its entries are stored, and `min_interval` / `max_interval`
//! bound how far the publisher's `<ttl>` may push its next fetch.

mod common;

use std::collections::HashMap;
use std::process::Command;

use chrono::Utc;
use common::{FeedServer, Served};

fn rss(ttl_minutes: u32, titles: &[&str]) -> Served {
    let items: String = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "<item><guid>g{i}</guid><title>{t}</title><link>http://outlet.example/{i}</link>\
                 <description>Report {i}: {t}.</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>Outlet</title><link>http://outlet.example/</link>\
             <description>d</description><ttl>{ttl_minutes}</ttl>{items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

fn fetch(config: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(config)
        .arg("fetch")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (source, title) of every stored entry, and each source's next run in seconds from now.
fn stored(db: &std::path::Path) -> (Vec<(String, String)>, HashMap<String, i64>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT s.name, e.title FROM entries e JOIN sources s ON s.id = e.source_id
             ORDER BY s.name, e.title",
        )
        .unwrap();
    let entries = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let now = Utc::now().timestamp();
    let mut stmt = conn
        .prepare("SELECT name, next_run_at FROM sources WHERE next_run_at IS NOT NULL")
        .unwrap();
    let next = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? - now)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (entries, next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_can_be_paused_filtered_and_held_to_their_own_intervals() {
    let day = 24 * 60;
    let titles = [
        "Flood barrier closes",
        "Harbour quake drill",
        "Sports: regatta results",
        "Flood sports ground",
        "Council meeting",
    ];
    let server = FeedServer::start(HashMap::from([
        ("a.xml".to_string(), rss(day, &titles)),
        ("b.xml".to_string(), rss(day, &titles)),
        ("c.xml".to_string(), rss(day, &titles)),
        ("d.xml".to_string(), rss(day, &titles)),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        common::free_port(),
        &[],
        &format!(
            "[[sources]]\nname = \"paused\"\nurl = \"{}\"\nenabled = false\n\n\
             [[sources]]\nname = \"filtered\"\nurl = \"{}\"\nschedule = \"* * * * *\"\n\
             include = [\"flood\", \"QUAKE\"]\nexclude = [\"sports?\\\\b\"]\n\n\
             [[sources]]\nname = \"eager\"\nurl = \"{}\"\nschedule = \"* * * * *\"\nmin_interval = \"2m\"\n\n\
             [[sources]]\nname = \"capped\"\nurl = \"{}\"\nschedule = \"* * * * *\"\nmax_interval = \"1h\"\n\n\
             [[feeds]]\nname = \"all\"\n",
            server.url("a.xml"),
            server.url("b.xml"),
            server.url("c.xml"),
            server.url("d.xml"),
        ),
    );
    let config2 = config.clone();
    let out = tokio::task::spawn_blocking(move || fetch(&config2))
        .await
        .unwrap();
    assert!(
        out.contains("paused\tdisabled (enabled = false in the config): not fetched"),
        "{out}"
    );
    assert!(
        out.contains("filtered\tnew\tnew=2 updated=0 unchanged=0 filtered=3"),
        "{out}"
    );
    assert_eq!(
        server.full_responses("a.xml"),
        0,
        "a disabled source is never asked"
    );
    assert_eq!(server.full_responses("b.xml"), 1);

    let (entries, next) = stored(&dir.path().join("wirefeed.db"));
    let filtered: Vec<&str> = entries
        .iter()
        .filter(|(s, _)| s == "filtered")
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(filtered, ["Flood barrier closes", "Harbour quake drill"]);
    assert!(!entries.iter().any(|(s, _)| s == "paused"));
    // A day's <ttl> pushes a plain source a day out; min_interval overrides it, and
    // max_interval caps it.
    assert!(next["filtered"] > 23 * 3600, "{next:?}");
    assert!(next["eager"] <= 3 * 60 + 10, "{next:?}");
    assert!(
        next["capped"] <= 3600 + 70 && next["capped"] > 3000,
        "{next:?}"
    );

    // Named explicitly, a paused source is still not fetched.
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .args(["fetch", "--source", "paused"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("paused\tdisabled"));
    assert_eq!(server.full_responses("a.xml"), 0);
}
