//! Following and unfollowing while the daemon runs: `add` by a feed's or a page's address,
//! `remove`, `refresh`, and a config saved by an editor (temporary file, then rename)
//! reloaded with no signal sent.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{Daemon, FeedServer, Served};

fn rss(title: &str, items: &[(&str, &str)]) -> Served {
    let items: String = items
        .iter()
        .map(|(guid, t)| {
            format!(
                "<item><guid>{guid}</guid><title>{t}</title><link>http://outlet.example/{guid}</link>\
                 <description>{t}, reported in full.</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>{title}</title><link>http://outlet.example/</link>\
             <description>d</description>{items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

fn html(body: &str) -> Served {
    Served {
        body: format!("<!doctype html><html><head><title>Outlet</title>{body}</head><body><p>Hello.</p></body></html>").into(),
        content_type: "text/html; charset=utf-8".into(),
        ..Default::default()
    }
}

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A config with no sources yet, allowed to fetch from the loopback feed server.
fn empty_config(dir: &Path, port: u16) -> std::path::PathBuf {
    common::write_config(
        dir,
        port,
        &[],
        "[[feeds]]\nname = \"all\"\ntitle = \"All\"\n",
    )
}

async fn outlets() -> FeedServer {
    FeedServer::start(HashMap::from([
        (
            "world.xml".to_string(),
            rss("Outlet World", &[("w1", "Ferry strike ends")]),
        ),
        (
            "sport.xml".to_string(),
            rss("Outlet Sport", &[("s1", "Regatta postponed")]),
        ),
        (
            "index.html".to_string(),
            html(
                "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"World\" href=\"/world.xml\">\
                 <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Sport\" href=\"sport.xml\">\
                 <link rel=\"stylesheet\" href=\"/style.css\">",
            ),
        ),
        ("plain.html".to_string(), html("")),
    ]))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_lists_a_pages_feeds_then_adds_the_one_picked() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let config = empty_config(dir.path(), common::free_port());
    let before = std::fs::read_to_string(&config).unwrap();
    let page = server.url("index.html");
    let (c, p) = (config.clone(), page.clone());
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &p]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains(&format!("1. {}", server.url("world.xml"))),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("2. {}", server.url("sport.xml"))),
        "{listed}"
    );
    assert!(listed.contains("Outlet Sport (RSS, 1 entry)"), "{listed}");
    assert!(text(&out.stderr).contains("--pick N"));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        before,
        "nothing added yet"
    );

    let (c, p) = (config.clone(), page.clone());
    let out = tokio::task::spawn_blocking(move || {
        run(
            &c,
            &[
                "add",
                &p,
                "--pick",
                "2",
                "--name",
                "sport",
                "--tags",
                "games,local",
            ],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("added sport: "),
        "{}",
        text(&out.stdout)
    );
    let cfg = wirefeed::config::Config::load(&config).unwrap();
    let s = cfg.source("sport").unwrap();
    assert_eq!(s.url.as_str(), server.url("sport.xml"));
    assert_eq!(s.tags, ["games", "local"]);
    // The rest of the file is as it was.
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .starts_with(&before)
    );

    let (c, p) = (config.clone(), page.clone());
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &p, "--pick", "3"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("offers feeds 1 to 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_takes_a_feed_url_as_it_is_and_refuses_a_page_without_feeds() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let config = empty_config(dir.path(), common::free_port());
    let (c, u) = (config.clone(), server.url("world.xml"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cfg = wirefeed::config::Config::load(&config).unwrap();
    assert_eq!(cfg.sources.len(), 1);
    assert_eq!(
        cfg.sources[0].name, "outlet-world",
        "named after the feed's title"
    );
    assert_eq!(cfg.sources[0].url.as_str(), server.url("world.xml"));

    // Adding it again changes nothing.
    let (c, u) = (config.clone(), server.url("world.xml"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("already configured as source \"outlet-world\""));

    let before = std::fs::read_to_string(&config).unwrap();
    let requests = server
        .counters
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    let (c, u) = (config.clone(), server.url("plain.html"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("no feed found at {}", server.url("plain.html"))),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    // The page, then the usual addresses, each once and no more than the cap.
    let asked = server
        .counters
        .requests
        .load(std::sync::atomic::Ordering::SeqCst)
        - requests;
    assert!(
        asked > 1 && asked <= 1 + wirefeed::discover::MAX_CANDIDATES,
        "{asked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_page_cannot_make_add_fetch_much_or_reach_private_addresses() {
    let links: String = (0..200)
        .map(|i| {
            format!("<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/f{i}.xml\">")
        })
        .collect();
    let server = FeedServer::start(HashMap::from([(
        "trap.html".to_string(),
        html(&format!(
            "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"http://10.255.255.1/feed\">{links}"
        )),
    )]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = empty_config(dir.path(), common::free_port());
    let (c, u) = (config.clone(), server.url("trap.html"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("no feed found"));
    let asked = server
        .counters
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        asked <= wirefeed::discover::MAX_CANDIDATES,
        "{asked} requests"
    );
}

/// Polls the feed until `want` says yes, for at most `secs` seconds.
async fn wait_feed(base: &str, secs: u64, what: &str, want: impl Fn(&[String]) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let body = common::client()
            .get(format!("{base}/feeds/all.atom"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let titles: Vec<String> = feed_rs::parser::parse(&body[..])
            .map(|f| {
                f.entries
                    .into_iter()
                    .filter_map(|e| e.title.map(|t| t.content))
                    .collect()
            })
            .unwrap_or_default();
        if want(&titles) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within {secs} s; the feed has {titles:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_reach_the_running_daemon() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("world".to_string(), server.url("world.xml"))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = Daemon::start(&config, port);
    wait_feed(&daemon.base, 10, "the first source", |t| t.len() == 1).await;

    let (c, u) = (config.clone(), server.url("sport.xml"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u, "--name", "sport"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("asked the running daemon"),
        "{}",
        text(&out.stdout)
    );
    wait_feed(&daemon.base, 5, "the added source's story", |t| {
        t.iter().any(|t| t == "Regatta postponed")
    })
    .await;

    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["remove", "sport"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_feed(&daemon.base, 5, "the removed source's story gone", |t| {
        t == ["Ferry strike ends"]
    })
    .await;
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["remove", "sport"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no source named \"sport\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_makes_the_running_daemon_fetch_a_source_now() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    // Fetched once at start, then not until next January.
    let config = common::write_config(
        dir.path(),
        port,
        &[],
        &format!(
            "[[sources]]\nname = \"world\"\nurl = \"{}\"\nschedule = \"0 0 1 1 *\"\n\n\
             [[feeds]]\nname = \"all\"\n",
            server.url("world.xml")
        ),
    );
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["refresh", "world"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no daemon yet");
    assert!(text(&out.stderr).contains("no daemon is running"));

    let daemon = Daemon::start(&config, port);
    wait_feed(&daemon.base, 10, "the first fetch", |t| t.len() == 1).await;
    server.set(
        "world.xml",
        rss(
            "Outlet World",
            &[("w2", "Lighthouse relit"), ("w1", "Ferry strike ends")],
        ),
    );
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["refresh", "world"]))
        .await
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("is fetching world now"), "{stdout}");
    assert!(stdout.contains("world\tnew\tnew=1 "), "{stdout}");
    wait_feed(&daemon.base, 5, "the refreshed story", |t| {
        t.iter().any(|t| t == "Lighthouse relit")
    })
    .await;

    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["refresh", "nope"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown source \"nope\" (known: world)"));
}

/// Saves `text` the way editors do: a temporary file in the same folder, renamed over.
fn save_like_an_editor(path: &Path, text: &str) {
    let tmp = path.with_file_name(".wirefeed.toml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_saved_through_a_rename_is_reloaded_without_a_signal() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("world".to_string(), server.url("world.xml"))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = Daemon::start(&config, port);
    wait_feed(&daemon.base, 10, "the first source", |t| t.len() == 1).await;

    let good = std::fs::read_to_string(&config).unwrap().replace(
        "[[feeds]]",
        &format!(
            "[[sources]]\nname = \"sport\"\nurl = \"{}\"\n\n[[feeds]]",
            server.url("sport.xml")
        ),
    );
    save_like_an_editor(&config, &good);
    wait_feed(
        &daemon.base,
        5,
        "the new source fetched and published",
        |t| t.iter().any(|t| t == "Regatta postponed"),
    )
    .await;

    // A broken save keeps the running config, and the log says where the problem is.
    save_like_an_editor(
        &config,
        &good.replace("name = \"sport\"", "name = \"sport\"\nbogus = 1"),
    );
    let log = common::wait_for(5, "the failed reload in the log", || {
        let log = daemon.log();
        log.contains("config reload failed").then_some(log)
    });
    let at = format!("{}:", config.display());
    let line = log
        .lines()
        .find(|l| l.contains("config reload failed"))
        .unwrap();
    assert!(
        line.contains(&at) && line.contains("unknown key `sources.1.bogus`"),
        "{line}"
    );
    wait_feed(&daemon.base, 2, "still serving both sources", |t| {
        t.len() == 2
    })
    .await;
    let status = common::client()
        .get(format!("{}/healthz", daemon.base))
        .send()
        .await
        .unwrap();
    assert!(status.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_run_beside_the_daemon_is_published_by_it_at_once() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[],
        &format!(
            "[[sources]]\nname = \"world\"\nurl = \"{}\"\nschedule = \"0 0 1 1 *\"\n\n\
             [[feeds]]\nname = \"all\"\n",
            server.url("world.xml")
        ),
    );
    let daemon = Daemon::start(&config, port);
    wait_feed(&daemon.base, 10, "the first fetch", |t| t.len() == 1).await;
    server.set(
        "world.xml",
        rss(
            "Outlet World",
            &[("w3", "Harbour reopens"), ("w1", "Ferry strike ends")],
        ),
    );
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run(&c, &["fetch", "--source", "world"]))
        .await
        .unwrap();
    assert!(
        text(&out.stdout).contains("world\tnew\tnew=1 "),
        "{}",
        text(&out.stdout)
    );
    wait_feed(&daemon.base, 5, "the story the other process stored", |t| {
        t.iter().any(|t| t == "Harbour reopens")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_add_starts_the_config_file() {
    let server = outlets().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("new/wirefeed.toml");
    // The loopback feed server needs the SSRF guard's permission, which a new file lacks:
    // the guard refuses, and nothing but the empty file is left behind.
    let (c, u) = (config.clone(), server.url("world.xml"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("created"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("cannot fetch"),
        "{}",
        text(&out.stderr)
    );
    let cfg = wirefeed::config::Config::load(&config).unwrap();
    assert!(cfg.sources.is_empty());
    std::fs::write(&config, "[fetch]\nallow_hosts = [\"127.0.0.1\"]\n").unwrap();
    let (c, u) = (config.clone(), server.url("world.xml"));
    let out = tokio::task::spawn_blocking(move || run(&c, &["add", &u]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cfg = wirefeed::config::Config::load(&config).unwrap();
    assert_eq!(cfg.sources[0].url.as_str(), server.url("world.xml"));
}
