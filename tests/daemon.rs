//! The daemon as a child process: it fetches each source when its cron schedule says, picks up
//! changes, and applies a config reload (SIGHUP) without a restart.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Daemon, FeedServer, Served};

fn rss(titles: &[&str]) -> Served {
    let items: String = titles
        .iter()
        .enumerate()
        .map(|(i, t)| format!("<item><guid>g{i}</guid><title>{t}</title><link>http://example.org/{t}</link></item>"))
        .collect();
    Served {
        body: format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
            .into(),
        content_type: "application/rss+xml".into(),
        etag: Some(format!("\"{}\"", titles.join("|").len())),
        ..Default::default()
    }
}

/// A config with source `a` (the server's `a.xml`) polled every second (6-field cron, seconds
/// first) and one feed `all`; returns its path and text.
fn every_second_config(
    dir: &std::path::Path,
    port: u16,
    server: &FeedServer,
) -> (std::path::PathBuf, String) {
    let a = vec![("a".to_string(), server.url("a.xml"))];
    let config = common::write_config(dir, port, &a, "[[feeds]]\nname = \"all\"\n");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("*/15 * * * *", "* * * * * *");
    std::fs::write(&config, &text).unwrap();
    (config, text)
}

async fn feed_titles(url: &str) -> Vec<String> {
    let Ok(resp) = common::client().get(url).send().await else {
        return Vec::new();
    };
    let body = resp.bytes().await.unwrap_or_default();
    feed_rs::parser::parse(&body[..])
        .map(|f| {
            f.entries
                .iter()
                .map(|e| e.title.as_ref().unwrap().content.clone())
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_titles(
    url: &str,
    pred: impl Fn(&[String]) -> bool,
    what: &str,
    log: impl Fn() -> String,
) -> Vec<String> {
    for _ in 0..200 {
        let t = feed_titles(url).await;
        if pred(&t) {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}; log:\n{}", log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_refetched_on_schedule_and_reload_adds_sources() {
    let server = FeedServer::start(HashMap::from([
        ("a.xml".to_string(), rss(&["A1"])),
        ("b.xml".to_string(), rss(&["B1"])),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let (config, text) = every_second_config(dir.path(), port, &server);

    let mut daemon = Daemon::start(&config, port);
    let url = format!("{}/feeds/all.atom", daemon.base);
    wait_titles(&url, |t| t == ["A1"], "first fetch", || daemon.log()).await;

    // The schedule fires again: an unchanged feed is asked for conditionally (304) …
    common::wait_for(10, "a conditional refetch", || {
        (server.not_modified_responses("a.xml") > 0).then_some(())
    });
    assert_eq!(server.full_responses("a.xml"), 1);
    // … and a change is picked up.
    server.set("a.xml", rss(&["A1", "A2"]));
    let t = wait_titles(&url, |t| t.len() == 2, "scheduled refetch", || daemon.log()).await;
    assert!(t.contains(&"A2".to_string()));

    // Reload: add source b.
    let with_b = text.replace(
        "[[feeds]]",
        &format!(
            "[[sources]]\nname = \"b\"\nurl = \"{}\"\n\n[[feeds]]",
            server.url("b.xml")
        ),
    );
    std::fs::write(&config, with_b).unwrap();
    Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    wait_titles(
        &url,
        |t| t.contains(&"B1".to_string()),
        "reloaded source",
        || daemon.log(),
    )
    .await;

    // A broken file keeps the running config.
    std::fs::write(&config, "[server]\nlisten = 5\n").unwrap();
    Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    common::wait_for(10, "reload error in log", || {
        daemon.log().contains("config reload failed").then_some(())
    });
    // The log names the problem as file:line:col.
    let located = format!("{}:2:", config.display());
    assert!(
        daemon.log().contains(&located),
        "no {located} in:\n{}",
        daemon.log()
    );
    assert_eq!(feed_titles(&url).await.len(), 3);

    assert!(daemon.stop().success(), "{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_honours_the_publishers_max_age_and_fetches_nothing_early() {
    let mut feed = rss(&["A1"]);
    feed.cache_control = Some("max-age=3600".into());
    let server = FeedServer::start(HashMap::from([("a.xml".to_string(), feed)])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let (config, _) = every_second_config(dir.path(), port, &server);

    let mut daemon = Daemon::start(&config, port);
    let url = format!("{}/feeds/all.atom", daemon.base);
    wait_titles(&url, |t| t == ["A1"], "first fetch", || daemon.log()).await;
    assert!(daemon.stop().success());
    let conn = rusqlite::Connection::open(dir.path().join("wirefeed.db")).unwrap();
    let (next, last): (i64, i64) = conn
        .query_row(
            "SELECT next_run_at, last_fetch_at FROM sources WHERE name = 'a'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        next - last >= 3600,
        "next run {}s after the fetch",
        next - last
    );

    // Restarted with an every-second schedule, the daemon still waits out the hour.
    let mut daemon = Daemon::start(&config, port);
    wait_titles(
        &url,
        |t| t == ["A1"],
        "serving after restart",
        || daemon.log(),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        server
            .counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_fetch_hanging_exits_cleanly_within_ten_seconds() {
    let silent = common::hostile::silent_server().await;
    let server = FeedServer::start(HashMap::from([("a.xml".to_string(), rss(&["A1"]))])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[
            ("a".to_string(), server.url("a.xml")),
            ("hangs".to_string(), format!("http://{silent}/feed.xml")),
        ],
        "[[feeds]]\nname = \"all\"\n",
    );
    let mut daemon = Daemon::start(&config, port);
    let url = format!("{}/feeds/all.atom", daemon.base);
    wait_titles(&url, |t| t.len() == 1, "the good source", || daemon.log()).await;
    // By now the silent source's fetch is in flight (its timeout is 10 s).
    let started = std::time::Instant::now();
    let status = daemon.stop();
    let took = started.elapsed();
    assert!(status.success(), "exit {status:?}\n{}", daemon.log());
    assert!(
        took < std::time::Duration::from_secs(10),
        "stopping took {took:?}"
    );
    let db = rusqlite::Connection::open(dir.path().join("wirefeed.db")).unwrap();
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let entries: i64 = db
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 1);
}
