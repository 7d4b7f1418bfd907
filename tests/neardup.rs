//! Near-duplicate detection on the labelled dev set (../shared/data/neardup-dev): every
//! outlet's feed goes through wirefeed's own parse and clean stages, then the dedup engine in
//! publication order; the set's scorer judges the clusters. The floors are what was reached.
//! (The engine is not yet wired into the store and the published feeds.)

mod common;

use std::process::Command;

use wirefeed::clean::{Cleaner, blocks_of};
use wirefeed::dedup::{DedupConfig, DedupEngine, EntryInput};
use wirefeed::parse::{ParseLimits, parse_feed};

/// Pairwise precision and recall reached on the dev set when the floors were set
/// (P = 1.000, R = 0.988 with these defaults).
const PRECISION_FLOOR: f64 = 0.995;
const RECALL_FLOOR: f64 = 0.98;

struct Item {
    source: String,
    url: String,
    title: String,
    paragraphs: Vec<String>,
    at: i64,
}

#[test]
fn dev_set_clusters_score_above_the_floors() {
    let data = common::shared_data().join("neardup-dev");
    let mut files: Vec<_> = std::fs::read_dir(data.join("feeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let cleaner = Cleaner::default();
    let mut items = Vec::new();
    for f in files {
        let source = f.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&f).unwrap();
        let feed_url = url::Url::parse(&format!("https://{source}.example/rss")).unwrap();
        let parsed = parse_feed(
            &bytes,
            None,
            Some(feed_url.as_str()),
            ParseLimits::default(),
        )
        .unwrap();
        for raw in &parsed.entries {
            let clean = cleaner.clean(raw, &feed_url, &|_| false);
            let body = clean
                .content
                .as_deref()
                .or(clean.summary.as_deref())
                .unwrap_or("");
            items.push(Item {
                source: source.clone(),
                url: raw.link.clone().unwrap_or_default(),
                title: clean.title.clone(),
                paragraphs: blocks_of(body),
                at: clean.published.map(|d| d.timestamp()).unwrap_or(0),
            });
        }
    }
    assert_eq!(items.len(), 684);
    items.sort_by(|a, b| (a.at, &a.url).cmp(&(b.at, &b.url)));
    let mut engine = DedupEngine::new(DedupConfig::default());
    let mut pred = String::from("url\tcluster\n");
    for it in &items {
        let d = engine.process(EntryInput {
            source: &it.source,
            url: &it.url,
            title: &it.title,
            paragraphs: &it.paragraphs,
            at: it.at,
        });
        pred.push_str(&format!("{}\tS{}\n", it.url, d.story()));
    }
    let dir = tempfile::tempdir().unwrap();
    let pred_file = dir.path().join("pred.tsv");
    std::fs::write(&pred_file, pred).unwrap();
    let out = Command::new("python3")
        .arg(data.join("score.py"))
        .arg(data.join("labels.tsv"))
        .arg(&pred_file)
        .output()
        .expect("python3 runs the dev set's scorer");
    let report = String::from_utf8_lossy(&out.stdout);
    let line = report.lines().last().unwrap_or_default().to_string();
    eprintln!("neardup-dev: {line}");
    let value = |key: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {report}"))
    };
    assert!(value("P=") >= PRECISION_FLOOR, "{line}");
    assert!(value("R=") >= RECALL_FLOOR, "{line}");
}
