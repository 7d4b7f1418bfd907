//! Fetch → parse → clean → store → publish through the library, against a real HTTP feed
//! server on loopback serving the project's own feeds in every dialect, and files of the
//! real-world corpus where it is present.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::{FeedServer, Served, corpus_file, fixture_file};
use wirefeed::config::Config;
use wirefeed::ingest::Outcome;
use wirefeed::publish::Publisher;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

/// (feed the project wrote, entries it holds, one title that must come through intact): every
/// dialect and a few encodings.
const FIXTURES: &[(&str, usize, &str)] = &[
    ("rss090.rdf", 3, "Tram line reopens after bridge repairs"),
    (
        "rss091.xml",
        4,
        "[04.02.2025 - 07:10] Chimney fire, Mill Road",
    ),
    ("rss092.xml", 3, "Morning show: the beekeepers' winter"),
    ("rss094.xml", 2, "Bell ringers recruit new members"),
    ("rss10.rdf", 3, "Cycle lanes \"a success\", survey finds"),
    (
        "rss20.xml",
        4,
        "Copper miners end two-week strike after wage deal",
    ),
    (
        "rss20-iso-8859-1.xml",
        2,
        "SNÖOVÄDER - vägen över fjället stängd",
    ),
    (
        "rss20-windows-1251.xml",
        2,
        "Библиотека продлевает часы работы – с понедельника",
    ),
    ("atom03.xml", 2, "Rye loaf, third attempt"),
    (
        "atom10.xml",
        3,
        "Why our build got 40% faster & what it cost",
    ),
    (
        "feed10.json",
        3,
        "A comet you can see with binoculars this week",
    ),
    (
        "feed11.json",
        2,
        "Episode 42: ferries, bridges and the long way round",
    ),
];

/// The same check on files of the real-world corpus (`$WIREFEED_DATA/feeds`).
const CORPUS: &[(&str, usize, &str)] = &[
    (
        "arminreiter__FeedReader/Rss091Stadtfeuerwehr.xml",
        15,
        "[19.08.2018 - 07:08 Uhr] Brandmeldeanlagenalarm",
    ),
    ("rust-syndication__rss/rss090.xml", 5, "New Status Updates"),
    (
        "newsboat__newsboat/rss_094_with_bracket_author.xml",
        3,
        "This one has an author name with an email in brackets",
    ),
    (
        "arminreiter__FeedReader/Rss10Minutos20.xml",
        15,
        "Obama le recuerda a Trump que Putin \"no es de nuestro equipo\"",
    ),
    (
        "Ranchero-Software__NetNewsWire/489.rss",
        10,
        "Hodl Hodl closes funding round",
    ),
    (
        "rometools__rome/atom_0.3.xml",
        2,
        "atom_0.3.feed.entry[1].title",
    ),
    (
        "arminreiter__FeedReader/AtomTheVerge.xml",
        10,
        "The Verge Awards at CES 2017: Hi, Alexa",
    ),
    (
        "feedbin__feedbin/feed.json",
        11,
        "Special #2 - Brent Simmons",
    ),
    (
        "Ranchero-Software__NetNewsWire/3960.json",
        20,
        "„Sabine“ am Flughafen Amsterdam",
    ),
    (
        "danmactough__node-feedparser/iconv.xml",
        10,
        "В Бузулуке главные стройплощадки – детсад и Ледовый дворец",
    ),
    (
        "arminreiter__FeedReader/Rss20ISO88591Intranet30.xml",
        30,
        "SVART MÅNAD - DÖDSOLYCKA i Vetlanda",
    ),
];

fn source_name(i: usize) -> String {
    format!("s{i:03}")
}

fn config_for(dir: &std::path::Path, server: &FeedServer, files: &[&str], feeds: &str) -> Config {
    let sources: Vec<(String, String)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (source_name(i), server.url(f)))
        .collect();
    let path = common::write_config(dir, common::free_port(), &sources, feeds);
    Config::load(&path).unwrap()
}

fn open(config: &Config) -> Runner {
    let store = Store::open(&config.storage.database).unwrap();
    Runner::new(config, Arc::new(Mutex::new(store))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dialect_is_fetched_stored_and_republished_as_atom() {
    let files = FIXTURES
        .iter()
        .map(|(f, _, _)| (f.to_string(), fixture_file(f)))
        .collect();
    round_trip(FIXTURES, files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_corpus_formats_are_fetched_stored_and_republished_as_atom() {
    let Some(corpus) = common::real_data("corpus", "feeds") else {
        return;
    };
    let files = CORPUS
        .iter()
        .map(|(f, _, _)| (f.to_string(), corpus_file(&corpus, f)))
        .collect();
    round_trip(CORPUS, files).await;
}

/// Serves `files`, runs each as a source with a feed of its own, and checks what was stored
/// and republished against `table`.
async fn round_trip(table: &[(&str, usize, &str)], files: HashMap<String, Served>) {
    // Feeds publish every entry here (`dedup = false`): one corpus file is a media-monitoring
    // feed that really does carry one syndicated story twice, which dedup would merge.
    let server = FeedServer::start(files).await;
    let dir = tempfile::tempdir().unwrap();
    let mut feeds = String::new();
    for i in 0..table.len() {
        let n = source_name(i);
        feeds.push_str(&format!(
            "[[feeds]]\nname = \"f{n}\"\nsources = [\"{n}\"]\ndedup = false\n\n"
        ));
    }
    let names: Vec<&str> = table.iter().map(|f| f.0).collect();
    let config = config_for(dir.path(), &server, &names, &feeds);
    let runner = open(&config);
    let reports = runner.run_all(&config.sources).await;

    let publisher = Publisher::new(Arc::new(config.clone()));
    for (i, (file, count, title)) in table.iter().enumerate() {
        let r = &reports[i];
        assert_eq!(r.outcome, Outcome::New, "{file}: {r}");
        assert_eq!(r.counts.new, *count, "{file}: {r}");
        let stored = runner
            .writer()
            .lock()
            .unwrap()
            .entry_count(Some(&source_name(i)))
            .unwrap();
        assert_eq!(stored as usize, *count, "{file}");

        let atom = publisher
            .atom(&format!("f{}", source_name(i)))
            .unwrap()
            .unwrap();
        let parsed = feed_rs::parser::parse(&atom.body[..]).unwrap();
        assert_eq!(parsed.entries.len(), *count, "{file}");
        let titles: Vec<String> = parsed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect();
        assert!(
            titles.iter().any(|t| t == title),
            "{file}: {title:?} not in {titles:?}"
        );
        for e in &parsed.entries {
            assert!(e.id.starts_with("urn:uuid:"), "{file}: {}", e.id);
            for l in &e.links {
                assert!(
                    l.href.starts_with("http"),
                    "{file}: relative link {}",
                    l.href
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refetch_with_same_etag_gets_304_and_writes_nothing() {
    let file = "atom10.xml";
    let server = FeedServer::start(HashMap::from([(file.to_string(), fixture_file(file))])).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &server, &[file], "");
    let runner = open(&config);

    let first = runner.run_all(&config.sources).await;
    assert_eq!(first[0].counts.new, 3);
    assert_eq!(server.full_responses(file), 1);
    let changes_before = total_changes_of(&config);

    let second = runner.run_all(&config.sources).await;
    assert_eq!(second[0].outcome, Outcome::NotModified, "{}", second[0]);
    assert_eq!(
        server.full_responses(file),
        1,
        "the second fetch must not get a full body"
    );
    assert_eq!(server.not_modified_responses(file), 1);
    let changes_after = total_changes_of(&config);
    assert_eq!(
        changes_before, changes_after,
        "a 304 writes nothing to the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_feed_updates_entries_in_place_and_unchanged_body_writes_no_entry() {
    let path = "feed.xml";
    let doc = |title: &str, etag: &str| Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>T</title>\
             <item><guid>a</guid><title>{title}</title><link>http://example.org/a</link></item>\
             <item><title>no guid</title><link>http://example.org/b</link></item>\
             </channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        etag: Some(etag.into()),
        ..Default::default()
    };
    let server =
        FeedServer::start(HashMap::from([(path.to_string(), doc("First", "\"1\""))])).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &server, &[path], "");
    let runner = open(&config);
    assert_eq!(runner.run_all(&config.sources).await[0].counts.new, 2);

    // Same content, new ETag: a full body arrives but no entry changes.
    server.set(path, doc("First", "\"2\""));
    let r = runner.run_all(&config.sources).await;
    assert_eq!(r[0].outcome, Outcome::Unchanged, "{}", r[0]);
    assert_eq!(r[0].counts.unchanged, 2);

    server.set(path, doc("First, revised", "\"3\""));
    let r = runner.run_all(&config.sources).await;
    assert_eq!(r[0].outcome, Outcome::Updated, "{}", r[0]);
    assert_eq!((r[0].counts.new, r[0].counts.updated), (0, 1));
    assert_eq!(
        runner.writer().lock().unwrap().entry_count(None).unwrap(),
        2
    );
}

/// (entries rows, outcomes in the fetch log in order)
fn total_changes_of(config: &Config) -> (i64, Vec<String>) {
    let conn = rusqlite_conn(config);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) + coalesce(sum(last_changed), 0) FROM entries",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT outcome FROM fetch_log ORDER BY id")
        .unwrap();
    let outcomes = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (n, outcomes)
}

fn rusqlite_conn(config: &Config) -> rusqlite::Connection {
    rusqlite::Connection::open(&config.storage.database).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_and_http_charsets_decode_correctly() {
    let doc = |decl: &str, title_bytes: &[u8]| -> Vec<u8> {
        let mut v = format!(
            "{decl}<rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid><title>"
        )
        .into_bytes();
        v.extend_from_slice(title_bytes);
        v.extend_from_slice(b"</title></item></channel></rss>");
        v
    };
    let utf16: Vec<u8> = {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid><title>Grüße aus Köln</title></item></channel></rss>";
        let mut v = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    };
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "latin1-http",
            doc("", b"Caf\xe9 cr\xe8me"),
            "text/xml; charset=ISO-8859-1",
            "Café crème",
        ),
        (
            "cp1252",
            doc(
                "<?xml version=\"1.0\" encoding=\"windows-1252\"?>",
                b"\x93Quoted\x94 \x80 5",
            ),
            "application/rss+xml",
            "\u{201c}Quoted\u{201d} € 5",
        ),
        (
            "koi8r",
            doc(
                "<?xml version=\"1.0\" encoding=\"KOI8-R\"?>",
                b"\xf0\xd2\xc9\xd7\xc5\xd4",
            ),
            "application/xml",
            "Привет",
        ),
        ("utf16", utf16, "application/xml", "Grüße aus Köln"),
        (
            "bad-utf8",
            doc(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                b"ok \xff bytes",
            ),
            "application/xml",
            // A byte that is not UTF-8 is read as windows-1252, not replaced.
            "ok \u{ff} bytes",
        ),
    ];
    let files: HashMap<String, Served> = cases
        .iter()
        .map(|(n, body, ct, _)| {
            (
                n.to_string(),
                Served {
                    body: body.clone().into(),
                    content_type: ct.to_string(),
                    etag: None,
                    ..Default::default()
                },
            )
        })
        .collect();
    let server = FeedServer::start(files).await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let config = config_for(dir.path(), &server, &names, "");
    let runner = open(&config);
    let reports = runner.run_all(&config.sources).await;
    let store = runner.writer().lock().unwrap();
    for (i, (name, _, _, expected)) in cases.iter().enumerate() {
        assert_eq!(reports[i].outcome, Outcome::New, "{name}: {}", reports[i]);
        let entries = store
            .entries(&wirefeed::store::EntryQuery {
                sources: &[source_name(i)],
                limit: 5,
                keep: &|_| true,
            })
            .unwrap();
        assert_eq!(entries[0].entry.title, *expected, "{name}");
    }
}
