//! Real feed readers subscribe to the running daemon over loopback, in every format (Atom,
//! RSS 2.0, JSON Feed): Python feedparser (must report no bozo) and newsboat (must store
//! every entry with its title and link).
//! `.ci/run` installs both; a missing reader fails the test rather than skipping it.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use common::readers::{feedparser_entries, newsboat_entries};
use common::{Daemon, FeedServer, fixture_file};

/// The project's own feeds (`tests/fixtures/feeds`), one per family, and the entries each holds.
const FILES: &[(&str, usize)] = &[
    ("rss20.xml", 4),
    ("atom10.xml", 3),
    ("feed11.json", 2),
    ("rss20-windows-1251.xml", 2),
    ("atom03.xml", 2),
    ("rss10.rdf", 3),
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

/// (id, title) of every entry, read back with feed-rs: the same story has one id everywhere.
async fn served_ids(url: &str) -> BTreeSet<(String, String)> {
    let body = common::client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    feed_rs::parser::parse(&body[..])
        .unwrap()
        .entries
        .iter()
        .map(|e| (e.id.clone(), e.title.as_ref().unwrap().content.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedparser_and_newsboat_read_every_entry() {
    let served: HashMap<_, _> = FILES
        .iter()
        .map(|(f, _)| (f.to_string(), fixture_file(f)))
        .collect();
    let server = FeedServer::start(served).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let sources: Vec<(String, String)> = FILES
        .iter()
        .enumerate()
        .map(|(i, (f, _))| (format!("src{i}"), server.url(f)))
        .collect();
    let config = common::write_config(
        dir.path(),
        port,
        &sources,
        "[[feeds]]\nname = \"all\"\ntitle = \"All & everything\"\nlimit = 500\n",
    );
    let daemon = Daemon::start(&config, port);
    let feed_url = format!("{}/feeds/all.atom", daemon.base);
    let expected_count: usize = FILES.iter().map(|(_, n)| n).sum();
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

    // Every format carries the same entries under the same ids, read back by feed-rs,
    // feedparser, newsboat and feed-extractor.
    let atom_ids = served_ids(&feed_url).await;
    assert_eq!(atom_ids.len(), expected_count);
    for (ext, version) in [("atom", "atom10"), ("rss", "rss20"), ("json", "json11")] {
        let url = format!("{}/feeds/all.{ext}", daemon.base);
        assert_eq!(served_entries(&url).await, entries, "feed-rs read {ext}");
        assert_eq!(served_ids(&url).await, atom_ids, "ids in {ext}");
        if ext != "json" {
            let (v, fp) = feedparser_entries(&url);
            assert_eq!(v, version, "feedparser's idea of {url}");
            assert_eq!(fp, entries, "feedparser saw different entries in {ext}");
        }
        // newsboat 2.21 (Debian's) predates JSON Feed support.
        if ext != "json" {
            let nb = newsboat_entries(dir.path(), &url, ext);
            assert_eq!(
                nb.len(),
                expected_count,
                "newsboat stored {} {ext} entries",
                nb.len()
            );
            assert_eq!(
                norm(&nb),
                norm(&entries),
                "newsboat saw different entries in {ext}"
            );
        }
        let js = extractor_entries(&url);
        assert_eq!(
            norm(&js),
            norm(&entries),
            "feed-extractor saw different entries in {ext}"
        );
    }
}

/// (title, link) of every entry as the JavaScript @extractus/feed-extractor reads the feed
/// (installed by scripts/test into target/js).
fn extractor_entries(url: &str) -> BTreeSet<(String, String)> {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/js/node_modules");
    let script = r#"
const { extract } = require("@extractus/feed-extractor");
extract(process.argv[1], { normalization: true, descriptionMaxLen: 0 })
  .then(d => console.log(JSON.stringify(d.entries.map(e => [e.title || "", e.link || ""]))))
  .catch(e => { console.error(String(e)); process.exit(1); });
"#;
    let out = Command::new("node")
        .env("NODE_PATH", &modules)
        .args(["-e", script, url])
        .output()
        .expect("node must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "feed-extractor failed on {url} (run scripts/test, which installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<(String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter().collect()
}

/// newsboat shows titles as text; compare with whitespace normalised.
fn norm(s: &BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    s.iter()
        .map(|(t, l)| {
            (
                t.split_whitespace().collect::<Vec<_>>().join(" "),
                l.clone(),
            )
        })
        .collect()
}
