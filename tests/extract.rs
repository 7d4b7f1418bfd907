//! Article extraction as users and the benchmarks see it: the project's own agency-story page
//! and the real seed page through the real binary, and two page sets with ground truth (AEB,
//! 181 news pages; wcxb-dev, 709 modern article pages) scored by their own scorer, with a
//! quality floor at what was reached. The seed and the page sets are real data
//! (`$WIREFEED_DATA`): skipped where absent, required in CI.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

/// F1 reached on the 181-page AEB set when this floor was set (0.979); a change that loses
/// quality fails here.
const AEB_F1_FLOOR: f64 = 0.978;

/// F1 reached on the 709-page wcxb-dev set when this floor was set (0.946).
const WCXB_F1_FLOOR: f64 = 0.945;

/// Paragraphs with whitespace runs collapsed.
fn norm(s: &str) -> Vec<String> {
    s.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// `wirefeed extract` (text, then `--json` from stdin) on `page` must give `expected_txt` and
/// the metadata of `expected_json`.
fn extracts_exactly(page: &Path, expected_txt: &Path, expected_json: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("extract")
        .arg(page)
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = std::fs::read_to_string(expected_txt).unwrap();
    assert_eq!(norm(&String::from_utf8_lossy(&out.stdout)), norm(&expected));

    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["extract", "--json", "-"])
        .stdin(std::fs::File::open(page).unwrap())
        .output()
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(expected_json).unwrap()).unwrap();
    for key in [
        "title",
        "author",
        "published",
        "agency",
        "dateline",
        "byline",
    ] {
        assert_eq!(got[key], want[key], "{key}");
    }
    assert_eq!(norm(got["text"].as_str().unwrap()), norm(&expected));
}

#[test]
fn own_agency_story_page_extracts_to_exactly_the_expected_text_and_metadata() {
    let dir = common::fixture("pages");
    extracts_exactly(
        &dir.join("agency-story.html"),
        &dir.join("agency-story.expected.txt"),
        &dir.join("agency-story.expected.json"),
    );
}

#[test]
fn the_seed_page_extracts_to_exactly_the_expected_text_and_metadata() {
    let Some(seed) = common::real_data("seed", "seed") else {
        return;
    };
    extracts_exactly(
        &seed.join("page.html"),
        &seed.join("expected.txt"),
        &seed.join("expected.json"),
    );
}

/// Extracts every page of a page set (`html/ID.html.gz` + `ground-truth.json`) in process and
/// scores the result with the set's own scorer; returns its last line and F1.
fn score_page_set(suite: &str, set: &str) -> Option<(String, f64)> {
    let data = common::real_data(suite, set)?;
    let scorer = common::real_data(suite, "../tools/aeb_score.py")?;
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("ground-truth.json")).unwrap())
            .unwrap();
    let mut preds = serde_json::Map::new();
    for (id, page) in truth.as_object().unwrap() {
        let gz = std::fs::read(data.join("html").join(format!("{id}.html.gz"))).unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bytes)
            .unwrap();
        let html = wirefeed::parse::encoding::decode_html(&bytes, None);
        let article = wirefeed::clean::extract::extract(&html, page["url"].as_str());
        preds.insert(id.clone(), serde_json::Value::String(article.text));
    }
    let dir = tempfile::tempdir().unwrap();
    let pred_file = dir.path().join("pred.json");
    std::fs::write(&pred_file, serde_json::to_string(&preds).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(&scorer)
        .arg("--data")
        .arg(&data)
        .arg("--pred")
        .arg(&pred_file)
        .output()
        .expect("python3 runs the benchmark's scorer");
    let report = String::from_utf8_lossy(&out.stdout);
    let line = report.lines().last().unwrap_or_default().to_string();
    let f1: f64 = line
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("F1="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no F1 in scorer output: {report}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    eprintln!("{suite}: {line}");
    Some((line, f1))
}

#[test]
fn aeb_quality_stays_above_the_floor() {
    if let Some((line, f1)) = score_page_set("aeb", "aeb") {
        assert!(
            f1 >= AEB_F1_FLOOR,
            "AEB F1 {f1} fell below {AEB_F1_FLOOR}: {line}"
        );
    }
}

#[test]
fn wcxb_dev_quality_stays_above_the_floor() {
    if let Some((line, f1)) = score_page_set("wcxb-dev", "wcxb-dev") {
        assert!(
            f1 >= WCXB_F1_FLOOR,
            "wcxb-dev F1 {f1} fell below {WCXB_F1_FLOOR}: {line}"
        );
    }
}
