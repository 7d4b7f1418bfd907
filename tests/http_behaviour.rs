//! HTTP details on both sides: what wirefeed sends to publishers (User-Agent, validators,
//! no environment proxies, no DNS way around the SSRF guard) and what its own server answers
//! (ETag and 304, Last-Modified and If-Modified-Since, HEAD, /healthz).

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::hostile::{Canary, rss};
use wirefeed::config::Config;
use wirefeed::ingest::Outcome;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

type Seen = Arc<Mutex<Vec<HeaderMap>>>;

/// Serves one feed with Last-Modified only (no ETag) and records request headers; a 304
/// carries a fresh ETag, to check validators are refreshed on 304.
async fn last_modified_server(seen: Seen) -> std::net::SocketAddr {
    async fn feed(State(seen): State<Seen>, headers: HeaderMap) -> Response {
        seen.lock().unwrap().push(headers.clone());
        let lm = "Tue, 02 Jan 2024 03:04:05 GMT";
        if headers
            .get(header::IF_MODIFIED_SINCE)
            .is_some_and(|v| v == lm)
        {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"fresh\"")]).into_response();
        }
        (
            [
                (header::LAST_MODIFIED, lm),
                (header::CONTENT_TYPE, "application/rss+xml"),
            ],
            rss(&[("a", "A")]),
        )
            .into_response()
    }
    let app = Router::new().route("/feed", get(feed)).with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_modified_round_trips_validators_refresh_on_304_and_the_user_agent_names_only_the_software()
 {
    let seen: Seen = Arc::default();
    let addr = last_modified_server(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(
        dir.path(),
        8080,
        &[("lm".into(), format!("http://{addr}/feed"))],
        "",
    );
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let runner = Runner::new(&config, Arc::new(Mutex::new(store))).unwrap();

    assert_eq!(
        runner.run_all(&config.sources).await[0].outcome,
        Outcome::New
    );
    assert_eq!(
        runner.run_all(&config.sources).await[0].outcome,
        Outcome::NotModified
    );
    assert_eq!(
        runner.run_all(&config.sources).await[0].outcome,
        Outcome::NotModified
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].get(header::IF_MODIFIED_SINCE), None);
    assert_eq!(
        seen[1].get(header::IF_MODIFIED_SINCE).unwrap(),
        "Tue, 02 Jan 2024 03:04:05 GMT"
    );
    assert_eq!(seen[1].get(header::IF_NONE_MATCH), None);
    // The ETag that came with the 304 is sent next time, with the kept Last-Modified.
    assert_eq!(seen[2].get(header::IF_NONE_MATCH).unwrap(), "\"fresh\"");
    assert_eq!(
        seen[2].get(header::IF_MODIFIED_SINCE).unwrap(),
        "Tue, 02 Jan 2024 03:04:05 GMT"
    );
    // The software, never this instance's address (which may be private).
    let ua = seen[0].get(header::USER_AGENT).unwrap().to_str().unwrap();
    assert_eq!(ua, concat!("wirefeed/", env!("CARGO_PKG_VERSION")));
    let accept = seen[0]
        .get(header::ACCEPT_ENCODING)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(accept.contains("gzip") && accept.contains("br"), "{accept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_from_the_environment_and_names_resolving_to_loopback_cannot_bypass_the_guard() {
    let proxy = Canary::start().await;
    // A canary on 127.0.0.1 too: "localhost" resolves there, and 127.0.0.1 is allowed as an
    // IP literal in the test config — but not under the name "localhost".
    let local = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local_port = local.local_addr().unwrap().port();
    let local_hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = local_hits.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = local.accept().await {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let sources = vec![
        (
            "via_proxy".to_string(),
            "http://metadata.internal.example/latest".to_string(),
        ),
        (
            "by_name".to_string(),
            format!("http://localhost:{local_port}/feed"),
        ),
    ];
    let path = common::write_config(dir.path(), 1, &sources, "");
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&path)
        .arg("fetch")
        .env("HTTP_PROXY", format!("http://{}", proxy.addr))
        .env("http_proxy", format!("http://{}", proxy.addr))
        .env("ALL_PROXY", format!("http://{}", proxy.addr))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        proxy.hits(),
        0,
        "the proxy from the environment was used: {stdout}"
    );
    assert_eq!(
        local_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "localhost was contacted: {stdout}"
    );
    let by_name = stdout.lines().find(|l| l.starts_with("by_name")).unwrap();
    assert!(by_name.contains("error: refused"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_server_answers_conditional_requests_head_and_healthz() {
    let server = common::FeedServer::start(HashMap::from([(
        "a.xml".to_string(),
        common::Served {
            body: rss(&[("a", "A")]).into(),
            content_type: "application/rss+xml".into(),
            ..Default::default()
        },
    )]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let path = common::write_config(
        dir.path(),
        port,
        &[("a".into(), server.url("a.xml"))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = common::Daemon::start(&path, port);
    let client = common::client();
    let url = format!("{}/feeds/all.atom", daemon.base);
    let first = loop {
        let r = client.get(&url).send().await.unwrap();
        let etag = r.headers().get(header::ETAG).cloned();
        let lm = r.headers().get(header::LAST_MODIFIED).cloned();
        let ct = r.headers().get(header::CONTENT_TYPE).cloned();
        let body = r.text().await.unwrap();
        if body.contains("<entry>") {
            break (etag.unwrap(), lm.unwrap(), ct.unwrap(), body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(first.2, "application/atom+xml; charset=utf-8");
    let etag = first.0.to_str().unwrap();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong ETag: {etag}"
    );
    let r = client
        .get(&url)
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers().get(header::ETAG).unwrap(), etag);
    let r = client
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, first.1.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = client
        .get(&url)
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get(header::ETAG).unwrap(), etag);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = client
        .get(format!("{}/healthz", daemon.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{}/feeds/nope.atom", daemon.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
