//! The status page with many sources: failing ones first, the list paged and narrowed by
//! links, a feed without a title named once.

mod common;

use std::collections::HashMap;

use common::{Daemon, FeedServer, Served};

fn rss() -> Served {
    Served {
        body:
            "<rss version=\"2.0\"><channel><title>Outlet</title><link>http://outlet.example/</link>\
               <item><guid>1</guid><title>One</title><link>http://outlet.example/1</link></item>\
               </channel></rss>"
                .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

async fn text(url: &str) -> String {
    common::client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_sources_are_paged_with_the_failing_ones_first() {
    let server = FeedServer::start(HashMap::from([("ok.xml".to_string(), rss())])).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    // 297 working sources, then three whose feed is missing, last in the config.
    let sources: Vec<(String, String)> = (0..300)
        .map(|i| {
            let path = if i >= 297 { "missing.xml" } else { "ok.xml" };
            (
                format!("outlet-{i:03}"),
                format!("{}?n={i}", server.url(path)),
            )
        })
        .collect();
    let config = common::write_config(dir.path(), port, &sources, "[[feeds]]\nname = \"wire\"\n");
    let text_cfg = std::fs::read_to_string(&config).unwrap();
    // More at once than the defaults, so the test does not wait on politeness.
    std::fs::write(
        &config,
        text_cfg.replacen("[fetch]\n", "[fetch]\nconcurrency = 64\nper_host = 64\n", 1),
    )
    .unwrap();
    let daemon = Daemon::start(&config, port);
    let base = daemon.base.clone();
    let page = {
        let mut last = String::new();
        for _ in 0..300 {
            last = text(&format!("{base}/")).await;
            if last.contains("3 failing") && !last.contains("not fetched yet") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        last
    };
    assert!(page.contains("3 failing"), "{page}");
    let rows: Vec<&str> = page
        .match_indices("<tr id=\"source-")
        .map(|(i, _)| &page[i + 15..i + 25])
        .collect();
    assert_eq!(rows.len(), 50, "one page of sources");
    assert_eq!(
        &rows[..3],
        ["outlet-297", "outlet-298", "outlet-299"],
        "failing first"
    );
    assert!(page.contains("page 1 of 6"), "paged");
    assert!(page.len() < 60_000, "{} bytes", page.len());
    // The feed has no title: its name shows once.
    assert!(
        page.contains("<td><strong>wire</strong><"),
        "feed name once"
    );

    let failing = text(&format!("{base}/?show=failing")).await;
    assert_eq!(failing.matches("<tr id=\"source-").count(), 3);
    let last = text(&format!("{base}/?page=6")).await;
    assert_eq!(last.matches("<tr id=\"source-").count(), 50);
    assert!(last.contains("outlet-296"), "the last page ends the list");
    let found = text(&format!("{base}/?q=outlet-12")).await;
    assert_eq!(
        found.matches("<tr id=\"source-").count(),
        10,
        "outlet-120 to outlet-129"
    );
}
