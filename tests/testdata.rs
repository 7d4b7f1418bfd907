//! The two tiers of the suite behave as the README says: a real-data suite whose data is
//! absent prints one line naming what it skipped and passes; with `WIREFEED_REQUIRE_DATA=1`
//! it fails instead. Checked by running this test binary again, as a child, on a data
//! folder that does not exist.

use std::process::Command;

/// The child's body: a real-data suite like the others.
#[test]
fn probe_suite_reads_real_data() {
    if std::env::var_os("WIREFEED_PROBE").is_none() {
        return; // only meaningful as the child of the tests below
    }
    let Some(dir) = wirefeed::testdata::real_data("probe", "aeb") else {
        return;
    };
    assert!(dir.exists());
}

fn run_probe(require: Option<&str>, log: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "probe_suite_reads_real_data", "--nocapture"])
        .env("WIREFEED_PROBE", "1")
        .env("WIREFEED_DATA", "/nonexistent/wirefeed-data")
        .env("WIREFEED_SUITE_LOG", log)
        .env_remove("WIREFEED_REQUIRE_DATA");
    if let Some(v) = require {
        cmd.env("WIREFEED_REQUIRE_DATA", v);
    }
    cmd.output().unwrap()
}

#[test]
fn absent_data_is_skipped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("suites.log");
    let out = run_probe(None, &log);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped real-data suite probe: /nonexistent/wirefeed-data/aeb is absent"),
        "{stderr}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.starts_with("skipped\tprobe\t"), "{logged}");
}

#[test]
fn absent_data_fails_when_required() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("suites.log");
    let out = run_probe(Some("1"), &log);
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("WIREFEED_REQUIRE_DATA=1 requires it"), "{all}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.starts_with("failed\tprobe\t"), "{logged}");
    // "0" is not a requirement.
    assert!(run_probe(Some("0"), &log).status.success());
}
