//! Parse + clean CPU per feed entry over the real-world corpus (`$WIREFEED_DATA/feeds`), on
//! one thread, bytes in memory: `cargo bench --bench clean`. Measures what an ingest spends
//! on the CPU for every document before the store sees it: parse the feed, then for every
//! entry split the body into blocks (for learning), clean it and fingerprint it. Before the
//! one-parse clean stage that was `blocks_of` + `clean_blocks` + `fingerprint_of`, each
//! parsing the body again.
//! BENCHMARKS.md records the figures, before and after the one-parse clean stage.

use criterion::{Criterion, criterion_group, criterion_main};

use wirefeed::clean::{Cleaner, ParsedEntry};
use wirefeed::parse::{ParseLimits, parse_feed};

fn corpus() -> Vec<Vec<u8>> {
    let root = wirefeed::testdata::data_root().join("feeds");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("the corpus folder ($WIREFEED_DATA/feeds)") {
            let p = e.expect("entry").path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if p.is_dir() {
                stack.push(p);
            } else if !(name.ends_with(".serde.json")
                || name.starts_with("manifest.")
                || name == "README.md")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = corpus();
    let base = url::Url::parse("https://example.org/feed").expect("literal");
    let cleaner = Cleaner::default();
    let entries: usize = docs
        .iter()
        .filter_map(|d| parse_feed(d, None, Some(base.as_str()), ParseLimits::default()).ok())
        .map(|p| p.entries.len())
        .sum();
    eprintln!("{} documents, {entries} entries", docs.len());
    let mut g = c.benchmark_group("corpus");
    g.sample_size(10);
    g.bench_function("parse_clean_fingerprint", |b| {
        b.iter(|| {
            for d in &docs {
                let Ok(feed) = parse_feed(d, None, Some(base.as_str()), ParseLimits::default())
                else {
                    continue;
                };
                for raw in &feed.entries {
                    let parsed = ParsedEntry::parse(raw);
                    std::hint::black_box(parsed.block_texts().count());
                    let clean = cleaner.clean_parsed(raw, &parsed, &base, &|_| false);
                    std::hint::black_box(wirefeed::dedup::fingerprint(
                        &clean.entry.title,
                        &clean.blocks,
                    ));
                }
            }
        })
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            for d in &docs {
                std::hint::black_box(
                    parse_feed(d, None, Some(base.as_str()), ParseLimits::default()).ok(),
                );
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
