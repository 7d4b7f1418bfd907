//! One-thread CPU of what an ingest does to every entry before the store sees it (parse the
//! feed, split each body into blocks for learning, clean it, fingerprint it), over a folder
//! of feeds, in passes; prints the median pass. For A/B runs against another build:
//!
//!   cargo run --release --example clean_cpu -- ../shared/data/feeds 9
//!
//! `benches/clean.rs` measures the same with criterion.

use std::time::Instant;

use wirefeed::clean::{Cleaner, ParsedEntry};
use wirefeed::parse::{ParseLimits, parse_feed};

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: clean_cpu DIR [PASSES]"))?;
    let passes: usize = std::env::args().nth(2).map_or(Ok(5), |p| p.parse())?;
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            let n = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if p.is_dir() {
                stack.push(p)
            } else if !(n.ends_with(".serde.json")
                || n.starts_with("manifest.")
                || n == "README.md")
            {
                files.push(p)
            }
        }
    }
    files.sort();
    let docs: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let base = url::Url::parse("https://example.org/feed")?;
    let cleaner = Cleaner::default();
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..passes {
        let t = Instant::now();
        n = 0;
        for d in &docs {
            let Ok(feed) = parse_feed(d, None, Some(base.as_str()), ParseLimits::default()) else {
                continue;
            };
            for raw in &feed.entries {
                n += 1;
                let parsed = ParsedEntry::parse(raw);
                std::hint::black_box(parsed.block_texts().count());
                let clean = cleaner.clean_parsed(raw, &parsed, &base, &|_| false);
                std::hint::black_box(wirefeed::dedup::fingerprint(
                    &clean.entry.title,
                    &clean.blocks,
                ));
            }
        }
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "entries {n} median_pass_ms {:.1} min_ms {:.1}",
        times[times.len() / 2] * 1e3,
        times[0] * 1e3
    );
    Ok(())
}
