//! A hostile server: every misbehaviour fails cleanly as that source's error, nothing reaches
//! the canary, backoff and Retry-After land in the stored next-run times (a manual clock, no
//! sleeping), and the daemon survives all of it at once with bounded memory.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::hostile::{self, Canary};
use common::{FeedServer, Served};
use wirefeed::config::Config;
use wirefeed::ingest::{Outcome, SourceReport};
use wirefeed::runner::Runner;
use wirefeed::schedule::ManualClock;
use wirefeed::store::Store;

const CASES: &[&str] = &[
    "control",
    "trickle",
    "gzip-bomb",
    "oversize-length",
    "oversize-chunked",
    "loop-a",
    "to-private",
    "429",
    "503",
    "500",
    "304",
    "changing-etag",
    "billion-laughs",
    "xxe",
    "huge",
    "invalid-utf8",
    "html",
];

/// One source per hostile case, plus one on a server that never answers.
async fn hostile_sources(server: std::net::SocketAddr) -> Vec<(String, String)> {
    let silent = hostile::silent_server().await;
    let mut sources: Vec<(String, String)> = CASES
        .iter()
        .map(|c| (c.replace('-', "_"), format!("http://{server}/{c}")))
        .collect();
    sources.push(("silent".into(), format!("http://{silent}/feed")));
    sources
}

/// Two hours before the 503's Retry-After date.
fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2099, 10, 21, 5, 28, 0).unwrap()
}

struct Setup {
    config: Config,
    runner: Runner,
    clock: Arc<ManualClock>,
    canary: Canary,
    _dir: tempfile::TempDir,
}

async fn setup(sources: Vec<(String, String)>, schedule: &str) -> Setup {
    let canary = Canary::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(dir.path(), common::free_port(), &sources, "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("*/15 * * * *", schedule)
        .replace(
            "timeout = \"10s\"",
            "timeout = \"2s\"\nmax_body = \"16MiB\"\nmax_entries = 1000",
        );
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let clock = Arc::new(ManualClock::new(start_time()));
    let runner = Runner::new(&config, Arc::new(Mutex::new(store)))
        .unwrap()
        .with_clock(clock.clone());
    Setup {
        config,
        runner,
        clock,
        canary,
        _dir: dir,
    }
}

fn by_name(reports: Vec<SourceReport>) -> HashMap<String, SourceReport> {
    reports.into_iter().map(|r| (r.source.clone(), r)).collect()
}

fn error_of(r: &SourceReport) -> String {
    match &r.outcome {
        Outcome::Error(e) => e.to_string(),
        o => panic!("{}: expected an error, got {o:?}", r.source),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_case_fails_cleanly_as_that_source_and_nothing_reaches_the_canary() {
    let canary_for_server = Canary::start().await;
    let server = hostile::start(canary_for_server.addr).await;
    let sources = hostile_sources(server).await;
    // Every second, so cron alignment adds at most a second to the expected next runs.
    let s = setup(sources, "* * * * * *").await;
    let now = s.clock.now_for_test();
    let r = by_name(s.runner.run_all(&s.config.sources).await);

    assert_eq!(r["control"].outcome, Outcome::New);
    assert_eq!(r["control"].counts.new, 2);
    assert!(
        error_of(&r["silent"]).contains("timed out"),
        "{}",
        r["silent"]
    );
    assert!(
        error_of(&r["trickle"]).contains("timed out"),
        "{}",
        r["trickle"]
    );
    for big in ["gzip_bomb", "oversize_length", "oversize_chunked"] {
        assert!(error_of(&r[big]).contains("larger than"), "{}", r[big]);
    }
    assert!(
        error_of(&r["loop_a"]).contains("redirect loop"),
        "{}",
        r["loop_a"]
    );
    assert!(
        error_of(&r["to_private"]).contains("refused"),
        "{}",
        r["to_private"]
    );
    assert_eq!(
        canary_for_server.hits(),
        0,
        "the private redirect target was contacted"
    );
    assert!(error_of(&r["429"]).contains("429"));
    assert!(error_of(&r["503"]).contains("503"));
    assert!(error_of(&r["html"]).contains("not a feed"), "{}", r["html"]);
    assert_eq!(r["304"].outcome, Outcome::New);
    assert_eq!(r["changing_etag"].outcome, Outcome::New);
    assert_eq!(
        r["huge"].counts.new, 1000,
        "entries beyond max_entries are ignored"
    );
    assert_eq!(r["invalid_utf8"].outcome, Outcome::New);

    // Retry-After, both forms, from the stored next-run times.
    let store = Store::open_reader(&s.config.storage.database).unwrap();
    let next = |n: &str| store.source_state(n).unwrap().unwrap().next_run_at.unwrap();
    let secs = |n: &str| (next(n) - now).num_seconds();
    assert!(
        (120..=121).contains(&secs("429")),
        "429 next run in {}s",
        secs("429")
    );
    assert!(
        (7200..=7201).contains(&secs("503")),
        "503 next run in {}s",
        secs("503")
    );
    // Plain failures back off from one minute.
    assert!(
        (60..=74).contains(&secs("500")),
        "500 next run in {}s",
        secs("500")
    );
    assert!(
        (60..=74).contains(&secs("html")),
        "html next run in {}s",
        secs("html")
    );

    // XML attacks: no entity expanded, nothing fetched.
    let titles = entry_titles(&s.config);
    let laughs = &titles["billion_laughs"];
    assert!(laughs.iter().all(|t| t.len() < 64), "{laughs:?}");
    let xxe = &titles["xxe"];
    assert!(xxe.iter().all(|t| !t.contains("root:")), "{xxe:?}");
    assert_eq!(
        canary_for_server.hits(),
        0,
        "an external entity was fetched"
    );
    assert_eq!(s.canary.hits(), 0);
    // A byte that is not UTF-8 costs nothing: it is read as windows-1252.
    assert_eq!(
        titles["invalid_utf8"][0], "caf\u{e9}\u{ff} ok",
        "{:?}",
        titles["invalid_utf8"]
    );

    // A second pass: 304 and a changed ETag over the same content write no entry.
    s.clock.advance(Duration::from_secs(3600));
    let ok: Vec<_> = s
        .config
        .sources
        .iter()
        .filter(|x| x.name == "304" || x.name == "changing_etag")
        .cloned()
        .collect();
    let r2 = by_name(s.runner.run_all(&ok).await);
    assert_eq!(r2["304"].outcome, Outcome::NotModified);
    assert_eq!(r2["changing_etag"].outcome, Outcome::Unchanged);
}

fn entry_titles(config: &Config) -> HashMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(&config.storage.database).unwrap();
    let mut stmt = conn
        .prepare("SELECT s.name, e.title FROM entries e JOIN sources s ON s.id = e.source_id")
        .unwrap();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (s, t) = row.unwrap();
        out.entry(s).or_default().push(t);
    }
    out
}

trait NowForTest {
    fn now_for_test(&self) -> DateTime<Utc>;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> DateTime<Utc> {
        wirefeed::schedule::Clock::now(self)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_grows_to_the_cap_and_the_first_success_resets_it() {
    let server = FeedServer::start(HashMap::new()).await;
    let s = setup(
        vec![("flaky".into(), server.url("feed.xml"))],
        "* * * * * *",
    )
    .await;
    let store = || Store::open_reader(&s.config.storage.database).unwrap();
    let mut delays = Vec::new();
    for _ in 0..14 {
        let now = s.clock.now_for_test();
        let r = s.runner.run_all(&s.config.sources).await;
        assert!(matches!(r[0].outcome, Outcome::Error(_)));
        let st = store().source_state("flaky").unwrap().unwrap();
        let delay = (st.next_run_at.unwrap() - now).num_seconds();
        delays.push(delay);
        s.clock.set(st.next_run_at.unwrap());
    }
    let st = store().source_state("flaky").unwrap().unwrap();
    assert_eq!(st.consecutive_errors, 14);
    assert!(st.last_error.as_deref().unwrap().contains("404"));
    for w in delays.windows(2) {
        assert!(w[1] >= w[0], "{delays:?}");
    }
    assert!(delays[0] >= 60 && delays[0] <= 74, "{delays:?}");
    assert_eq!(
        *delays.last().unwrap(),
        24 * 3600,
        "capped at 24 h: {delays:?}"
    );

    // The publisher fixes the feed: one success resets everything.
    server.set(
        "feed.xml",
        Served {
            body: hostile::rss(&[("a", "Back")]).into(),
            content_type: "application/rss+xml".into(),
            etag: None,
            ..Default::default()
        },
    );
    let now = s.clock.now_for_test();
    let r = s.runner.run_all(&s.config.sources).await;
    assert_eq!(r[0].outcome, Outcome::New);
    let st = store().source_state("flaky").unwrap().unwrap();
    assert_eq!((st.consecutive_errors, st.last_error.clone()), (0, None));
    assert!((st.next_run_at.unwrap() - now).num_seconds() <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_redirects_move_the_source_after_three_fetches_temporary_ones_never() {
    let canary = Canary::start().await;
    let server = hostile::start(canary.addr).await;
    let sources = vec![
        ("moved".to_string(), format!("http://{server}/moved")),
        ("temp".to_string(), format!("http://{server}/temp")),
    ];
    let s = setup(sources, "* * * * * *").await;
    let control = format!("http://{server}/control");
    let store = || Store::open_reader(&s.config.storage.database).unwrap();
    for round in 1..=4 {
        let r = by_name(s.runner.run_all(&s.config.sources).await);
        let moved = store().source_state("moved").unwrap().unwrap();
        if round < 3 {
            assert_eq!(moved.fetch_url, None, "round {round}");
            assert_eq!(r["moved"].moved_to, None);
        }
        if round == 3 {
            assert_eq!(r["moved"].moved_to.as_deref(), Some(control.as_str()));
        }
        if round >= 3 {
            assert_eq!(
                moved.fetch_url.as_deref(),
                Some(control.as_str()),
                "round {round}"
            );
        }
        assert_eq!(
            store().source_state("temp").unwrap().unwrap().fetch_url,
            None
        );
        s.clock.advance(Duration::from_secs(3600));
    }
}

/// Peak resident memory of a process, from /proc (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_survives_every_hostile_source_at_once_with_bounded_memory() {
    let canary = Canary::start().await;
    let server = hostile::start(canary.addr).await;
    let sources = hostile_sources(server).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let path = common::write_config(
        dir.path(),
        port,
        &sources,
        "[[feeds]]\nname = \"control\"\nsources = [\"control\"]\n",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("timeout = \"10s\"", "timeout = \"3s\"");
    std::fs::write(&path, text).unwrap();
    let mut daemon = common::Daemon::start(&path, port);

    let db = dir.path().join("wirefeed.db");
    common::wait_for(60, "every source to be tried", || {
        let conn = rusqlite::Connection::open(&db).ok()?;
        let pending: i64 = conn
            .query_row(
                "SELECT count(*) FROM sources WHERE last_fetch_at IS NULL",
                [],
                |r| r.get(0),
            )
            .ok()?;
        let total: i64 = conn
            .query_row("SELECT count(*) FROM sources", [], |r| r.get(0))
            .ok()?;
        (total as usize == sources.len() && pending == 0).then_some(())
    });
    let health = common::client()
        .get(format!("{}/healthz", daemon.base))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let body = common::client()
        .get(format!("{}/feeds/control.atom", daemon.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Control one") && body.contains("Control two"),
        "{body}"
    );
    assert_eq!(canary.hits(), 0);
    let peak = peak_rss_mib(daemon.child.id());
    eprintln!("daemon peak RSS through the hostile run: {peak:.1} MiB");
    assert!(peak < 200.0, "peak RSS {peak:.1} MiB");
    assert!(daemon.stop().success(), "{}", daemon.log());
}
