//! Private sources for tests: a loopback feed server that demands credentials (basic auth, a
//! header, a cookie) and records every request it gets, a plain forward proxy that counts
//! what it carries, and the real binary run as a command.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as AxPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The credentials the private server accepts.
pub const USER: &str = "reader";
pub const PASSWORD: &str = "pa55-w0rd-basic";
pub const API_KEY: &str = "header-k3y-0f-the-feed";
pub const SESSION: &str = "c00kie-session-value";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A feed server on 127.0.0.1 with one protected feed per way of authenticating:
/// - `/basic/feed`: `Authorization: Basic reader:PASSWORD`;
/// - `/header/feed`: `X-Api-Key: API_KEY`;
/// - `/cookie/feed`: a `Cookie` with `session=SESSION`;
/// - `/same/feed`: 302 to `/basic/feed` on this server;
/// - `/away/feed`: 302 to `redirect_to` (another server);
/// - `/open/feed` and anything else under `/open/`: no credentials needed.
///
/// Feeds name themselves (`rel="self"`) by the full address they were asked for, query and
/// all, and their items link back to this server with the request's query: a careless
/// private feed that repeats its key everywhere.
pub struct PrivateServer {
    pub addr: SocketAddr,
    pub log: Log,
}

#[derive(Clone)]
struct Ctx {
    log: Log,
    addr: SocketAddr,
    redirect_to: Option<String>,
}

impl PrivateServer {
    /// Starts the server; `/away/feed` redirects to `redirect_to`.
    pub async fn start(redirect_to: Option<String>) -> PrivateServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Log = Arc::default();
        let ctx = Ctx {
            log: log.clone(),
            addr,
            redirect_to,
        };
        let app = Router::new()
            .route("/{kind}/{*rest}", get(serve))
            .with_state(ctx);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        PrivateServer { addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// The requests seen for a path.
    pub fn requests(&self, path: &str) -> Vec<Seen> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }
}

fn authorised(kind: &str, h: &HeaderMap) -> bool {
    let get = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    match kind {
        "basic" => {
            use headers::HeaderMapExt;
            h.typed_get::<headers::Authorization<headers::authorization::Basic>>()
                .is_some_and(|a| a.username() == USER && a.password() == PASSWORD)
        }
        "header" => h.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(API_KEY),
        "cookie" => get(header::COOKIE).is_some_and(|c| {
            c.split(';')
                .any(|p| p.trim() == format!("session={SESSION}"))
        }),
        _ => true,
    }
}

async fn serve(
    State(ctx): State<Ctx>,
    AxPath((kind, rest)): AxPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/{kind}/{rest}");
    ctx.log.lock().unwrap().push(Seen {
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
    });
    match kind.as_str() {
        "same" => return redirect(&format!("/basic/{rest}")),
        "away" => {
            return redirect(ctx.redirect_to.as_deref().unwrap_or("/open/feed"));
        }
        _ => {}
    }
    if !authorised(&kind, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"feeds\"")],
            "no",
        )
            .into_response();
    }
    let q = query.map(|q| format!("?{q}")).unwrap_or_default();
    let me = format!("http://{}{path}{q}", ctx.addr);
    let mut items: Vec<(String, String, String)> = (1..=3)
        .map(|i| {
            (
                format!("{kind} story {i}: {rest}"),
                format!("http://{}/{kind}/item-{i}{q}", ctx.addr),
                format!("A paragraph of the {kind} story number {i}, long enough to be a story."),
            )
        })
        .collect();
    // A relative link and image, and the credentials repeated in the text.
    let echo = if kind == "basic" {
        format!(" Welcome back, {USER}: your password is {PASSWORD}.")
    } else {
        String::new()
    };
    items.push((
        format!("{kind} story 4: relative"),
        "item-4".into(),
        format!(
            "<p>The {kind} story with relative links: <img src=\"pic.jpg\" alt=\"a picture\">\
             <a href=\"{q}\">this feed</a>. Your address is {me}.{echo}</p>"
        ),
    ));
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        rss(&format!("{kind} feed"), &me, &items),
    )
        .into_response()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

/// An RSS 2.0 document naming itself `self_link`, with (title, link, text) items, each with
/// an enclosure beside its link (carrying the same query: a private feed's key); links and
/// text are escaped here.
pub fn rss(title: &str, self_link: &str, items: &[(String, String, String)]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let items: String = items
        .iter()
        .map(|(t, l, d)| {
            format!(
                "<item><title>{}</title><link>{}</link><guid>{}</guid><description>{}</description>\
                 <enclosure url=\"{}\" length=\"1000\" type=\"audio/mpeg\"/></item>",
                esc(t),
                esc(l),
                esc(l),
                esc(d),
                esc(&l.replacen("item-", "audio-", 1))
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\
         <channel><title>{}</title><link>http://outlet.example/</link>\
         <atom:link rel=\"self\" href=\"{}\" type=\"application/rss+xml\"/>\
         <description>d</description>{items}</channel></rss>",
        esc(title),
        esc(self_link)
    )
}

/// A forward HTTP proxy on 127.0.0.1 for `http://` targets: it reads the request line's
/// absolute URL, records it, and relays the request to the target over a new connection.
pub struct ForwardProxy {
    pub addr: SocketAddr,
    /// Absolute URLs asked for, in order.
    pub targets: Arc<Mutex<Vec<String>>>,
}

impl ForwardProxy {
    pub async fn start() -> ForwardProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let targets: Arc<Mutex<Vec<String>>> = Arc::default();
        let t = targets.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let t = t.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let mut lines = text.split("\r\n");
                    let first = lines.next().unwrap_or_default().to_string();
                    let mut parts = first.split(' ');
                    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    t.lock().unwrap().push(target.to_string());
                    let Ok(url) = url::Url::parse(target) else {
                        let _ = client
                            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        return;
                    };
                    let host = format!(
                        "{}:{}",
                        url.host_str().unwrap_or(""),
                        url.port_or_known_default().unwrap_or(80)
                    );
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(&host).await else {
                        let _ = client
                            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        return;
                    };
                    let path = match url.query() {
                        Some(q) => format!("{}?{q}", url.path()),
                        None => url.path().to_string(),
                    };
                    let mut out = format!("{method} {path} HTTP/1.1\r\n");
                    for l in lines.take_while(|l| !l.is_empty()) {
                        let name = l.split(':').next().unwrap_or("").to_ascii_lowercase();
                        if name != "connection" && name != "proxy-connection" {
                            out.push_str(l);
                            out.push_str("\r\n");
                        }
                    }
                    out.push_str("connection: close\r\n\r\n");
                    if upstream.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                    let mut response = Vec::new();
                    let _ = upstream.read_to_end(&mut response).await;
                    let _ = client.write_all(&response).await;
                    let _ = client.shutdown().await;
                });
            }
        });
        ForwardProxy { addr, targets }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Runs the real binary with a config and arguments; `env` sets (or, with `None`, removes)
/// variables for it. `RUST_LOG` is always removed: logs are at the default level.
pub fn wirefeed(config: &Path, args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().unwrap()
}

/// `fetch`'s lines by source: outcome (`new`, `error: …`).
pub fn fetch_outcomes(out: &Output) -> HashMap<String, String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('\t');
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}
