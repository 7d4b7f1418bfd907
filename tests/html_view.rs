//! A feed in a browser: a request whose Accept prefers `text/html` gets a page rendered by
//! the server (also at `/feeds/NAME.html`), under the feed's own access rules and caching;
//! feed readers keep getting the feed; nothing names an XSLT stylesheet any more.

mod common;

use std::collections::HashMap;

use common::{Daemon, FeedServer, Served};

const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
    image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const FEEDPARSER: &str = "application/atom+xml,application/rdf+xml,application/rss+xml,\
    application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1";
const TOKEN: &str = "reader-token-0123456789abcdef";

fn rss(n: usize) -> Served {
    let items: String = (0..n)
        .map(|i| {
            format!(
                "<item><guid>g{i}</guid><title>Story {i}</title><link>http://outlet.example/{i}</link>\
                 <pubDate>Mon, 0{} Mar 2025 06:00:00 +0000</pubDate>\
                 <description>Text of story {i}, long enough to read.</description>\
                 <enclosure url=\"http://outlet.example/{i}.mp3\" length=\"1000\" type=\"audio/mpeg\"/></item>",
                i + 1
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
        ..Default::default()
    }
}

async fn get(url: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = common::client().get(url);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    req.send().await.unwrap()
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()["content-type"].to_str().unwrap().to_string()
}

/// A daemon publishing `n` stories of one outlet, two a page; `server` lines go into the
/// `[server]` table.
async fn start(server_keys: &str, n: usize) -> (FeedServer, tempfile::TempDir, Daemon) {
    let server = FeedServer::start(HashMap::from([("a.xml".to_string(), rss(n))])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("outlet".to_string(), server.url("a.xml"))],
        "[[feeds]]\nname = \"all\"\ntitle = \"All\"\nlimit = 2\n",
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("[server]\n", &format!("[server]\n{server_keys}"), 1),
    )
    .unwrap();
    let daemon = Daemon::start(&config, port);
    (server, dir, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_the_page_and_readers_get_the_feed() {
    let (_server, _dir, daemon) = start("", 6).await;
    let base = daemon.base.clone();
    // Six stories, two a page: two archive pages are frozen.
    common::wait_for(15, "archive pages", || {
        let url = format!("{base}/feeds/all/archive/2.atom");
        let ok = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(async { get(&url, None).await.status().is_success() })
        });
        ok.then_some(())
    });

    for ext in ["atom", "rss", "json"] {
        let url = format!("{base}/feeds/all.{ext}");
        let page = get(&url, Some(CHROMIUM)).await;
        assert_eq!(content_type(&page), "text/html; charset=utf-8", "{ext}");
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(page.headers()["vary"].to_str().unwrap().contains("Accept"));
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("<code id=\"feed-url\">{url}</code>")),
            "{html}"
        );
        assert!(html.contains(
            "<li class=\"item\"><h2><a href=\"http://outlet.example/5\">Story 5</a></h2>"
        ));
        assert!(html.contains("href=\"http://outlet.example/5.mp3\" type=\"audio/mpeg\""));
        assert!(!html.contains("<script"));

        let feed = get(&url, Some(FEEDPARSER)).await;
        assert!(!content_type(&feed).starts_with("text/html"), "{ext}");
        let plain = get(&url, None).await;
        assert!(!content_type(&plain).starts_with("text/html"), "{ext}");
        let body = plain.text().await.unwrap();
        assert!(!body.contains("xml-stylesheet"), "{ext}: no XSLT any more");
    }

    let page = get(&format!("{base}/feeds/all.html"), None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(content_type(&page), "text/html; charset=utf-8");
    let etag = page.headers()["etag"].to_str().unwrap().to_string();
    assert!(page.text().await.unwrap().contains(&format!(
        "<code id=\"feed-url\">{base}/feeds/all.atom</code>"
    )));
    let again = common::client()
        .get(format!("{base}/feeds/all.html"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(get(&format!("{base}/feed.xsl"), None).await.status(), 404);
    assert_eq!(
        get(&format!("{base}/feeds/none.html"), None).await.status(),
        404
    );

    // An archive page in a browser is a page too, linking the live feed.
    let archive = get(&format!("{base}/feeds/all/archive/1.rss"), Some(CHROMIUM)).await;
    assert_eq!(content_type(&archive), "text/html; charset=utf-8");
    let html = archive.text().await.unwrap();
    assert!(html.contains("archive page 1"), "{html}");
    assert!(
        html.contains(&format!("href=\"{base}/feeds/all.rss\" rel=\"current\"")),
        "{html}"
    );
    assert_eq!(html.matches("<li class=\"item\">").count(), 2, "{html}");
    let xml = get(&format!("{base}/feeds/all/archive/1.rss"), Some(FEEDPARSER)).await;
    assert_eq!(content_type(&xml), "application/rss+xml; charset=utf-8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_keeps_the_feeds_access_rules() {
    let (_server, _dir, daemon) = start(&format!("token = \"{TOKEN}\"\n"), 2).await;
    let base = daemon.base.clone();
    for url in [
        format!("{base}/feeds/all.html"),
        format!("{base}/feeds/all.atom"),
    ] {
        let r = get(&url, Some(CHROMIUM)).await;
        assert_eq!(r.status(), 401, "{url}");
    }
    let page = get(&format!("{base}/feeds/all.html?token={TOKEN}"), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // Subscribe links work when followed: they carry the token the page was asked with.
    for ext in ["atom", "rss", "json"] {
        assert!(
            html.contains(&format!("href=\"{base}/feeds/all.{ext}?token={TOKEN}\"")),
            "{ext}: {html}"
        );
    }
    let by_header = common::client()
        .get(format!("{base}/feeds/all.atom"))
        .header("accept", CHROMIUM)
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    assert_eq!(content_type(&by_header), "text/html; charset=utf-8");
    assert_eq!(
        by_header.headers()["cache-control"]
            .to_str()
            .unwrap()
            .split(',')
            .next(),
        Some("private")
    );
}
