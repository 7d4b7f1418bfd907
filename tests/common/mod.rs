//! Test fixtures: a real feed server on an ephemeral loopback port, config files in temporary
//! folders, and the real `wirefeed` binary run as a child process.
#![allow(dead_code)]

pub mod hostile;
pub mod private;
pub mod readers;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[allow(unused_imports)] // each test binary uses what it needs
pub use wirefeed::testdata::{fixture, real_data};

/// One file the feed server serves.
#[derive(Clone, Default)]
pub struct Served {
    pub body: Bytes,
    pub content_type: String,
    pub etag: Option<String>,
    /// A `Cache-Control` header to send, if any.
    pub cache_control: Option<String>,
}

#[derive(Default)]
pub struct Counters {
    /// Full 200 responses per path.
    pub full: Mutex<HashMap<String, usize>>,
    /// 304 responses per path.
    pub not_modified: Mutex<HashMap<String, usize>>,
    pub requests: AtomicUsize,
}

/// A feed server on 127.0.0.1 serving a fixed set of documents by path, with ETags.
pub struct FeedServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    files: Arc<Mutex<HashMap<String, Served>>>,
    _task: tokio::task::JoinHandle<()>,
}

type ServerState = (Arc<Mutex<HashMap<String, Served>>>, Arc<Counters>);

async fn serve_file(
    State((files, counters)): State<ServerState>,
    AxPath(path): AxPath<String>,
    headers: HeaderMap,
) -> Response {
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let Some(f) = files.lock().unwrap().get(&path).cloned() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    if let (Some(etag), Some(inm)) = (&f.etag, headers.get(header::IF_NONE_MATCH))
        && inm.to_str().unwrap_or("") == etag
    {
        *counters
            .not_modified
            .lock()
            .unwrap()
            .entry(path)
            .or_default() += 1;
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response();
    }
    *counters.full.lock().unwrap().entry(path).or_default() += 1;
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&f.content_type).unwrap(),
    );
    if let Some(e) = &f.etag {
        h.insert(header::ETAG, HeaderValue::from_str(e).unwrap());
    }
    if let Some(cc) = &f.cache_control {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_str(cc).unwrap());
    }
    (StatusCode::OK, h, f.body).into_response()
}

impl FeedServer {
    /// Starts serving `files` (path without leading slash → document).
    pub async fn start(files: HashMap<String, Served>) -> FeedServer {
        let files = Arc::new(Mutex::new(files));
        let counters = Arc::new(Counters::default());
        let app = Router::new()
            .route("/{*path}", get(serve_file))
            .with_state((files.clone(), counters.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FeedServer {
            addr,
            counters,
            files,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path)
    }

    /// Replaces (or adds) one document.
    pub fn set(&self, path: &str, served: Served) {
        self.files.lock().unwrap().insert(path.to_string(), served);
    }

    pub fn full_responses(&self, path: &str) -> usize {
        *self.counters.full.lock().unwrap().get(path).unwrap_or(&0)
    }

    pub fn not_modified_responses(&self, path: &str) -> usize {
        *self
            .counters
            .not_modified
            .lock()
            .unwrap()
            .get(path)
            .unwrap_or(&0)
    }
}

/// A feed the project wrote (`tests/fixtures/feeds/REL`), served with an ETag.
pub fn fixture_file(rel: &str) -> Served {
    served_file(&fixture("feeds").join(rel))
}

/// A document of the real-world corpus (`corpus` is what [`real_data`] returned for
/// `"feeds"`), served with an ETag derived from its bytes.
pub fn corpus_file(corpus: &Path, rel: &str) -> Served {
    served_file(&corpus.join(rel))
}

fn served_file(path: &Path) -> Served {
    let rel = path.to_string_lossy();
    let body = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let content_type = if rel.ends_with(".json") {
        "application/feed+json".to_string()
    } else {
        "application/xml".to_string()
    };
    let etag = format!("\"{}\"", &blake3::hash(&body).to_hex()[..16]);
    Served {
        body: Bytes::from(body),
        content_type,
        etag: Some(etag),
        cache_control: None,
    }
}

/// A free loopback port (bound then released; fine for tests that start one server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes a config with the given sources (name, url) and one feed `all` carrying them.
pub fn write_config(dir: &Path, port: u16, sources: &[(String, String)], extra: &str) -> PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}/\"\n\n\
         [storage]\ndatabase = \"wirefeed.db\"\n\n\
         [fetch]\nschedule = \"*/15 * * * *\"\ntimeout = \"10s\"\nallow_hosts = [\"127.0.0.1\"]\n\n"
    );
    for (name, url) in sources {
        text.push_str(&format!(
            "[[sources]]\nname = \"{name}\"\nurl = \"{url}\"\n\n"
        ));
    }
    text.push_str(extra);
    let path = dir.join("wirefeed.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The real binary, running as a daemon; stopped with SIGTERM when dropped.
pub struct Daemon {
    pub child: Child,
    pub base: String,
    pub stderr_path: PathBuf,
}

impl Daemon {
    /// Starts `wirefeed run` and waits until `/healthz` answers.
    pub fn start(config: &Path, port: u16) -> Daemon {
        Daemon::start_with_env(config, port, &[])
    }

    /// [`Daemon::start`] with environment variables set (or, with `None`, removed).
    pub fn start_with_env(config: &Path, port: u16, env: &[(&str, Option<&str>)]) -> Daemon {
        let stderr_path = config.with_extension("log");
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
        cmd.arg("--config")
            .arg(config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let child = cmd.spawn().unwrap();
        let d = Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr_path,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not start:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for exit; returns the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), "TERM");
        self.child.wait().unwrap()
    }
}

fn unsafe_kill(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            unsafe_kill(self.child.id(), "TERM");
            let _ = self.child.wait();
        }
    }
}

/// Polls `f` until it returns `Some`, or panics after `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP client for tests (reqwest is built without a default TLS provider).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
