//! Where the test suites find their data, and what they do when it is absent.
//!
//! Two tiers. The project's own suite reads only what the project wrote, under
//! `tests/fixtures/` ([`fixture`]), and runs on any clone. The **real-data suites** (the
//! 492-feed corpus, the extraction benchmarks, the near-duplicate dev set, the seed page)
//! read third-party data that is never copied into the repository: it lives in
//! `$WIREFEED_DATA`, by default `../shared/data` beside the clone. [`real_data`] is their
//! only way in. Where the data is missing a suite prints one line saying what it skipped and
//! why, and passes; with `WIREFEED_REQUIRE_DATA=1` (as CI sets it) a missing folder fails the
//! suite instead, so the quality floors cannot be skipped by accident.
//!
//! Every decision is also appended to the file named by `$WIREFEED_SUITE_LOG`, which
//! `scripts/test` sets and summarises at the end of a run ("ran" / "skipped", per suite).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder of third-party data: `$WIREFEED_DATA`, else `../shared/data` beside the clone.
pub fn data_root() -> PathBuf {
    match std::env::var_os("WIREFEED_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

/// Whether absent data must fail the suite (`WIREFEED_REQUIRE_DATA=1`) rather than skip it.
pub fn data_required() -> bool {
    std::env::var("WIREFEED_REQUIRE_DATA").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A file or folder the project wrote itself, under `tests/fixtures/`: always present.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `rel` inside the real-data folder, for the suite named `suite` (e.g. `"aeb"`,
/// `"corpus"`). `None` means "skip": the data is absent and not required; the notice has
/// been printed. Panics, naming the path and the variable, when the data is absent and
/// `WIREFEED_REQUIRE_DATA=1`.
pub fn real_data(suite: &str, rel: &str) -> Option<PathBuf> {
    let root = data_root();
    let path = root.join(rel);
    if path.exists() {
        record(&format!("ran\t{suite}\t{}", path.display()));
        return Some(path);
    }
    let why = format!(
        "{} is absent (set WIREFEED_DATA to the folder holding {rel})",
        path.display()
    );
    if data_required() {
        record(&format!("failed\t{suite}\t{why}"));
        panic!("real-data suite {suite}: {why}, and WIREFEED_REQUIRE_DATA=1 requires it");
    }
    record(&format!("skipped\t{suite}\t{why}"));
    // Straight to the process's stderr: the test harness captures `eprintln!`, and this
    // notice must show even when the test passes.
    let _ = writeln!(
        std::io::stderr(),
        "wirefeed tests: skipped real-data suite {suite}: {why}"
    );
    None
}

/// Appends one line to `$WIREFEED_SUITE_LOG`, if set. Test processes run in parallel; each
/// line is one `write` in append mode, so lines do not interleave.
fn record(line: &str) {
    let Some(log) = std::env::var_os("WIREFEED_SUITE_LOG") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_live_in_the_repository() {
        assert!(fixture("pages/agency-story.html").is_file());
    }
}
