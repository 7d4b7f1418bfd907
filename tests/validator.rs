//! What the daemon publishes passes the W3C Feed Validator with no error and no warning, in
//! Atom and RSS, for a broad sample of the real-world corpus (`$WIREFEED_DATA/feeds`: every
//! sixth file, about 80, plus the feeds known for mojibake, trackers and odd encodings) and
//! for the project's own fixtures. The validator is the one behind validator.w3.org/feed,
//! vendored unchanged in `$WIREFEED_DATA/../tools/feedvalidator`; scripts/test installs
//! what it needs (lxml, html5lib, rdflib).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Daemon, FeedServer, Served, corpus_file, fixture_file};

/// Corpus files that must be in the sample whatever the stride picks: UTF-8 read as
/// windows-1252 upstream ("isnâ€™t"), FeedBurner flare and beacons, a Matomo pixel,
/// undeclared Latin-1, a declared windows-1251 feed with twice-escaped references.
const MUST: &[&str] = &[
    "arminreiter__FeedReader/AtomTheVerge.xml",
    "arminreiter__FeedReader/Rss20Reuters.xml",
    "Ranchero-Software__NetNewsWire/3960.json",
    "rbren__rss-parser/uolNoticias.rss",
    "miniflux__v2/no_encoding_ISO-8859-1.xml",
    "miniflux__v2/encoding_WINDOWS-1251.xml",
    "feedjira__feedjira/TechCrunchFirstEntry.xml",
];

fn corpus_sample(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if !(name.ends_with(".serde.json")
                || name.starts_with("manifest.")
                || name == "README.md")
            {
                all.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    all.sort();
    let mut pick: Vec<String> = all.iter().step_by(6).cloned().collect();
    for m in MUST {
        if !pick.iter().any(|p| p == m) {
            pick.push((*m).to_string());
        }
    }
    pick
}

/// Serves `files`, runs the daemon with one feed per source (every entry) and one merged feed,
/// fetches every Atom and RSS document it publishes into `out`, and returns their paths and
/// the address they were served under.
async fn published(files: HashMap<String, Served>, out: &Path) -> (Vec<PathBuf>, String) {
    let mut names: Vec<String> = files.keys().cloned().collect();
    names.sort();
    let server = FeedServer::start(files).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let sources: Vec<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("s{i:03}"), server.url(&urlencode(f))))
        .collect();
    let mut feeds = String::from("[[feeds]]\nname = \"all\"\nlimit = 500\n\n");
    for (name, _) in &sources {
        feeds.push_str(&format!(
            "[[feeds]]\nname = \"f{name}\"\nsources = [\"{name}\"]\ndedup = false\nlimit = 500\n\n"
        ));
    }
    let config = common::write_config(dir.path(), port, &sources, &feeds);
    // One pass first, so that the daemon starts with every source stored.
    let fetched = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("fetch")
        .output()
        .unwrap();
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let daemon = Daemon::start(&config, port);
    let client = common::client();
    let mut paths = Vec::new();
    let feed_names =
        std::iter::once("all".to_string()).chain(sources.iter().map(|(n, _)| format!("f{n}")));
    for feed in feed_names {
        for ext in ["atom", "rss"] {
            let url = format!("{}/feeds/{feed}.{ext}", daemon.base);
            let resp = client.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            let body = resp.bytes().await.unwrap();
            let path = out.join(format!("{feed}.{ext}"));
            std::fs::write(&path, &body).unwrap();
            paths.push(path);
        }
    }
    let base = format!("{}/feeds/", daemon.base);
    drop(daemon);
    (paths, base)
}

fn urlencode(path: &str) -> String {
    path.replace(' ', "%20")
}

/// Runs the validator over `files`; returns every error and warning line.
fn validate(validator: &Path, base: &str, files: &[PathBuf]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_feeds.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(validator)
        .arg(base)
        .args(files)
        .output()
        .expect("python3 runs the validator");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("checked {} files", files.len())),
        "the validator did not run (scripts/test installs lxml, html5lib and rdflib): {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.contains("\tERROR\t") || l.contains("\tWARNING\t"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_finds_nothing_in_what_the_daemon_publishes() {
    let Some(validator) = common::real_data("validator", "../tools/feedvalidator") else {
        return;
    };
    let mut files: HashMap<String, Served> = HashMap::new();
    for f in std::fs::read_dir(common::fixture("feeds")).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().to_string();
        files.insert(format!("own/{name}"), fixture_file(&name));
    }
    let corpus = common::real_data("corpus", "feeds");
    if let Some(root) = &corpus {
        for f in corpus_sample(root) {
            files.insert(f.clone(), corpus_file(root, &f));
        }
        assert!(files.len() >= 60, "a broad sample: {}", files.len());
    }
    let out = tempfile::tempdir().unwrap();
    let (documents, base) = published(files, out.path()).await;
    let problems = validate(&validator, &base, &documents);
    assert!(
        problems.is_empty(),
        "{} of {} documents draw errors or warnings:\n{}",
        problems
            .iter()
            .map(|l| l.split('\t').next().unwrap_or(""))
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        documents.len(),
        problems.join("\n")
    );
}
