//! The command line's small promises: an empty config is a warning, not silence; `extract`
//! refuses what is not an article; cron mistakes are told in the user's own terms; output
//! cut short by `| head` ends quietly.

mod common;

use std::process::{Command, Stdio};

fn wirefeed(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .env_remove("WIREFEED_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn check_warns_about_a_config_with_nothing_to_fetch_or_publish() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let out = wirefeed(&["--config", empty.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    let p = empty.display();
    assert!(
        err.contains(&format!("{p}:1:1: warning: no [[sources]]")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:1:1: warning: no [[feeds]]")),
        "{err}"
    );

    let no_feeds = dir.path().join("no-feeds.toml");
    std::fs::write(
        &no_feeds,
        "[[sources]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n",
    )
    .unwrap();
    let out = wirefeed(&["--config", no_feeds.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: no [[feeds]]"), "{err}");
    assert!(!err.contains("no [[sources]]"), "{err}");

    let complete = dir.path().join("ok.toml");
    std::fs::write(
        &complete,
        "[[sources]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n[[feeds]]\nname = \"all\"\n",
    )
    .unwrap();
    let out = wirefeed(&["--config", complete.to_str().unwrap(), "check"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn extract_exits_1_on_what_is_not_an_article() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("garbage.bin");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    std::fs::write(&binary, bytes).unwrap();
    let out = wirefeed(&["extract", binary.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("garbage.bin is not an HTML page (it is binary data)"),
        "{err}"
    );

    let empty_page = dir.path().join("menu.html");
    std::fs::write(
        &empty_page,
        "<!doctype html><html><body><nav><a href=\"/\">Home</a></nav></body></html>",
    )
    .unwrap();
    let out = wirefeed(&["extract", "--json", empty_page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no article text found in"), "{err}");

    // A real article still extracts, exit 0.
    let page = common::fixture("pages/agency-story.html");
    let out = wirefeed(&["extract", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stdout.is_empty());
}

#[test]
fn cron_errors_speak_of_the_users_field_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cron.toml");
    std::fs::write(&path, "[fetch]\nschedule = \"61 * * * *\"\n").unwrap();
    let out = wirefeed(&["--config", path.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "{}:2:12: invalid cron expression \"61 * * * *\": minute 61 is out of range (0-59)",
            path.display()
        )
    );
}

/// Runs a command whose reader has gone before it writes a byte, as `| head` leaves it.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .env_remove("WIREFEED_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn output_cut_short_by_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        "<rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid><title>One</title>\
         <link>https://example.org/1</link><description>Text.</description></item></channel></rss>",
    )
    .unwrap();
    let sources: Vec<(String, String)> = (0..300)
        .map(|i| (format!("s{i}"), format!("https://outlet{i}.example/rss")))
        .chain([("local".to_string(), format!("file://{}", feed.display()))])
        .collect();
    let config = common::write_config(dir.path(), 1, &sources, "[[feeds]]\nname = \"all\"\n");
    let c = config.to_str().unwrap();
    assert!(
        wirefeed(&["--config", c, "fetch", "--source", "local"])
            .status
            .success()
    );
    for args in [
        vec!["boilerplate", "--all"],
        vec!["opml", "export"],
        vec!["stories"],
        vec!["render", "all"],
        vec!["check"],
    ] {
        let mut full = vec!["--config", c];
        full.extend(&args);
        let out = with_closed_stdout(&full);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("Broken pipe") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}
