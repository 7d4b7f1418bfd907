//! CPU of cleaning hostile feed entries, each within `max_field` (1 MB): 100,000 nested
//! `<div>`s, 100,000 sibling paragraphs, 100,000 unclosed `<b>`s. Prints the median of five
//! cleanings of each. `bench/hostile-cost` runs it, with `extract` on a 50 MB page.
//!
//!   cargo run --release --example hostile_cost

use std::time::Instant;

use wirefeed::clean::Cleaner;
use wirefeed::model::RawEntry;

fn main() -> anyhow::Result<()> {
    let n = 100_000;
    let cases = [
        (
            "100,000 nested <div>s",
            format!("{}deep text{}", "<div>".repeat(n), "</div>".repeat(n)),
        ),
        ("100,000 sibling <p>s", "<p>word</p>".repeat(n)),
        ("100,000 unclosed <b>s", format!("{}text", "<b>".repeat(n))),
    ];
    let feed = url::Url::parse("https://example.org/feed")?;
    let cleaner = Cleaner::default();
    for (name, body) in cases {
        let raw = RawEntry {
            guid: "g".into(),
            title: "t".into(),
            content: Some(body.clone()),
            ..Default::default()
        };
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(cleaner.clean(&raw, &feed, &|_| false));
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name} ({} bytes): {:.1} ms (median of 5)",
            body.len(),
            times[2] * 1e3
        );
    }
    Ok(())
}
