//! What a person sees in a browser: headless Chromium (Debian's, installed by scripts/test)
//! loads the status page and feeds opened directly (the server's HTML view of the feed: no
//! XSLT, which Chromium is removing and marks with a banner), and the tests assert on the
//! DOM it produced (`--dump-dom`), not on the bytes served.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Daemon, FeedServer, Served};
use scraper::{Html, Selector};

fn rss(items: usize) -> Served {
    let items: String = (0..items)
        .map(|i| {
            format!(
                "<item><guid>g{i}</guid><title>Story {i} &amp; more</title>\
                 <link>http://example.org/{i}</link><description>Text {i}.</description></item>"
            )
        })
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>Outlet</title><link>http://example.org/</link>\
             {items}</channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

/// The DOM Chromium builds for `url`, after scripts and stylesheets ran.
fn dump_dom(url: &str) -> Html {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Html::parse_document(&String::from_utf8_lossy(&out.stdout))
}

fn texts(doc: &Html, css: &str) -> Vec<String> {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn attrs(doc: &Html, css: &str, attr: &str) -> Vec<String> {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_and_feeds_render_in_chromium() {
    let server = FeedServer::start(HashMap::from([("a.xml".to_string(), rss(4))])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[
            ("outlet".to_string(), server.url("a.xml")),
            ("broken".to_string(), server.url("missing.xml")),
        ],
        "[[feeds]]\nname = \"all\"\ntitle = \"All <wire> & co\"\n",
    );
    let daemon = Daemon::start(&config, port);
    let base = daemon.base.clone();
    let atom = format!("{base}/feeds/all.atom");
    for _ in 0..300 {
        let body = common::client()
            .get(&atom)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        if feed_rs::parser::parse(&body[..]).is_ok_and(|f| f.entries.len() == 4) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The failing source has been tried (the status page is re-read every few seconds).
    for _ in 0..300 {
        let html = common::client()
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if html.contains("badge bad") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let page = tokio::task::spawn_blocking({
        let base = base.clone();
        move || dump_dom(&format!("{base}/")).html()
    })
    .await
    .unwrap();
    let page = Html::parse_document(&page);
    assert_eq!(texts(&page, "h1"), ["wirefeed"]);
    // Autodiscovery and subscribe links for every format.
    for ext in ["atom", "rss", "json"] {
        let url = format!("{base}/feeds/all.{ext}");
        assert!(
            attrs(&page, "link[rel=alternate]", "href").contains(&url),
            "no autodiscovery link for {url}"
        );
        assert!(attrs(&page, "td.formats a", "href").contains(&url));
    }
    // Sources with their outcome; the missing feed shows as an error.
    let rows = texts(&page, "#sources ~ div table tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("outlet") && r.contains("new")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("broken") && r.contains("error")),
        "{rows:?}"
    );
    let stories = texts(&page, "ul.stories li");
    assert_eq!(stories.len(), 4);
    assert!(
        stories.iter().all(|s| s.contains("1 outlet")),
        "{stories:?}"
    );
    assert!(
        page.select(&Selector::parse("script").unwrap())
            .next()
            .is_none()
    );

    // Feeds opened directly read as pages, rendered by the server: no XSLT, so no banner.
    for ext in ["atom", "rss", "json", "html"] {
        let url = format!("{base}/feeds/all.{ext}");
        let dom = tokio::task::spawn_blocking({
            let url = url.clone();
            move || dump_dom(&url).html()
        })
        .await
        .unwrap();
        assert!(
            !dom.to_ascii_lowercase().contains("xslt"),
            "{ext}: an XSLT banner or stylesheet in the DOM:\n{dom}"
        );
        let dom = Html::parse_document(&dom);
        assert_eq!(
            texts(&dom, "h1#feed-title"),
            ["All <wire> & co"],
            "{ext}: {}",
            dom.html()
        );
        // The address to subscribe to is the one opened (Atom for the .html page).
        let shown = if ext == "html" {
            format!("{base}/feeds/all.atom")
        } else {
            url.clone()
        };
        assert_eq!(texts(&dom, "code#feed-url"), [shown], "{ext}");
        let items = texts(&dom, "li.item h2 a");
        assert_eq!(items.len(), 4, "{ext}");
        assert!(items.contains(&"Story 2 & more".to_string()), "{items:?}");
        // Each item names its outlet; subscribe links in every format.
        assert!(
            texts(&dom, "li.item div.muted")
                .iter()
                .all(|m| m.contains("Outlet")),
            "{ext}"
        );
        for f in ["atom", "rss", "json"] {
            let want = format!("{base}/feeds/all.{f}");
            assert!(
                attrs(&dom, ".formats a", "href").contains(&want),
                "{ext}: no subscribe link {want}"
            );
        }
        assert!(
            dom.select(&Selector::parse("script").unwrap())
                .next()
                .is_none(),
            "{ext}: a script"
        );
    }
}
