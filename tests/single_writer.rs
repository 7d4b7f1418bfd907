//! One writer per database, and what the daemon serves when the store changes under it: a
//! second `run` is refused (exit 2) and leaves the first one's pid file alone; a fetch by
//! another process is served by the daemon with a new ETag; a feed being re-rendered is
//! served whole, and no older than the debounce allows.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Daemon, FeedServer, Served};
use wirefeed::config::Config;

/// Distinct headlines, so that no two are merged as one story.
const HEADLINES: [&str; 8] = [
    "Harbour cranes idle after storm",
    "Museum reopens its northern wing",
    "Railway timetable changes in spring",
    "Farmers protest milk prices",
    "Court rejects appeal on bridge tolls",
    "Hospital opens emergency ward",
    "Election turnout reaches record",
    "Festival lineup announced",
];

fn rss(count: usize) -> Served {
    let items: String = HEADLINES[..count]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "<item><guid>s{i}</guid><title>{t}</title><link>http://outlet.example/{i}</link>\
                 <description>{t}: the full report.</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>Outlet</title><link>http://outlet.example/</link>\
             <description>d</description>{items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        etag: Some(format!("\"v{count}\"")),
        ..Default::default()
    }
}

/// A daemon on one source (`world`, fetched at start and then only once a year) and a feed
/// `all`; returns the daemon, the config's path and the loaded config.
async fn start(server: &FeedServer, dir: &Path) -> (Daemon, PathBuf, Config) {
    let port = common::free_port();
    let config = common::write_config(
        dir,
        port,
        &[],
        &format!(
            "[[sources]]\nname = \"world\"\nurl = \"{}\"\nschedule = \"0 0 1 1 *\"\n\n\
             [[feeds]]\nname = \"all\"\n",
            server.url("world.xml")
        ),
    );
    let loaded = Config::load(&config).unwrap();
    let daemon = Daemon::start(&config, port);
    (daemon, config, loaded)
}

/// One GET of the feed: (ETag, body).
async fn get(url: &str) -> Option<(String, Vec<u8>)> {
    let resp = common::client().get(url).send().await.ok()?;
    let etag = resp.headers().get("etag")?.to_str().ok()?.to_string();
    Some((etag, resp.bytes().await.ok()?.to_vec()))
}

fn titles(body: &[u8]) -> Vec<String> {
    feed_rs::parser::parse(body)
        .unwrap_or_else(|e| panic!("not a whole feed ({e}): {}", String::from_utf8_lossy(body)))
        .entries
        .iter()
        .filter_map(|e| e.title.as_ref().map(|t| t.content.clone()))
        .collect()
}

/// Polls the feed until it carries `title`; returns its ETag. Panics after `limit`.
async fn served_within(url: &str, title: &str, limit: Duration, log: &Daemon) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Some((etag, body)) = get(url).await
            && titles(&body).iter().any(|t| t == title)
        {
            return etag;
        }
        assert!(
            Instant::now() < deadline,
            "{title:?} not served within {limit:?}; log:\n{}",
            log.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the real binary to its end, killing it after 20 s (a second daemon that was not
/// refused would run for ever).
fn run_to_end(config: &Path, args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20));
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().unwrap();
    drop(watchdog);
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_is_refused_and_the_first_keeps_its_pid_file() {
    let server = FeedServer::start(HashMap::from([("world.xml".to_string(), rss(1))])).await;
    let dir = tempfile::tempdir().unwrap();
    let (daemon, config, loaded) = start(&server, dir.path()).await;
    let db = loaded.storage.database.clone();
    let pid_file = wirefeed::pidfile::path_for(&db);
    let first = daemon.child.id();
    common::wait_for(10, "the first daemon's pid file", || {
        (std::fs::read_to_string(&pid_file).ok()?.trim() == first.to_string()).then_some(())
    });

    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run_to_end(&c, &["run"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "another wirefeed (pid {first}) is running on {}",
            db.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        first.to_string(),
        "the refused run left the pid file alone"
    );
    assert!(wirefeed::pidfile::is_locked(&db));

    // The other commands still work beside the daemon.
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run_to_end(&c, &["fetch", "--source", "world"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run_to_end(&c, &["render", "all"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(HEADLINES[0]));

    // The first daemon still answers, and its stop frees the database.
    let health = common::client()
        .get(format!("{}/healthz", daemon.base))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let mut daemon = daemon;
    assert!(daemon.stop().success(), "{}", daemon.log());
    assert!(!pid_file.exists(), "a clean stop removes its own pid file");
    assert!(!wirefeed::pidfile::is_locked(&db));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_stored_by_other_processes_are_served_with_a_new_etag() {
    let server = FeedServer::start(HashMap::from([("world.xml".to_string(), rss(1))])).await;
    let dir = tempfile::tempdir().unwrap();
    let (daemon, config, loaded) = start(&server, dir.path()).await;
    let url = format!("{}/feeds/all.atom", daemon.base);
    let first = served_within(&url, HEADLINES[0], Duration::from_secs(10), &daemon).await;

    // `wirefeed fetch` beside the daemon.
    server.set("world.xml", rss(2));
    let c = config.clone();
    let out = tokio::task::spawn_blocking(move || run_to_end(&c, &["fetch", "--source", "world"]))
        .await
        .unwrap();
    assert!(
        text(&out.stdout).contains("world\tnew\tnew=1 "),
        "{}",
        text(&out.stdout)
    );
    let second = served_within(&url, HEADLINES[1], Duration::from_secs(2), &daemon).await;
    assert_ne!(first, second);

    // A process that stores without telling the daemon anything (this test, through the
    // library, as an older `fetch` or a script would): seen through the store alone.
    server.set("world.xml", rss(3));
    let store = wirefeed::store::Store::open(&loaded.storage.database).unwrap();
    let runner = wirefeed::runner::Runner::new(&loaded, Arc::new(Mutex::new(store))).unwrap();
    let reports = runner.run_all(&loaded.sources).await;
    assert_eq!(reports[0].counts.new, 1, "{}", reports[0]);
    drop(runner);
    let third = served_within(&url, HEADLINES[2], Duration::from_secs(2), &daemon).await;
    assert_ne!(second, third);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_being_rendered_again_is_served_whole_and_never_stale_past_the_debounce() {
    let server = FeedServer::start(HashMap::from([("world.xml".to_string(), rss(1))])).await;
    let dir = tempfile::tempdir().unwrap();
    let (daemon, _config, loaded) = start(&server, dir.path()).await;
    let url = format!("{}/feeds/all.atom", daemon.base);
    served_within(&url, HEADLINES[0], Duration::from_secs(10), &daemon).await;

    // Readers ask all along; every answer must be a whole feed, and one ETag one body.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (url, stop, seen) = (url.clone(), stop.clone(), seen.clone());
        readers.push(tokio::spawn(async move {
            let mut answers = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (etag, body) = get(&url).await.expect("the feed answers");
                assert!(!titles(&body).is_empty(), "a whole feed");
                let mut seen = seen.lock().unwrap();
                let known = seen.entry(etag.clone()).or_insert_with(|| body.clone());
                assert_eq!(*known, body, "one ETag, one body ({etag})");
                answers += 1;
            }
            answers
        }));
    }

    // Saves in quick succession, so that the debounce holds renderings back: each is served
    // within the debounce and a second's slack of being stored.
    let store = wirefeed::store::Store::open(&loaded.storage.database).unwrap();
    let runner = wirefeed::runner::Runner::new(&loaded, Arc::new(Mutex::new(store))).unwrap();
    let limit = wirefeed::publish::DEBOUNCE + Duration::from_secs(1);
    for n in 2..=HEADLINES.len() {
        server.set("world.xml", rss(n));
        let reports = runner.run_all(&loaded.sources).await;
        assert_eq!(reports[0].counts.new, 1, "{}", reports[0]);
        served_within(&url, HEADLINES[n - 1], limit, &daemon).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut answers = 0;
    for r in readers {
        answers += r.await.expect("a reader saw a broken answer");
    }
    assert!(answers > 0);
    assert!(
        seen.lock().unwrap().len() >= 2,
        "the readers saw the feed change"
    );
}
