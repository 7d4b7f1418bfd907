//! Article extraction speed over the 181 pages of the article-extraction benchmark
//! (`$WIREFEED_DATA/aeb`, default ../shared/data), in-process: `cargo bench --bench extract`. `bench/extract-speed`
//! runs it beside Python trafilatura on the same pages and prints the ratio.

use std::io::Read;

use criterion::{Criterion, criterion_group, criterion_main};

fn pages() -> Vec<(String, String)> {
    let aeb = wirefeed::testdata::data_root().join("aeb");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(aeb.join("ground-truth.json")).unwrap())
            .unwrap();
    let mut out: Vec<(String, String)> = truth
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, v)| {
            let gz = std::fs::read(aeb.join("html").join(format!("{id}.html.gz"))).unwrap();
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut bytes)
                .unwrap();
            (
                wirefeed::parse::encoding::decode_html(&bytes, None),
                v["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let pages = pages();
    // Compile the rule sets before timing, as a running daemon has.
    let _ = wirefeed::clean::extract::extract(&pages[0].0, Some(&pages[0].1));
    let mut g = c.benchmark_group("aeb");
    g.sample_size(20);
    g.bench_function("extract_181_pages", |b| {
        b.iter(|| {
            for (html, url) in &pages {
                std::hint::black_box(wirefeed::clean::extract::extract(html, Some(url)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
