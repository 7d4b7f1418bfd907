//! RFC 5005 archives, static export and WebSub with the real daemon: full pages are frozen
//! and chained from the live feed, stay byte-identical afterwards, are mirrored atomically
//! into the static folder, and the hub hears of every change.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use common::{Daemon, FeedServer, Served};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rss(items: &[(usize, &str)]) -> Served {
    let items: String = items
        .iter()
        .map(|(i, text)| {
            format!(
                "<item><guid>g{i}</guid><title>Story {i}</title>\
                 <link>http://example.org/{i}</link><description>{text}</description></item>"
            )
        })
        .collect();
    Served {
        body: format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
            .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

/// A WebSub hub that records the body of every POST and answers 204.
async fn hub() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            s.lock().unwrap().push(body.to_string());
                            break;
                        }
                    }
                }
                let _ = sock
                    .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (format!("http://{addr}/hub"), seen)
}

async fn get(url: &str) -> (u16, Vec<u8>) {
    let r = common::client().get(url).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn links(body: &[u8]) -> HashMap<String, String> {
    feed_rs::parser::parse(body)
        .unwrap()
        .links
        .into_iter()
        .filter_map(|l| Some((l.rel?, l.href)))
        .collect()
}

fn ids(body: &[u8]) -> BTreeSet<String> {
    feed_rs::parser::parse(body)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Every story id reachable from the live feed by following prev-archive links, and the
/// archive pages visited (newest first).
async fn walk(live: &str) -> (BTreeSet<String>, Vec<String>) {
    let (_, body) = get(live).await;
    let mut all = ids(&body);
    let mut pages = Vec::new();
    let mut next = links(&body).get("prev-archive").cloned();
    while let Some(url) = next {
        let (status, page) = get(&url).await;
        assert_eq!(status, 200, "{url}");
        let text = String::from_utf8_lossy(&page);
        assert!(
            text.contains("<fh:archive"),
            "{url} is not marked as an archive"
        );
        assert_eq!(links(&page).get("current").map(String::as_str), Some(live));
        all.extend(ids(&page));
        next = links(&page).get("prev-archive").cloned();
        pages.push(url);
    }
    (all, pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_pages_chain_stay_frozen_mirror_to_disk_and_ping_the_hub() {
    let five: Vec<(usize, &str)> = (1..=5).map(|i| (i, "First text.")).collect();
    let server = FeedServer::start(HashMap::from([("a.xml".to_string(), rss(&five))])).await;
    let (hub_url, pings) = hub().await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("a".to_string(), server.url("a.xml"))],
        &format!(
            "[publish]\ndir = \"static\"\nwebsub_hub = \"{hub_url}\"\n\n\
             [[feeds]]\nname = \"all\"\nlimit = 2\n"
        ),
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("*/15 * * * *", "* * * * * *");
    std::fs::write(&config, &text).unwrap();
    let daemon = Daemon::start(&config, port);
    let live = format!("{}/feeds/all.atom", daemon.base);

    // Five stories, pages of two: pages 1 and 2 are full; the live feed links page 2.
    let mut reached = (BTreeSet::new(), Vec::new());
    for _ in 0..300 {
        reached = walk(&live).await;
        if reached.1.len() == 2 && reached.0.len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        reached.0.len(),
        5,
        "ids {:?} log:\n{}",
        reached,
        daemon.log()
    );
    assert_eq!(
        reached.1,
        [
            format!("{}/feeds/all/archive/2.atom", daemon.base),
            format!("{}/feeds/all/archive/1.atom", daemon.base)
        ]
    );
    let page1 = format!("{}/feeds/all/archive/1.atom", daemon.base);
    let (_, page1_before) = get(&page1).await;
    for ext in ["rss", "json"] {
        let (status, _) = get(&format!("{}/feeds/all/archive/1.{ext}", daemon.base)).await;
        assert_eq!(status, 200, "{ext}");
    }
    assert_eq!(
        get(&format!("{}/feeds/all/archive/9.atom", daemon.base))
            .await
            .0,
        404
    );

    // The static folder mirrors what is served.
    let static_dir = dir.path().join("static");
    let file = static_dir.join("feeds/all.atom");
    for _ in 0..100 {
        if std::fs::read(&file).ok() == Some(get(&live).await.1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(std::fs::read(&file).unwrap(), get(&live).await.1);
    assert_eq!(
        std::fs::read(static_dir.join("feeds/all/archive/1.atom")).unwrap(),
        page1_before
    );
    // The feed's web page is written beside it (no XSLT stylesheet any more).
    assert!(static_dir.join("feeds/all.html").exists());
    assert!(!static_dir.join("feed.xsl").exists());

    // Every story of page 1 is edited and two new stories arrive: a third page fills, and
    // page 1 keeps its bytes. Meanwhile a reader keeps reading the static file: it must
    // never see a partial document.
    let reader_file = file.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut reads = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let bytes = std::fs::read(&reader_file).unwrap();
            assert!(
                feed_rs::parser::parse(&bytes[..]).is_ok(),
                "a partial static file was visible"
            );
            reads += 1;
        }
        reads
    });
    let seven: Vec<(usize, &str)> = (1..=7).map(|i| (i, "Second, longer text.")).collect();
    server.set("a.xml", rss(&seven));
    for _ in 0..300 {
        reached = walk(&live).await;
        if reached.1.len() == 3 && reached.0.len() == 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (reached.0.len(), reached.1.len()),
        (7, 3),
        "log:\n{}",
        daemon.log()
    );
    assert_eq!(get(&page1).await.1, page1_before, "a full page changed");
    for _ in 0..100 {
        if std::fs::read(&file).ok() == Some(get(&live).await.1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    // Written before the live file that links it.
    assert!(static_dir.join("feeds/all/archive/3.json").exists());

    // The hub heard about the live feed in every format.
    let pinged = pings.lock().unwrap().join("\n");
    for ext in ["atom", "rss", "json"] {
        let topic = format!("hub.url=http%3A%2F%2F127.0.0.1%3A{port}%2Ffeeds%2Fall.{ext}");
        assert!(pinged.contains(&topic), "no ping for {ext}: {pinged}");
    }
    assert!(pinged.contains("hub.mode=publish"));
    let (_, body) = get(&live).await;
    assert_eq!(links(&body).get("hub"), Some(&hub_url));
}
