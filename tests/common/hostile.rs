//! A hostile feed server on loopback: every way a publisher's server can misbehave, each at
//! its own path, plus a canary listener on another loopback address that must never be
//! contacted (SSRF and XXE targets point at it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

/// Counts connections to an address nobody should reach.
pub struct Canary {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
}

impl Canary {
    /// Listens on 127.0.0.2 (loopback, but not in the tests' `allow_hosts`).
    pub async fn start() -> Canary {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                drop(sock);
            }
        });
        Canary { addr, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Accepts connections and never answers.
pub async fn silent_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    addr
}

#[derive(Clone)]
struct HostileState {
    canary: SocketAddr,
    etag_counter: Arc<AtomicUsize>,
    gzip_bomb: Bytes,
}

pub fn rss(items: &[(&str, &str)]) -> String {
    let body: String = items
        .iter()
        .map(|(guid, title)| {
            format!("<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link><description>Text of {guid}.</description></item>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Feed</title><link>https://example.org/</link>{body}</channel></rss>"
    )
}

fn xml(body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/rss+xml")], body.into()).into_response()
}

/// The routes: `/control`, `/trickle`, `/gzip-bomb`, `/oversize-length`, `/oversize-chunked`,
/// `/loop-a`, `/to-private`, `/429`, `/503`, `/304`, `/changing-etag`, `/billion-laughs`,
/// `/xxe`, `/huge`, `/invalid-utf8`, `/html`, `/moved` (301 → `/control`), `/temp` (302 →
/// `/control`), `/500`.
pub async fn start(canary: SocketAddr) -> SocketAddr {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..256 {
        std::io::Write::write_all(&mut enc, &zeros).unwrap();
    }
    let state = HostileState {
        canary,
        etag_counter: Arc::new(AtomicUsize::new(0)),
        gzip_bomb: Bytes::from(enc.finish().unwrap()),
    };
    let app = Router::new()
        .route("/control", get(|| async { xml(rss(&[("c1", "Control one"), ("c2", "Control two")])) }))
        .route("/trickle", get(trickle))
        .route("/gzip-bomb", get(gzip_bomb))
        .route("/oversize-length", get(|| async { xml(vec![b' '; 20 << 20]) }))
        .route("/oversize-chunked", get(oversize_chunked))
        .route("/loop-a", get(|| async { redirect(StatusCode::FOUND, "/loop-b") }))
        .route("/loop-b", get(|| async { redirect(StatusCode::FOUND, "/loop-a") }))
        .route("/to-private", get(to_private))
        .route("/429", get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "120")]).into_response() }))
        .route("/503", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "Wed, 21 Oct 2099 07:28:00 GMT")]).into_response() }))
        .route("/500", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/304", get(not_modified))
        .route("/changing-etag", get(changing_etag))
        .route("/billion-laughs", get(|| async { xml(billion_laughs()) }))
        .route("/xxe", get(xxe))
        .route("/huge", get(|| async { xml(huge_feed(100_000)) }))
        .route("/invalid-utf8", get(|| async { xml(invalid_utf8()) }))
        .route("/html", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<!DOCTYPE html><html><head><title>Not a feed</title></head><body><p>Hello</p></body></html>").into_response() }))
        .route("/moved", get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/control") }))
        .route("/temp", get(|| async { redirect(StatusCode::FOUND, "/control") }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn redirect(status: StatusCode, to: &str) -> Response {
    (status, [(header::LOCATION, to.to_string())]).into_response()
}

async fn to_private(State(s): State<HostileState>) -> Response {
    redirect(StatusCode::FOUND, &format!("http://{}/feed", s.canary))
}

async fn trickle() -> Response {
    let stream = futures_util::stream::unfold(0u32, |n| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let chunk = if n == 0 {
            Bytes::from_static(b"<rss version=\"2.0\"><channel>")
        } else {
            Bytes::from_static(b" ")
        };
        Some((Ok::<_, std::io::Error>(chunk), n + 1))
    });
    xml(Body::from_stream(stream))
}

async fn gzip_bomb(State(s): State<HostileState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        s.gzip_bomb.clone(),
    )
        .into_response()
}

async fn oversize_chunked() -> Response {
    let chunk = Bytes::from(vec![b' '; 64 << 10]);
    let stream =
        futures_util::stream::iter((0..640).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    xml(Body::from_stream(stream))
}

async fn not_modified(headers: HeaderMap) -> Response {
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v == "\"v1\"")
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response();
    }
    (
        [
            (header::ETAG, "\"v1\""),
            (header::CONTENT_TYPE, "application/rss+xml"),
        ],
        rss(&[("n1", "Not modified one")]),
    )
        .into_response()
}

async fn changing_etag(State(s): State<HostileState>) -> Response {
    let n = s.etag_counter.fetch_add(1, Ordering::SeqCst);
    let etag = format!("\"e{n}\"");
    (
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/rss+xml".to_string()),
        ],
        rss(&[("e1", "Same content")]),
    )
        .into_response()
}

pub fn billion_laughs() -> String {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title><item><guid>b1</guid><title>&lol9;</title><description>&lol9;</description></item></channel></rss>");
    doc
}

async fn xxe(State(s): State<HostileState>) -> Response {
    xml(format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM \"http://{}/xxe\">\n<!ENTITY file SYSTEM \"file:///etc/passwd\">\n]>\n<rss version=\"2.0\"><channel><title>XXE</title><item><guid>x1</guid><title>Entity: &xxe;</title><description>&file;</description></item></channel></rss>",
        s.canary
    ))
}

pub fn huge_feed(n: usize) -> String {
    let mut doc = String::with_capacity(n * 120);
    doc.push_str("<rss version=\"2.0\"><channel><title>Huge</title>");
    for i in 0..n {
        doc.push_str(&format!("<item><guid>h{i}</guid><title>Item {i}</title><link>https://example.org/h/{i}</link></item>"));
    }
    doc.push_str("</channel></rss>");
    doc
}

fn invalid_utf8() -> Vec<u8> {
    let mut v = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>Bad bytes</title><item><guid>u1</guid><title>caf".to_vec();
    v.extend_from_slice(&[0xE9, 0xFF]);
    v.extend_from_slice(b" ok</title></item></channel></rss>");
    v
}
