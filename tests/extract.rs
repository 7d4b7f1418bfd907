//! Article extraction as users and the benchmark see it: the seed page through the real
//! binary, and the article-extraction benchmark (../shared/data/aeb) scored by its own scorer
//! with a quality floor at what was reached.

mod common;

use std::io::Read;
use std::process::Command;

/// F1 reached on the 181-page benchmark when this floor was set (0.980); a change that loses
/// quality fails here.
const AEB_F1_FLOOR: f64 = 0.979;

#[test]
fn the_seed_page_extracts_to_exactly_the_expected_text_and_metadata() {
    let seed = common::shared_data().join("seed");
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("extract")
        .arg(seed.join("page.html"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let norm = |s: &str| -> Vec<String> {
        s.split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect()
    };
    let expected = std::fs::read_to_string(seed.join("expected.txt")).unwrap();
    assert_eq!(norm(&String::from_utf8_lossy(&out.stdout)), norm(&expected));

    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["extract", "--json", "-"])
        .stdin(std::fs::File::open(seed.join("page.html")).unwrap())
        .output()
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(seed.join("expected.json")).unwrap())
            .unwrap();
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
fn aeb_quality_stays_above_the_floor() {
    let aeb = common::shared_data().join("aeb");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(aeb.join("ground-truth.json")).unwrap())
            .unwrap();
    let mut preds = serde_json::Map::new();
    for (id, page) in truth.as_object().unwrap() {
        let gz = std::fs::read(aeb.join("html").join(format!("{id}.html.gz"))).unwrap();
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
        .arg(common::shared_data().join("../tools/aeb_score.py"))
        .arg("--pred")
        .arg(&pred_file)
        .output()
        .expect("python3 runs the benchmark's scorer");
    let report = String::from_utf8_lossy(&out.stdout);
    let line = report.lines().last().unwrap_or_default();
    let f1: f64 = line
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("F1="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no F1 in scorer output: {report}"));
    eprintln!("AEB: {line}");
    assert!(
        f1 >= AEB_F1_FLOOR,
        "AEB F1 {f1} fell below {AEB_F1_FLOOR}: {line}"
    );
}
