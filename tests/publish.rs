//! Published feeds over real HTTP from the running daemon: every format with its media type,
//! self link, validators, conditional GET, compression (pre-made gzip and brotli), HEAD,
//! caching headers, and the feed filters.

mod common;

use std::collections::HashMap;
use std::io::Read;

use common::{Daemon, FeedServer, Served};
use reqwest::header::{self, HeaderMap};

fn rss(items: &[(&str, &str)]) -> Served {
    let items: String = items
        .iter()
        .enumerate()
        .map(|(i, (t, body))| {
            format!(
                "<item><guid>g{i}</guid><title>{t}</title><link>http://example.org/{i}</link>\
                 <description>&lt;p&gt;{body}&lt;/p&gt;</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>T</title><language>en-us</language>{items}\
             </channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

/// A client that shows the bytes as sent: no transparent decompression.
fn raw_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap()
}

async fn get(url: &str, headers: &[(header::HeaderName, &str)]) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = raw_client().get(url);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    (status, h, resp.bytes().await.unwrap().to_vec())
}

fn hv(h: &HeaderMap, k: header::HeaderName) -> &str {
    h.get(&k)
        .unwrap_or_else(|| panic!("no {k} header"))
        .to_str()
        .unwrap()
}

fn titles(body: &[u8]) -> Vec<String> {
    feed_rs::parser::parse(body)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect()
}

async fn start() -> (tempfile::TempDir, FeedServer, Daemon) {
    let server = FeedServer::start(HashMap::from([(
        "a.xml".to_string(),
        rss(&[
            ("Quake hits the coast", "A strong earthquake struck."),
            ("Football final tonight", "The sports desk reports."),
            ("Markets rally", "Stocks rose on Tuesday."),
        ]),
    )]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("a".to_string(), server.url("a.xml"))],
        "[[feeds]]\nname = \"all\"\ntitle = \"All\"\n\n\
         [[feeds]]\nname = \"quakes\"\ninclude = [\"EARTHQUAKE\", \"tsunami\"]\n\n\
         [[feeds]]\nname = \"nosport\"\nexclude = [\"\\\\bsports?\\\\b\", \"football\"]\n\n\
         [[feeds]]\nname = \"german\"\nlanguage = \"de\"\n\n\
         [[feeds]]\nname = \"agreed\"\nmin_outlets = 2\n",
    );
    let daemon = Daemon::start(&config, port);
    // Every document the tests read, as rendered after the fetch: the daemon serves the
    // previous rendering of a feed until the next is ready (at most a second after a change).
    let filled = [
        ("all.atom", 3),
        ("all.rss", 3),
        ("all.json", 3),
        ("quakes.json", 1),
        ("nosport.json", 2),
    ];
    for _ in 0..300 {
        let mut all = true;
        for (file, n) in filled {
            let (status, _, body) = get(&format!("{}/feeds/{file}", daemon.base), &[]).await;
            all &= status == 200 && titles(&body).len() == n;
        }
        if all {
            return (dir, server, daemon);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("feeds never filled; log:\n{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_is_served_with_validators_compression_and_conditional_get() {
    let (_dir, _server, daemon) = start().await;
    for (ext, media) in [
        ("atom", "application/atom+xml"),
        ("rss", "application/rss+xml"),
        ("json", "application/feed+json"),
    ] {
        let url = format!("{}/feeds/all.{ext}", daemon.base);
        let (status, h, plain) = get(&url, &[]).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(
            hv(&h, header::CONTENT_TYPE),
            format!("{media}; charset=utf-8")
        );
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(hv(&h, header::VARY), "Accept, Accept-Encoding");
        let max_age: u64 = hv(&h, header::CACHE_CONTROL)
            .strip_prefix("public, max-age=")
            .expect("public, max-age=N")
            .parse()
            .unwrap();
        // The source is fetched every 15 minutes (plus its jitter, at most a tenth of that):
        // nothing can change for at most that long.
        assert!((60..=990).contains(&max_age), "max-age {max_age}");
        let etag = hv(&h, header::ETAG).to_string();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong ETag {etag}"
        );
        let last_modified = hv(&h, header::LAST_MODIFIED).to_string();

        // The self link is the URL served.
        let parsed = feed_rs::parser::parse(&plain[..]).unwrap();
        if ext != "json" {
            assert!(
                parsed
                    .links
                    .iter()
                    .any(|l| l.rel.as_deref() == Some("self") && l.href == url),
                "{ext}: self link {:?}",
                parsed.links
            );
        } else {
            let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            assert_eq!(v["feed_url"], url);
            assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        }
        assert_eq!(parsed.entries.len(), 3);

        // Conditional GET, both validators.
        let (status, h304, body) = get(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!((status, body.len()), (304, 0), "{url}");
        assert_eq!(hv(&h304, header::ETAG), etag);
        let (status, _, _) = get(&url, &[(header::IF_MODIFIED_SINCE, &last_modified)]).await;
        assert_eq!(status, 304);
        let (status, _, _) = get(&url, &[(header::IF_NONE_MATCH, "\"stale\"")]).await;
        assert_eq!(status, 200);

        // gzip and brotli: the same bytes once decoded, each with its own strong ETag.
        let (_, hg, gz) = get(&url, &[(header::ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(hv(&hg, header::CONTENT_ENCODING), "gzip");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, plain);
        let gz_etag = hv(&hg, header::ETAG).to_string();
        assert_ne!(gz_etag, etag);
        let (_, hb, br) = get(&url, &[(header::ACCEPT_ENCODING, "gzip, deflate, br")]).await;
        assert_eq!(hv(&hb, header::CONTENT_ENCODING), "br");
        let mut unbr = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut unbr)
            .unwrap();
        assert_eq!(unbr, plain);
        assert!(br.len() < plain.len() && gz.len() < plain.len());
        let (status, _, _) = get(
            &url,
            &[
                (header::ACCEPT_ENCODING, "gzip"),
                (header::IF_NONE_MATCH, &gz_etag),
            ],
        )
        .await;
        assert_eq!(status, 304, "a compressed copy's ETag revalidates");

        // HEAD: the same headers, no body.
        let head = raw_client().head(&url).send().await.unwrap();
        assert_eq!(head.status().as_u16(), 200);
        assert_eq!(hv(head.headers(), header::ETAG), etag);
        assert_eq!(
            hv(head.headers(), header::CONTENT_LENGTH),
            plain.len().to_string()
        );
        assert!(head.bytes().await.unwrap().is_empty());
    }
    let (status, _, _) = get(&format!("{}/feeds/all.xml", daemon.base), &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&format!("{}/feeds/none.rss", daemon.base), &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_filter_by_keyword_language_and_outlets() {
    let (_dir, _server, daemon) = start().await;
    let feed = |name: &str| format!("{}/feeds/{name}.json", daemon.base);
    let (_, _, body) = get(&feed("quakes"), &[]).await;
    assert_eq!(titles(&body), ["Quake hits the coast"]);
    let (_, _, body) = get(&feed("nosport"), &[]).await;
    let mut t = titles(&body);
    t.sort();
    assert_eq!(t, ["Markets rally", "Quake hits the coast"]);
    // The source declares en-us: a German feed carries none of it.
    let (status, _, body) = get(&feed("german"), &[]).await;
    assert_eq!(status, 200);
    assert!(titles(&body).is_empty());
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["language"], "de");
    // One outlet ran each story.
    let (_, _, body) = get(&feed("agreed"), &[]).await;
    assert!(titles(&body).is_empty());
}
