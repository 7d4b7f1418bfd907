//! `wirefeed backup FILE` against a running daemon: a consistent, complete copy, and never an
//! overwrite.

mod common;

use std::process::Command;

use common::Daemon;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_running_daemons_database_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let feed = common::fixture("feeds/rss20.xml");
    let config = common::write_config(
        dir.path(),
        port,
        &[("herald".to_string(), format!("file://{}", feed.display()))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = Daemon::start(&config, port);
    let db = dir.path().join("wirefeed.db");
    let count = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .and_then(|c| c.query_row("SELECT count(*) FROM entries", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    common::wait_for(30, "entries stored", || (count(&db) == 4).then_some(()));

    let copy = dir.path().join("copy.db");
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = rusqlite::Connection::open(&copy).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    assert_eq!(count(&copy), 4);
    let stories: i64 = c
        .query_row("SELECT count(*) FROM stories", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stories, 4);
    drop(c);

    // A second backup to the same file is refused and leaves the first intact.
    let before = std::fs::read(&copy).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the file exists"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    drop(daemon);
}
