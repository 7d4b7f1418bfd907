//! Replays every input kept under `fuzz/regressions/TARGET/` through the same entry point its
//! fuzz target drives (`wirefeed::harness`): inputs that once crashed, hung or blew up a stage,
//! and hand-made hostile ones. A panic here is a regression.

use std::path::Path;
use std::time::{Duration, Instant};

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let started = Instant::now();
        run(&data);
        // Generous for a debug build on a busy machine; a hang shows as minutes.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{} took {:?}",
            path.display(),
            started.elapsed()
        );
        n += 1;
    }
    assert!(n > 0, "no regression inputs for {target}");
}

#[test]
fn feed_bytes_regressions() {
    replay("feed_bytes", wirefeed::harness::feed_bytes);
}

#[test]
fn html_page_regressions() {
    replay("html_page", wirefeed::harness::html_page);
}

#[test]
fn config_text_regressions() {
    replay("config_text", wirefeed::harness::config_text);
}

#[test]
fn http_request_regressions() {
    replay("http_request", wirefeed::harness::http_request);
}
