//! Real feed readers, driven as users drive them: Python feedparser and newsboat (installed
//! by scripts/test; a missing reader fails the test rather than skipping it).

use std::collections::BTreeSet;
use std::process::Command;

/// (version, entries) as Python feedparser reads the feed; it must not report bozo.
pub fn feedparser_entries(url: &str) -> (String, BTreeSet<(String, String)>) {
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")),
                  "version": d.version,
                  "entries": [[e.get("title", ""), e.get("link", "")] for e in d.entries]}))
"#;
    let out = Command::new("python3")
        .args(["-c", script, url])
        .output()
        .expect("python3 must be installed (scripts/test installs feedparser)");
    assert!(
        out.status.success(),
        "feedparser missing or failed (run scripts/test, which installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bozo"], 0, "feedparser bozo on {url}: {}", v["error"]);
    let entries = v["entries"]
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
    (
        v["version"].as_str().unwrap_or_default().to_string(),
        entries,
    )
}

/// (title, link) of every item newsboat stores after one reload of the feed.
pub fn newsboat_entries(dir: &std::path::Path, url: &str, tag: &str) -> BTreeSet<(String, String)> {
    let home = dir.join(format!("home-{tag}"));
    std::fs::create_dir_all(&home).unwrap();
    let urls = dir.join(format!("urls-{tag}"));
    std::fs::write(&urls, format!("{url}\n")).unwrap();
    let nb_config = dir.join("newsboat.conf");
    std::fs::write(&nb_config, "").unwrap();
    let cache = dir.join(format!("newsboat-cache-{tag}.db"));
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
        "newsboat failed on {url}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&cache).unwrap();
    let mut stmt = conn
        .prepare("SELECT title, url FROM rss_item WHERE feedurl = ?1")
        .unwrap();
    stmt.query_map([url], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One enclosure as a reader reports it: (url, length, MIME type); length "" when absent.
pub type Enclosure = (String, String, String);

fn python_json(script: &str, url: &str, what: &str) -> serde_json::Value {
    let out = Command::new("python3")
        .args(["-c", script, url])
        .output()
        .expect("python3 must be installed (scripts/test installs the readers)");
    assert!(
        out.status.success(),
        "{what} missing or failed on {url} (run scripts/test, which installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every entry's enclosures as Python feedparser reads the feed, by entry title; the feed
/// must not be bozo.
pub fn feedparser_enclosures(url: &str) -> std::collections::BTreeMap<String, Vec<Enclosure>> {
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")),
                  "entries": {e.get("title", ""): [[x.get("href", ""), x.get("length", ""),
                                                    x.get("type", "")]
                                                   for x in e.get("enclosures", [])]
                              for e in d.entries}}))
"#;
    let v = python_json(script, url, "feedparser");
    assert_eq!(v["bozo"], 0, "feedparser bozo on {url}: {}", v["error"]);
    serde_json::from_value(v["entries"].clone()).unwrap()
}

/// One episode as a podcast app's parser reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Episode {
    pub title: String,
    /// (url, file size, MIME type) of each enclosure.
    pub enclosures: Vec<(String, i64, String)>,
    /// Running time in seconds (0 when the feed gives none).
    pub total_time: i64,
    /// The episode's own picture, if the parser found one.
    pub art: Option<String>,
}

/// (podcast title, cover, episodes) as gPodder's podcastparser (PyPI) reads the feed.
pub fn podcastparser_episodes(url: &str) -> (String, Option<String>, Vec<Episode>) {
    let script = r#"
import json, sys, urllib.request, podcastparser
with urllib.request.urlopen(sys.argv[1]) as r:
    p = podcastparser.parse(sys.argv[1], r)
print(json.dumps({"title": p.get("title", ""), "cover": p.get("cover_url"),
  "episodes": [{"title": e.get("title", ""),
                "enclosures": [[x["url"], x.get("file_size", -1), x.get("mime_type", "")]
                               for x in e.get("enclosures", [])],
                "total_time": e.get("total_time", 0) or 0,
                "art": e.get("episode_art_url")} for e in p.get("episodes", [])]}))
"#;
    let v = python_json(script, url, "podcastparser");
    (
        v["title"].as_str().unwrap_or_default().to_string(),
        v["cover"].as_str().map(String::from),
        serde_json::from_value(v["episodes"].clone()).unwrap(),
    )
}
