//! The command line as users meet it: `check`, `fetch`, `render`, and `run` on the shipped
//! default config.

mod common;

use std::path::Path;
use std::process::Command;

fn wirefeed(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .env_remove("WIREFEED_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn check_reports_unknown_key_and_bad_cron_with_lines_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:8080\"\nlisten_port = 9\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/rss\"\nschedule = \"*/61 * * *\"\n",
    )
    .unwrap();
    let out = wirefeed(&["--config", path.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let p = path.display();
    assert!(
        err.contains(&format!("{p}:3:1: unknown key `server.listen_port`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{p}:8:12: invalid cron expression")),
        "{err}"
    );
}

#[test]
fn check_accepts_the_shipped_config() {
    let out = wirefeed(&["--config", "config/wirefeed.toml", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let out = wirefeed(&["--config", "/nonexistent/wirefeed.toml", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/wirefeed.toml"));
}

#[test]
fn fetch_reports_each_source_and_exits_0_even_when_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        "<rss version=\"2.0\"><channel><title>T</title><item><guid>1</guid><title>One</title><link>https://example.org/1</link></item></channel></rss>",
    )
    .unwrap();
    let sources = vec![
        ("good".to_string(), format!("file://{}", feed.display())),
        (
            "missing".to_string(),
            format!("file://{}/nope.xml", dir.path().display()),
        ),
        (
            "private".to_string(),
            "http://10.255.255.1/feed".to_string(),
        ),
    ];
    let config = common::write_config(dir.path(), 1, &sources, "[[feeds]]\nname = \"all\"\n");
    let c = config.to_str().unwrap();
    let out = wirefeed(&["--config", c, "fetch"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("good\tnew\tnew=1"), "{stdout}");
    assert!(
        lines[1].starts_with("missing\terror: ") && lines[1].contains("nope.xml"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("private\terror: refused"), "{stdout}");

    let again = wirefeed(&["--config", c, "fetch", "--source", "good"]);
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("good\tnot-modified"));

    let out = wirefeed(&["--config", c, "render", "all"]);
    assert_eq!(out.status.code(), Some(0));
    let atom = String::from_utf8_lossy(&out.stdout);
    assert!(atom.contains("<title>One</title>"), "{atom}");

    assert_eq!(
        wirefeed(&["--config", c, "render", "nope"]).status.code(),
        Some(2)
    );
    assert_eq!(
        wirefeed(&["--config", c, "fetch", "--source", "nope"])
            .status
            .code(),
        Some(2)
    );
}

/// Copies the shipped `config/` folder, moves it to a free port, drops its internet sources
/// (tests never leave loopback), and runs the daemon on it: it must serve the demo feed, and
/// SIGTERM must stop it with exit 0.
#[test]
fn run_on_the_shipped_config_serves_the_demo_feed_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_dir = dir.path().join("config");
    std::fs::create_dir_all(cfg_dir.join("demo")).unwrap();
    std::fs::copy(
        "config/demo/wire-sample.xml",
        cfg_dir.join("demo/wire-sample.xml"),
    )
    .unwrap();
    let port = common::free_port();
    let text = std::fs::read_to_string("config/wirefeed.toml")
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    let sources = doc["sources"].as_array_of_tables_mut().unwrap();
    sources.retain(|t| t["url"].as_str().unwrap().starts_with("file:"));
    assert_eq!(
        sources.len(),
        1,
        "the shipped config has one local demo source"
    );
    let text = doc.to_string();
    let config = cfg_dir.join("wirefeed.toml");
    std::fs::write(&config, text).unwrap();

    let mut daemon = common::Daemon::start(&config, port);
    let url = format!("{}/feeds/world.atom", daemon.base);
    let body = common::wait_for(30, "the demo feed", || {
        let out = Command::new("python3")
            .args(["-c", "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())", &url])
            .output()
            .ok()?;
        let body = String::from_utf8_lossy(&out.stdout).to_string();
        body.contains("<entry>").then_some(body)
    });
    assert!(
        body.contains("Harbour authority reopens northern port"),
        "{body}"
    );
    let status = daemon.stop();
    assert!(status.success(), "exit {status:?}\n{}", daemon.log());
    assert!(Path::new(&dir.path().join("wirefeed.db")).exists());
}
