//! Real feed readers subscribe to the running daemon over loopback: Python feedparser (must
//! report no bozo) and newsboat (must store every entry with its title and link).
//! `.ci/run` installs both; a missing reader fails the test rather than skipping it.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use common::{Daemon, FeedServer, corpus_file};

const FILES: &[&str] = &[
    "Ranchero-Software__NetNewsWire/489.rss",
    "arminreiter__FeedReader/AtomTheVerge.xml",
    "feedbin__feedbin/feed.json",
    "danmactough__node-feedparser/iconv.xml",
    "rometools__rome/atom_0.3.xml",
];

/// (title, link) of every entry the daemon serves, read back with feed-rs.
async fn served_entries(url: &str) -> BTreeSet<(String, String)> {
    let body = common::client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    feed.entries
        .iter()
        .map(|e| {
            (
                e.title.as_ref().unwrap().content.clone(),
                e.links.first().map(|l| l.href.clone()).unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedparser_and_newsboat_read_every_entry() {
    let served: HashMap<_, _> = FILES
        .iter()
        .map(|f| (f.to_string(), corpus_file(f)))
        .collect();
    let server = FeedServer::start(served).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let sources: Vec<(String, String)> = FILES
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("src{i}"), server.url(f)))
        .collect();
    let config = common::write_config(
        dir.path(),
        port,
        &sources,
        "[[feeds]]\nname = \"all\"\ntitle = \"All & everything\"\nlimit = 500\n",
    );
    let daemon = Daemon::start(&config, port);
    let feed_url = format!("{}/feeds/all.atom", daemon.base);
    let expected_count = 10 + 10 + 11 + 10 + 2;
    let mut entries = BTreeSet::new();
    for _ in 0..300 {
        entries = served_entries(&feed_url).await;
        if entries.len() >= expected_count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        entries.len(),
        expected_count,
        "daemon log:\n{}",
        daemon.log()
    );

    // feedparser
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")),
                  "version": d.version,
                  "entries": [[e.get("title", ""), e.get("link", "")] for e in d.entries]}))
"#;
    let out = Command::new("python3")
        .args(["-c", script, &feed_url])
        .output()
        .expect("python3 must be installed (scripts/test installs feedparser)");
    assert!(
        out.status.success(),
        "feedparser missing or failed (run scripts/test, which installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bozo"], 0, "feedparser bozo: {}", v["error"]);
    assert_eq!(v["version"], "atom10");
    let fp: BTreeSet<(String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(fp, entries, "feedparser saw different entries");

    // newsboat
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let urls = dir.path().join("urls");
    std::fs::write(&urls, format!("{feed_url}\n")).unwrap();
    let nb_config = dir.path().join("newsboat.conf");
    std::fs::write(&nb_config, "").unwrap();
    let cache = dir.path().join("newsboat-cache.db");
    let out = Command::new("newsboat")
        .env("HOME", &home)
        .arg("-u")
        .arg(&urls)
        .arg("-c")
        .arg(&cache)
        .arg("-C")
        .arg(&nb_config)
        .args(["-x", "reload"])
        .output()
        .expect("newsboat must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "newsboat failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&cache).unwrap();
    let mut stmt = conn
        .prepare("SELECT title, url FROM rss_item WHERE feedurl = ?1")
        .unwrap();
    let nb: BTreeSet<(String, String)> = stmt
        .query_map([&feed_url], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        nb.len(),
        expected_count,
        "newsboat stored {} entries",
        nb.len()
    );
    // newsboat shows titles as text; compare with whitespace normalised.
    let norm = |s: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
        s.iter()
            .map(|(t, l)| {
                (
                    t.split_whitespace().collect::<Vec<_>>().join(" "),
                    l.clone(),
                )
            })
            .collect()
    };
    assert_eq!(norm(&nb), norm(&entries), "newsboat saw different entries");
}
