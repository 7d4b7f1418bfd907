//! Every file of the real-world corpus (`$WIREFEED_DATA/feeds`; skipped where absent) goes through fetch and
//! parse over real HTTP: none may panic, each failure is a clean per-source error, and the
//! number that parse may not fall below what was reached.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{FeedServer, corpus_file};
use wirefeed::config::Config;
use wirefeed::ingest::Outcome;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

/// Parsed as feeds (with or without entries) on this corpus when the floor was set.
const PARSE_FLOOR: usize = 470;

fn corpus_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy();
            if name.ends_with(".serde.json") || name.starts_with("manifest.") || name == "README.md"
            {
                continue;
            }
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_file_goes_through_fetch_and_parse_without_panic() {
    let Some(root) = common::real_data("corpus", "feeds") else {
        return;
    };
    let files = corpus_files(&root);
    assert_eq!(files.len(), 492, "the shared corpus changed");
    let served: HashMap<_, _> = files
        .iter()
        .map(|f| (f.clone(), corpus_file(&root, f)))
        .collect();
    let server = FeedServer::start(served).await;
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<(String, String)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("c{i:03}"), server.url(&urlencode(f))))
        .collect();
    let path = common::write_config(dir.path(), common::free_port(), &sources, "");
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let runner = Runner::new(&config, Arc::new(Mutex::new(store))).unwrap();

    let reports = runner.run_all(&config.sources).await;
    assert_eq!(reports.len(), files.len(), "an ingest task panicked");

    let mut parsed = 0;
    let mut entries = 0;
    let mut failures: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (r, f) in reports.iter().zip(&files) {
        match &r.outcome {
            Outcome::Error(e) => {
                let text = e.to_string();
                let kind = text.split(':').take(2).collect::<Vec<_>>().join(":");
                failures.entry(kind).or_default().push(f);
            }
            _ => {
                parsed += 1;
                entries += r.entries_seen;
            }
        }
    }
    eprintln!(
        "corpus: {parsed} of {} parsed, {entries} entries",
        files.len()
    );
    for (kind, fs) in &failures {
        eprintln!("  {} × {kind}", fs.len());
        for f in fs {
            eprintln!("      {f}");
        }
    }
    // Every failure was recorded as that source's error, not lost.
    let store = Store::open_reader(&config.storage.database).unwrap();
    for (r, s) in reports.iter().zip(&config.sources) {
        let st = store.source_state(&s.name).unwrap().unwrap();
        assert_eq!(
            st.last_outcome.as_deref(),
            Some(r.outcome.label()),
            "{}",
            s.name
        );
    }
    assert!(
        parsed >= PARSE_FLOOR,
        "only {parsed} parsed; floor is {PARSE_FLOOR}"
    );

    // What the learned layer took out: blocks repeated across ≥ 3 distinct entries of a feed.
    let learned = store.learned_list(None, 3).unwrap();
    let sources: std::collections::BTreeSet<&str> =
        learned.iter().map(|r| r.source.as_str()).collect();
    eprintln!(
        "learned boilerplate: {} blocks in {} of {} feeds",
        learned.len(),
        sources.len(),
        files.len()
    );
    for r in &learned {
        let file = &files[r.source[1..].parse::<usize>().unwrap()];
        let sample: String = r.stats.sample.chars().take(90).collect();
        eprintln!("  {file} ×{}: {sample}", r.stats.entries);
    }
}

fn urlencode(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
