//! Ingest throughput over a folder of feed files (bench/ingest-throughput drives it).
//!
//! Every file becomes a `file://` source; each round runs the real pipeline (`Runner`:
//! read, parse, clean, fingerprint, place into stories, store) into a fresh SQLite file and
//! is timed. Also times the stages alone on one thread (parse; parse + clean) so that the
//! report says where the time goes. Prints one JSON object.
//!
//!   cargo run --release --example ingest_throughput -- DIR [ROUNDS]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wirefeed::clean::Cleaner;
use wirefeed::config::Config;
use wirefeed::parse::{ParseLimits, parse_feed};
use wirefeed::runner::Runner;
use wirefeed::store::Store;

/// The allocator the `wirefeed` binary ships with (see `src/main.rs`), so that this measures
/// what users run.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable folder") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if !matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("README.md" | "manifest.json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::absolute(args.get(1).expect("usage: ingest_throughput DIR [ROUNDS]"))?;
    let rounds: usize = args.get(2).map_or(5, |r| r.parse().expect("a number"));
    let files = files(&dir);
    let work = tempfile::tempdir()?;
    let mut toml = String::from("[storage]\ndatabase = \"t.db\"\n[fetch]\nconcurrency = 64\n\n");
    for (i, f) in files.iter().enumerate() {
        toml.push_str(&format!(
            "[[sources]]\nname = \"s{i:04}\"\nurl = \"file://{}\"\n\n",
            f.display()
        ));
    }
    let config_path = work.path().join("wirefeed.toml");
    std::fs::write(&config_path, toml)?;
    let config = Config::load(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    // Stages alone, one thread, bytes already in memory.
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let base = url::Url::parse("https://example.org/feed").unwrap();
    let cleaner = Cleaner::default();
    let t = Instant::now();
    let mut parsed = Vec::new();
    for b in &bytes {
        if let Ok(p) = parse_feed(b, None, Some(base.as_str()), ParseLimits::default()) {
            parsed.push(p);
        }
    }
    let parse_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for p in &parsed {
        for e in &p.entries {
            std::hint::black_box(cleaner.clean(e, &base, &|_| false));
        }
    }
    let clean_s = t.elapsed().as_secs_f64();

    let mut times = Vec::new();
    let mut entries = 0;
    let mut stories = 0;
    let mut bytes_db = 0;
    for round in 0..rounds {
        let db = work.path().join("t.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let store = Store::open(&db)?;
        let runner = Runner::new(&config, Arc::new(Mutex::new(store)))?;
        let t = Instant::now();
        let reports = rt.block_on(runner.run_all(&config.sources));
        let secs = t.elapsed().as_secs_f64();
        let store = runner.writer().lock().unwrap();
        entries = store.entry_count(None)? as usize;
        stories = store.story_count()? as usize;
        drop(store);
        drop(runner);
        bytes_db = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum();
        let failed = reports.iter().filter(|r| r.counts.new == 0).count();
        if let Some(r) = reports.iter().find(|r| r.counts.new == 0) {
            eprintln!("e.g. {r}");
        }
        eprintln!(
            "round {round}: {secs:.3} s, {entries} entries, {stories} stories, {failed} sources without entries"
        );
        times.push(secs);
    }
    let total = median(times.clone());
    println!(
        "{}",
        serde_json::json!({
            "files": files.len(),
            "entries": entries,
            "stories": stories,
            "rounds": times,
            "median_s": total,
            "entries_per_s": entries as f64 / total,
            "parse_only_1thread_s": parse_s,
            "clean_only_1thread_s": clean_s,
            "db_bytes": bytes_db,
        })
    );
    Ok(())
}
