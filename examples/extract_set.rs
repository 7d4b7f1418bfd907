//! Extracts every page of a page set (`DIR/html/ID.html.gz` + `DIR/ground-truth.json`) in
//! process and prints `{"ID": "text"}`, for the set's scorer (`aeb_score.py --pred`):
//!
//!   cargo run --release --example extract_set -- ../shared/data/wcxb-dev > pred.json
//!   python3 ../shared/tools/aeb_score.py --data ../shared/data/wcxb-dev --pred pred.json
//!
//! Faster than `--cmd` (one process, not one per page) when tuning the extractor.
//! `extract_set DIR ID` prints how one page was read (every block and what became of it);
//! `extract_set DIR --blocks` prints that for every page, one JSON object a line.

use std::io::Read;

fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: extract_set DIR [ID | --blocks]"))?,
    );
    let mode = std::env::args().nth(2);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ground-truth.json"))?)?;
    let mut preds = serde_json::Map::new();
    for (id, page) in truth.as_object().into_iter().flatten() {
        if mode.as_ref().is_some_and(|m| m != id && m != "--blocks") {
            continue;
        }
        let gz = std::fs::read(dir.join("html").join(format!("{id}.html.gz")))?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut bytes)?;
        let html = wirefeed::parse::encoding::decode_html(&bytes, None);
        match mode.as_deref() {
            None => {
                let article = wirefeed::clean::extract::extract(&html, page["url"].as_str());
                preds.insert(id.clone(), serde_json::Value::String(article.text));
            }
            Some("--blocks") => {
                let (summary, blocks) = wirefeed::clean::extract::debug_blocks(&html);
                println!(
                    "{}",
                    serde_json::json!({"id": id, "summary": summary, "blocks": blocks})
                );
            }
            Some(_) => {
                let (summary, blocks) = wirefeed::clean::extract::debug_blocks(&html);
                println!("{summary}");
                for (text, verdict) in blocks {
                    let head: String = text.chars().take(100).collect();
                    println!("[{verdict}] {head}");
                }
            }
        }
    }
    if mode.is_none() {
        println!("{}", serde_json::to_string(&preds)?);
    }
    Ok(())
}
