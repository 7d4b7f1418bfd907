//! A loopback feed server for benchmarks: `N` distinct feeds of realistic size (20–50 KB,
//! about 20 items with HTML descriptions), spread over several loopback addresses so that
//! wirefeed's per-host politeness applies as it would across real publishers. Feeds carry
//! ETags and answer `If-None-Match` with 304. Content is generated deterministically per path.
//!
//! ```text
//! cargo run --release --example feedserver -- --feeds 10000 --hosts 50 --config out.toml
//! ```
//! writes a wirefeed config listing every feed, prints `ready`, and serves until killed.
//! With `--changing`, every request of a feed returns two new items (and no validators):
//! the soak test's sources.

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const WORDS: &[&str] = &[
    "government",
    "minister",
    "said",
    "on",
    "Tuesday",
    "the",
    "police",
    "officials",
    "city",
    "storm",
    "election",
    "agency",
    "reported",
    "people",
    "after",
    "court",
    "ruling",
    "market",
    "shares",
    "fell",
    "percent",
    "president",
    "talks",
    "border",
    "aid",
    "workers",
    "strike",
    "council",
    "vote",
    "health",
    "hospital",
    "school",
    "water",
    "energy",
    "prices",
    "rose",
    "according",
    "to",
    "a",
    "statement",
    "from",
    "with",
    "and",
    "in",
    "of",
    "for",
    "that",
    "were",
    "had",
    "been",
    "would",
    "could",
    "their",
    "new",
    "first",
    "last",
    "week",
    "year",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> &'static str {
        WORDS[(self.next() % WORDS.len() as u64) as usize]
    }
    fn sentence(&mut self, out: &mut String) {
        let n = 12 + self.next() % 14;
        for i in 0..n {
            let w = self.word();
            if i == 0 {
                let mut c = w.chars();
                out.push(c.next().unwrap().to_ascii_uppercase());
                out.push_str(c.as_str());
            } else {
                out.push(' ');
                out.push_str(w);
            }
        }
        out.push_str(". ");
    }
}

fn feed(id: u64) -> String {
    let mut rng = Rng(id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let target = 20_000 + (rng.next() % 30_000) as usize;
    let mut doc = String::with_capacity(target + 4096);
    let _ = write!(
        doc,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>Outlet {id}</title><link>https://outlet{id}.example/</link><description>News from outlet {id}</description>"
    );
    let mut item = 0;
    while doc.len() < target {
        let date = format!(
            "Mon, 02 Nov 2026 {:02}:{:02}:00 +0000",
            item % 24,
            (item * 7) % 60
        );
        write_item(&mut doc, &mut rng, id, item, &date);
        item += 1;
    }
    doc.push_str("</channel></rss>");
    doc
}

fn write_item(doc: &mut String, rng: &mut Rng, id: u64, item: u64, date: &str) {
    let _ = write!(doc, "<item><title>");
    for _ in 0..8 {
        doc.push_str(rng.word());
        doc.push(' ');
    }
    let _ = write!(
        doc,
        "</title><link>https://outlet{id}.example/news/{item}</link><guid isPermaLink=\"false\">o{id}-{item}</guid><pubDate>{date}</pubDate><description><![CDATA["
    );
    for _ in 0..4 {
        doc.push_str("<p>");
        for _ in 0..3 {
            rng.sentence(doc);
        }
        doc.push_str("</p>");
    }
    doc.push_str("]]></description></item>");
}

/// Items per changing feed, and how many are new on each request.
const CHANGING_ITEMS: u64 = 20;
const CHANGING_NEW: u64 = 2;

/// Feed `id` as served to its `poll`-th request in `--changing` mode: the newest 20 of an
/// endless series, two of them new since the previous request, dated now (inside the
/// dedup window), with no validators, so that every poll stores new entries.
fn changing_feed(id: u64, poll: u64) -> String {
    let mut doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Outlet {id}</title><link>https://outlet{id}.example/</link><description>News from outlet {id}</description>"
    );
    let last = poll * CHANGING_NEW + CHANGING_ITEMS;
    let now = chrono::Utc::now();
    for item in (last - CHANGING_ITEMS..last).rev() {
        let mut rng = Rng((id << 32 ^ item).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let date = (now - chrono::Duration::seconds((last - item) as i64)).to_rfc2822();
        write_item(&mut doc, &mut rng, id, item, &date);
    }
    doc.push_str("</channel></rss>");
    doc
}

/// Every feed, generated before serving starts, so that during a measurement the server
/// costs the machine only the copying of bytes, not their generation.
static FEEDS: std::sync::OnceLock<Vec<bytes::Bytes>> = std::sync::OnceLock::new();

/// Requests served per feed, in `--changing` mode.
static POLLS: std::sync::OnceLock<Vec<std::sync::atomic::AtomicU64>> = std::sync::OnceLock::new();

async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(id) = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(polls) = POLLS.get() {
        let Some(n) = polls.get(id as usize) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let poll = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return (
            [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
            changing_feed(id, poll),
        )
            .into_response();
    }
    let Some(body) = FEEDS.get().and_then(|f| f.get(id as usize)).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"v1-{id}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                "application/rss+xml; charset=utf-8".to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() {
    let feeds: u64 = arg("--feeds", "10000").parse().unwrap();
    let hosts: u32 = arg("--hosts", "50").parse().unwrap();
    let config = arg("--config", "");
    let db = arg("--db", "bench.db");
    if std::env::args().any(|a| a == "--changing") {
        POLLS.get_or_init(|| (0..feeds).map(|_| Default::default()).collect());
    } else {
        FEEDS.get_or_init(|| (0..feeds).map(|i| bytes::Bytes::from(feed(i))).collect());
    }
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for h in 0..hosts {
        let ip = format!("127.0.{}.{}", 1 + h / 250, 1 + h % 250);
        let listener = tokio::net::TcpListener::bind(format!("{ip}:0"))
            .await
            .unwrap();
        addrs.push(listener.local_addr().unwrap());
        let app = Router::new().route("/feed/{file}", get(serve));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    if !config.is_empty() {
        let mut text = format!(
            "[storage]\ndatabase = \"{db}\"\n\n[fetch]\nallow_private = true\ntimeout = \"60s\"\n\n"
        );
        for i in 0..feeds {
            let a = addrs[(i % hosts as u64) as usize];
            let _ = write!(
                text,
                "[[sources]]\nname = \"f{i}\"\nurl = \"http://{a}/feed/{i}.xml\"\n\n"
            );
        }
        std::fs::write(&config, text).unwrap();
    }
    println!("ready");
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn changing_feeds_move_on_by_two_items_per_poll() {
        let guids = |poll| -> Vec<String> {
            super::changing_feed(3, poll)
                .split("<guid isPermaLink=\"false\">")
                .skip(1)
                .map(|s| s.split('<').next().unwrap().to_string())
                .collect()
        };
        let (a, b) = (guids(0), guids(1));
        assert_eq!((a.len(), b.len()), (20, 20));
        assert_eq!(b.iter().filter(|g| !a.contains(g)).count(), 2);
        assert_eq!(a[..18], b[2..]);
    }

    #[test]
    fn feeds_are_realistic_sizes_and_deterministic() {
        for id in [0, 1, 9999] {
            let f = super::feed(id);
            assert!((20_000..56_000).contains(&f.len()), "{}", f.len());
            assert_eq!(f, super::feed(id));
        }
    }
}
