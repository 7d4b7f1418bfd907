//! Everything a source carries reaches readers: a podcast republished in Atom, RSS and JSON
//! Feed is read, enclosure by enclosure, by feedparser, by a podcast app's parser
//! (podcastparser, from PyPI) and by a JavaScript JSON Feed reader; and documents with
//! malformed items keep their good items, with each bad one named.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use common::readers::{Enclosure, feedparser_enclosures, podcastparser_episodes};
use common::{Daemon, FeedServer, Served, fixture_file};

const EP3: &str = "Episode 3: the night the lighthouse went dark";
const EP2: &str = "Episode 2: knots, nets and the winter repairs";
const EP1: &str = "Episode 1: why anyone keeps a harbour";

/// What the fixture podcast carries, by episode: (url, length, type) of its one audio file.
fn expected(server: &FeedServer) -> BTreeMap<String, Vec<Enclosure>> {
    let e =
        |url: &str, len: &str, ty: &str| vec![(url.to_string(), len.to_string(), ty.to_string())];
    BTreeMap::from([
        (
            EP3.to_string(),
            e(
                "http://media.harbour-hours.example/audio/hh-3.mp3",
                "48213504",
                "audio/mpeg",
            ),
        ),
        (
            EP2.to_string(),
            e(
                "http://media.harbour-hours.example/audio/hh-2.m4a",
                "39845888",
                "audio/mp4",
            ),
        ),
        // A relative enclosure URL is resolved against the feed's address.
        (
            EP1.to_string(),
            e(&server.url("audio/hh-1.mp3"), "31457280", "audio/mpeg"),
        ),
    ])
}

async fn get(url: &str) -> String {
    common::client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until the feed's Atom document carries `n` entries.
async fn wait_for_entries(base: &str, feed: &str, n: usize) {
    for _ in 0..300 {
        let body = get(&format!("{base}/feeds/{feed}.atom")).await;
        if feed_rs::parser::parse(body.as_bytes()).is_ok_and(|f| f.entries.len() == n) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{feed} never carried {n} entries");
}

/// Every entry's attachments as the JavaScript @extractus/feed-extractor reads a JSON Feed
/// (installed by scripts/test into target/js), by title.
fn extractor_attachments(url: &str) -> BTreeMap<String, Vec<Enclosure>> {
    let modules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/js/node_modules");
    let script = r#"
const { extract } = require("@extractus/feed-extractor");
extract(process.argv[1], {
  normalization: true,
  getExtraEntryFields: e => ({ files: (e.attachments || []).map(a =>
      [a.url, String(a.size_in_bytes ?? ""), a.mime_type]) }),
}).then(d => console.log(JSON.stringify(Object.fromEntries(d.entries.map(e => [e.title, e.files])))))
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
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_podcast_keeps_every_enclosure_in_every_format() {
    let server = FeedServer::start(HashMap::from([(
        "podcast.rss".to_string(),
        fixture_file("podcast.rss"),
    )]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("harbour".to_string(), server.url("podcast.rss"))],
        "[[feeds]]\nname = \"pod\"\ntitle = \"Harbour Hours, republished\"\n",
    );
    let daemon = Daemon::start(&config, port);
    let base = daemon.base.clone();
    wait_for_entries(&base, "pod", 3).await;
    let want = expected(&server);

    for ext in ["atom", "rss"] {
        let url = format!("{base}/feeds/pod.{ext}");
        let seen = tokio::task::spawn_blocking(move || feedparser_enclosures(&url))
            .await
            .unwrap();
        assert_eq!(seen, want, "feedparser on {ext}");
    }
    let url = format!("{base}/feeds/pod.json");
    let seen = tokio::task::spawn_blocking(move || extractor_attachments(&url))
        .await
        .unwrap();
    assert_eq!(seen, want, "feed-extractor on JSON Feed");

    // A podcast app reads the episodes, their running times and pictures, and the cover.
    for ext in ["rss", "atom"] {
        let url = format!("{base}/feeds/pod.{ext}");
        let (title, cover, episodes) =
            tokio::task::spawn_blocking(move || podcastparser_episodes(&url))
                .await
                .unwrap();
        assert_eq!(title, "Harbour Hours, republished");
        let by_title: BTreeMap<&str, &common::readers::Episode> =
            episodes.iter().map(|e| (e.title.as_str(), e)).collect();
        assert_eq!(by_title.len(), 3, "{ext}: {episodes:?}");
        for (t, files) in &want {
            let ep = by_title[t.as_str()];
            let got: Vec<(String, String, String)> = ep
                .enclosures
                .iter()
                .map(|(u, l, m)| (u.clone(), l.to_string(), m.clone()))
                .collect();
            assert_eq!(&got, files, "{ext}: {t}");
        }
        let ep3 = by_title[EP3];
        assert!(
            ep3.art.as_deref().is_some_and(|a| a.contains("hh-3")),
            "{ext}: episode art {:?}",
            ep3.art
        );
        if ext == "rss" {
            assert_eq!(ep3.total_time, 50 * 60 + 13);
            assert_eq!(by_title[EP2].total_time, 3725);
            assert_eq!(by_title[EP1].total_time, 43 * 60 + 41);
            assert_eq!(
                cover.as_deref(),
                Some("http://harbour-hours.example/cover.jpg")
            );
        }
    }

    // JSON Feed also names the episode's picture and the podcast's cover.
    let json: serde_json::Value =
        serde_json::from_str(&get(&format!("{base}/feeds/pod.json")).await).unwrap();
    assert_eq!(json["icon"], "http://harbour-hours.example/cover.jpg");
    let ep3 = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == EP3)
        .unwrap();
    assert_eq!(
        ep3["image"],
        "http://media.harbour-hours.example/art/hh-3.jpg"
    );
    assert_eq!(ep3["attachments"][0]["duration_in_seconds"], 50 * 60 + 13);
}

fn json_doc(items: &str) -> Served {
    Served {
        body: format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"Tidewater Notes","items":[{items}]}}"#
        )
        .into(),
        content_type: "application/feed+json".into(),
        ..Default::default()
    }
}

fn rss_doc(items: &str) -> Served {
    Served {
        body: format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Quayside Post</title>\
             <link>http://quayside.example/</link><description>d</description>{items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_with_broken_items_keep_the_good_ones_and_name_the_bad() {
    let good = |id: &str, title: &str| {
        format!(
            r#"{{"id":"{id}","url":"http://tidewater.example/{id}","title":"{title}","content_text":"The {title} text."}}"#
        )
    };
    let json = json_doc(
        &[
            good("t-1", "Ferry timetable changes"),
            r#"{"id":"t-2","url":12345,"title":"A numeric url"}"#.into(),
            "null".into(),
            r#"{"id":"t-4","title":"String tags","tags":"harbour"}"#.into(),
            good("t-5", "Storm warning lifted"),
        ]
        .join(","),
    );
    let item = |guid: &str, title: &str, extra: &str| {
        format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>http://quayside.example/{guid}</link>\
             <description>About {title}.</description>{extra}</item>"
        )
    };
    let rss = rss_doc(
        &[
            item("q-1", "Harbour wall repaired", ""),
            item(
                "q-2",
                "An unclosed tag",
                "<content:encoded><b>bold</content:encoded>",
            ),
            item(
                "q-3",
                "A character that cannot be",
                "<category>&#xFFFFFF;</category>",
            ),
            item("q-4", "New crane arrives", ""),
        ]
        .concat(),
    );
    let server = FeedServer::start(HashMap::from([
        ("notes.json".to_string(), json),
        ("post.rss".to_string(), rss),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        common::free_port(),
        &[
            ("tidewater".to_string(), server.url("notes.json")),
            ("quayside".to_string(), server.url("post.rss")),
        ],
        "[[feeds]]\nname = \"all\"\n",
    );
    let bin = env!("CARGO_BIN_EXE_wirefeed");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("--config")
            .arg(&config)
            .arg("fetch")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each source fetched fine, with its good items new and each bad one named.
    for (source, new) in [("tidewater", 2), ("quayside", 2)] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{source}\tnew\tnew={new} "))),
            "{stdout}"
        );
    }
    for bad in [
        "tidewater\twarning: skipped malformed item 2 (id \"t-2\"): url is a number",
        "tidewater\twarning: skipped malformed item 3: the item is null",
        "tidewater\twarning: skipped malformed item 4 (id \"t-4\"): tags is a string",
        "quayside\twarning: skipped malformed item 2 (guid \"q-2\")",
        "quayside\twarning: skipped malformed item 3 (guid \"q-3\")",
    ] {
        assert!(stdout.contains(bad), "no {bad:?} in:\n{stdout}");
    }
    let dir_path = dir.path().to_path_buf();
    let stories = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .arg("--config")
            .arg(dir_path.join("wirefeed.toml"))
            .args(["stories", "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&stories.stdout).unwrap();
    let mut titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        [
            "Ferry timetable changes",
            "Harbour wall repaired",
            "New crane arrives",
            "Storm warning lifted"
        ]
    );
}

/// The daemon logs the same warnings, naming the source and the item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_logs_each_skipped_item_with_its_source() {
    let json = json_doc(
        r#"{"id":"ok","title":"Fine","content_text":"x"},{"id":"bad","title":"Bad","tags":"x"}"#,
    );
    let server = FeedServer::start(HashMap::from([("n.json".to_string(), json)])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("notes".to_string(), server.url("n.json"))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = Daemon::start(&config, port);
    wait_for_entries(&daemon.base, "all", 1).await;
    let log = common::wait_for(10, "the warning in the log", || {
        let log = daemon.log();
        log.contains("skipped malformed item 2 (id \"bad\")")
            .then_some(log)
    });
    let line = log.lines().find(|l| l.contains("(id \"bad\")")).unwrap();
    assert!(line.contains("WARN") && line.contains("notes"), "{line}");
}

/// The real podcast of the shared corpus (100 episodes, each with an enclosure) keeps all
/// of them in every format.
#[test]
fn the_corpus_podcast_keeps_its_hundred_enclosures() {
    let Some(atp) = common::real_data("corpus", "feeds/Ranchero-Software__NetNewsWire/atp.rss")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wirefeed.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndatabase = \"w.db\"\n[[sources]]\nname = \"atp\"\nurl = \"{}\"\n\
             [[feeds]]\nname = \"pod\"\nlimit = 200\n",
            url::Url::from_file_path(&atp).unwrap()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["fetch"]);
    for format in ["atom", "rss"] {
        let path = dir.path().join(format!("pod.{format}"));
        std::fs::write(&path, run(&["render", "pod", "--format", format])).unwrap();
        let seen = feedparser_enclosures(path.to_str().unwrap());
        assert_eq!(seen.len(), 100, "{format}");
        for (title, files) in &seen {
            assert_eq!(files.len(), 1, "{format}: {title}: {files:?}");
            let (url, length, ty) = &files[0];
            assert!(url.starts_with("http") && url.ends_with(".mp3"), "{url}");
            assert!(
                length.parse::<u64>().unwrap() > 1_000_000,
                "{title}: {length}"
            );
            assert_eq!(ty, "audio/mpeg");
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["render", "pod", "--format", "json"])).unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    assert!(
        items
            .iter()
            .all(|i| i["attachments"][0]["mime_type"] == "audio/mpeg")
    );
}
