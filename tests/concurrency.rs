//! Politeness under load: the global and per-host limits hold, and one slow source never
//! holds up the others.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use wirefeed::config::Config;
use wirefeed::ingest::Outcome;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// A server that answers `/slow/{ms}/{n}` after `ms` milliseconds, counting requests in flight.
async fn start_on(ip: &str, counter: Arc<InFlight>) -> std::net::SocketAddr {
    async fn slow(
        State(c): State<Arc<InFlight>>,
        Path((ms, n)): Path<(u64, u32)>,
    ) -> impl IntoResponse {
        let now = c.now.fetch_add(1, Ordering::SeqCst) + 1;
        c.max.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        c.now.fetch_sub(1, Ordering::SeqCst);
        let body = format!(
            "<rss version=\"2.0\"><channel><title>t</title><item><guid>{n}</guid><title>Item {n}</title></item></channel></rss>"
        );
        ([(header::CONTENT_TYPE, "application/rss+xml")], body)
    }
    let app = Router::new()
        .route("/slow/{ms}/{n}", get(slow))
        .with_state(counter);
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0"))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn runner(dir: &std::path::Path, sources: &[(String, String)], extra: &str) -> (Config, Runner) {
    let path = common::write_config(dir, common::free_port(), sources, "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "allow_hosts = [\"127.0.0.1\"]",
        &format!("allow_private = true\n{extra}"),
    );
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let r = Runner::new(&config, Arc::new(Mutex::new(store))).unwrap();
    (config, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_limit_holds() {
    let c = Arc::new(InFlight::default());
    let addr = start_on("127.0.0.1", c.clone()).await;
    let sources: Vec<_> = (0..8)
        .map(|i| (format!("s{i}"), format!("http://{addr}/slow/150/{i}")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (config, r) = runner(dir.path(), &sources, "per_host = 2\nconcurrency = 8");
    let reports = r.run_all(&config.sources).await;
    assert!(reports.iter().all(|r| r.outcome == Outcome::New));
    assert_eq!(
        c.max.load(Ordering::SeqCst),
        2,
        "at most per_host requests to one host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_limit_holds_across_hosts() {
    let c = Arc::new(InFlight::default());
    let mut sources = Vec::new();
    for (i, ip) in [
        "127.0.0.1",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.6",
    ]
    .iter()
    .enumerate()
    {
        let addr = start_on(ip, c.clone()).await;
        sources.push((format!("h{i}"), format!("http://{addr}/slow/150/{i}")));
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, r) = runner(dir.path(), &sources, "per_host = 2\nconcurrency = 3");
    let reports = r.run_all(&config.sources).await;
    assert!(reports.iter().all(|r| r.outcome == Outcome::New));
    assert_eq!(
        c.max.load(Ordering::SeqCst),
        3,
        "at most `concurrency` requests overall"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_source_does_not_hold_up_the_others() {
    let c = Arc::new(InFlight::default());
    let slow_host = start_on("127.0.0.1", c.clone()).await;
    let fast_host = start_on("127.0.0.3", c.clone()).await;
    let mut sources = vec![(
        "slow".to_string(),
        format!("http://{slow_host}/slow/3000/0"),
    )];
    for i in 1..6 {
        sources.push((
            format!("fast{i}"),
            format!("http://{fast_host}/slow/10/{i}"),
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, r) = runner(dir.path(), &sources, "per_host = 2\nconcurrency = 2");
    let mut order = Vec::new();
    r.run_all_with(&config.sources, |rep| order.push(rep.source.clone()))
        .await;
    assert_eq!(
        order.last().map(String::as_str),
        Some("slow"),
        "finish order: {order:?}"
    );
}
