//! Dedup + store scaling (bench/dedup-scaling drives it): the time to ingest a batch of
//! 1,000 new items into a store already holding N entries.
//!
//! For each N a fresh SQLite file is filled with N generated entries (news-like text from a
//! Zipf vocabulary, 3–8 paragraphs, 100 sources) through the real `save_fetch`, aged out of
//! the 7-day merge window as the daemon's upkeep would, then three batches of 1,000 new items
//! (a fifth of them edited copies of recent stories, so merging is exercised) are placed and
//! stored. Prints one JSON line per N.
//!
//! How the N entries are dated decides what the store looks like:
//! - `--per-day=D` (default 2000): a store that grew at D entries a day, as an install does;
//!   N entries span N/D days, and upkeep runs after every simulated day. The merge window
//!   then holds at most 7·D entries, whatever N is.
//! - `--over-days=X`: a stress case, N entries squeezed into the last X days, so the window
//!   grows with N.
//!
//!   cargo run --release --example dedup_scaling -- [--per-day=D | --over-days=X] 10000 100000 1000000

use std::time::Instant;

use chrono::{Duration, Utc};
use wirefeed::dedup::Dedup;
use wirefeed::model::{CleanEntry, FeedMeta, SourceState};
use wirefeed::store::{DedupStep, FetchLog, FetchSave, Store};

/// A small deterministic generator (xorshift), so every run sees the same text.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A Zipf-like word index: frequent words dominate, as in prose.
    fn word(&mut self, vocab: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((vocab as f64).powf(u) - 1.0) as usize
    }
}

fn vocabulary() -> Vec<String> {
    let syll = [
        "ka", "ro", "mi", "te", "lan", "sor", "vi", "del", "pa", "nu", "gre", "tho", "bel", "an",
        "is", "or", "ma", "ten", "ric", "do",
    ];
    let mut v = Vec::new();
    for a in syll {
        for b in syll {
            for c in ["", "s", "ed", "ing", "er"] {
                v.push(format!("{a}{b}{c}"));
            }
        }
    }
    v
}

fn story_text(rng: &mut Rng, vocab: &[String]) -> Vec<String> {
    (0..3 + rng.below(6))
        .map(|_| {
            let words: Vec<&str> = (0..30 + rng.below(31))
                .map(|_| vocab[rng.word(vocab.len())].as_str())
                .collect();
            format!("{}.", words.join(" "))
        })
        .collect()
}

fn entry(id: u64, paragraphs: &[String], at: chrono::DateTime<Utc>) -> CleanEntry {
    CleanEntry {
        guid: format!("g{id}"),
        link: Some(format!("https://outlet{}.example/news/{id}", id % 100)),
        title: paragraphs[0]
            .split(' ')
            .take(8)
            .collect::<Vec<_>>()
            .join(" "),
        content: Some(paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect()),
        published: Some(at),
        ..Default::default()
    }
}

fn fingerprint(e: &CleanEntry) -> wirefeed::dedup::Fingerprint {
    wirefeed::ingest::fingerprint_of(e)
}

fn save(store: &mut Store, engine: &Dedup, source: &str, entries: &[CleanEntry]) {
    let state = SourceState {
        url: format!("https://{source}.example/rss"),
        ..Default::default()
    };
    let meta = FeedMeta::default();
    let save = FetchSave {
        state: &state,
        log: FetchLog {
            started_at: Utc::now(),
            ..Default::default()
        },
        feed: Some((&meta, entries)),
        state_changed: true,
        learned: &[],
        rewrites: &[],
        pages: &[],
        dedup: &DedupStep {
            engine,
            fingerprint: &fingerprint,
            paragraphs: &wirefeed::clean::stored_blocks,
        },
    };
    store.save_fetch(source, &state.url, &save).expect("stored");
}

/// How the stored entries are spread in time.
#[derive(Clone, Copy, Debug)]
enum Spread {
    PerDay(u64),
    OverDays(u64),
}

fn main() -> anyhow::Result<()> {
    let mut spread = Spread::PerDay(2000);
    let mut sizes: Vec<u64> = Vec::new();
    for a in std::env::args().skip(1) {
        if let Some(d) = a.strip_prefix("--per-day=") {
            spread = Spread::PerDay(d.parse().expect("--per-day=ENTRIES"));
        } else if let Some(d) = a.strip_prefix("--over-days=") {
            spread = Spread::OverDays(d.parse().expect("--over-days=DAYS"));
        } else {
            sizes.push(a.parse().expect("entry counts"));
        }
    }
    let vocab = vocabulary();
    let engine = Dedup::new(Default::default());
    let now = Utc::now();
    for n in sizes {
        let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or("/tmp".into()))?;
        let db = dir.path().join("scale.db");
        let mut store = Store::open(&db)?;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n);
        let fill = Instant::now();
        let mut recent: Vec<Vec<String>> = Vec::new();
        let per_batch = 1000;
        let span_secs = match spread {
            Spread::PerDay(d) => n * 86_400 / d,
            Spread::OverDays(days) => days * 86_400,
        };
        let window = engine.config().window_secs;
        let mut expired_until = i64::MIN;
        for b in 0..n.div_ceil(per_batch) {
            let batch: Vec<CleanEntry> = (0..per_batch.min(n - b * per_batch))
                .map(|i| {
                    let id = b * per_batch + i;
                    // evenly over the span, oldest first
                    let at = now - Duration::seconds(((n - id) * span_secs / n) as i64);
                    let text = story_text(&mut rng, &vocab);
                    if id + 2000 > n {
                        recent.push(text.clone());
                    }
                    entry(id, &text, at)
                })
                .collect();
            save(&mut store, &engine, &format!("s{:03}", b % 100), &batch);
            // The daemon's upkeep, as it would have run by the time of this batch's items.
            let sim_now = batch
                .last()
                .and_then(|e| e.published)
                .map_or(0, |t| t.timestamp());
            let before = sim_now - window - 86_400;
            if before >= expired_until + 86_400 {
                while store.expire_fingerprints(&engine, before, 5000)? > 0 {}
                expired_until = before;
            }
        }
        let before = now.timestamp() - window - 86_400;
        while store.expire_fingerprints(&engine, before, 5000)? > 0 {}
        let fill_s = fill.elapsed().as_secs_f64();
        let postings = store.anchor_count()?;

        let mut times = Vec::new();
        let mut merged = 0;
        for round in 0..3u64 {
            let batch: Vec<Vec<CleanEntry>> = (0..10u64)
                .map(|src| {
                    (0..100u64)
                        .map(|i| {
                            let id = 10_000_000 * (round + 1) + src * 1000 + i;
                            let text = if i % 5 == 0 {
                                // an edited copy of a recent story: tail dropped, a line added
                                let mut t = recent[rng.below(recent.len() as u64) as usize].clone();
                                t.truncate(t.len().max(2) - 1);
                                t.push("Via the wire service.".into());
                                t
                            } else {
                                story_text(&mut rng, &vocab)
                            };
                            entry(id, &text, now)
                        })
                        .collect()
                })
                .collect();
            let t = Instant::now();
            for (src, entries) in batch.iter().enumerate() {
                save(&mut store, &engine, &format!("new{src}"), entries);
            }
            times.push(t.elapsed().as_secs_f64());
            merged = store.entry_count(None)? - store.story_count()?;
        }
        times.sort_by(f64::total_cmp);
        drop(store);
        let bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum();
        let total = n + 3000;
        println!(
            "{}",
            serde_json::json!({
                "spread": format!("{spread:?}"),
                "stored": n,
                "fill_s": fill_s,
                "batch_1000_s": times,
                "batch_1000_median_s": times[1],
                "index_postings": postings,
                "db_bytes": bytes,
                "bytes_per_entry": bytes as f64 / total as f64,
                "merged_entries": merged,
            })
        );
    }
    Ok(())
}
