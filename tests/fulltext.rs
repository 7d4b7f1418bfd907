//! `full_text = true`: each entry's page is fetched once through the guarded fetcher, its
//! article extracted and published as the entry's content.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::hostile::Canary;
use common::{FeedServer, Served};
use wirefeed::config::Config;
use wirefeed::publish::Publisher;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_pages_are_fetched_once_extracted_and_published() {
    let canary = Canary::start().await;
    let pages = common::fixture("pages");
    let page = std::fs::read(pages.join("agency-story.html")).unwrap();
    let server = FeedServer::start(HashMap::from([(
        "article/1".to_string(),
        Served {
            body: page.into(),
            content_type: "text/html; charset=utf-8".into(),
            ..Default::default()
        },
    )]))
    .await;
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>Outlet</title>\
         <item><guid>1</guid><title>Storm closes two ports</title><link>{}</link><description>Teaser only.</description></item>\
         <item><guid>2</guid><title>Private link</title><link>http://{}/article</link><description>Feed text stays.</description></item>\
         </channel></rss>",
        server.url("article/1"),
        canary.addr
    );
    server.set(
        "feed.xml",
        Served {
            body: feed.into(),
            content_type: "application/rss+xml".into(),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(
        dir.path(),
        1,
        &[("outlet".into(), server.url("feed.xml"))],
        "[[feeds]]\nname = \"all\"\n",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\nurl = \"", "\nfull_text = true\nurl = \"");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    assert!(config.sources[0].full_text);
    let runner = Runner::new(
        &config,
        Arc::new(Mutex::new(Store::open(&config.storage.database).unwrap())),
    )
    .unwrap();

    runner.run_all(&config.sources).await;
    runner.run_all(&config.sources).await;
    assert_eq!(
        server.full_responses("article/1"),
        1,
        "a page is fetched once"
    );
    assert_eq!(canary.hits(), 0, "the guard applies to page fetches");

    let publisher = Publisher::new(Arc::new(config.clone()));
    let xml = String::from_utf8(publisher.atom("all").unwrap().unwrap().body.to_vec()).unwrap();
    let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    let by_title = |t: &str| {
        parsed
            .entries
            .iter()
            .find(|e| e.title.as_ref().unwrap().content.contains(t))
            .unwrap()
    };
    let full = by_title("Storm")
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    let expected = std::fs::read_to_string(pages.join("agency-story.expected.txt")).unwrap();
    let first_para = expected
        .split("\n\n")
        .next()
        .unwrap()
        .split_whitespace()
        .take(8)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(full.contains(&first_para), "{full}");
    assert!(
        !full.contains("Stay up to date")
            && !full.contains("Your support")
            && !full.contains("Thank you for registering"),
        "{full}"
    );
    assert!(xml.contains("<category term=\"AP\"/>"));
    let private = by_title("Private")
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(private.contains("Feed text stays."));

    let store = Store::open_reader(&config.storage.database).unwrap();
    let refused = store
        .page(&format!("http://{}/article", canary.addr))
        .unwrap()
        .unwrap();
    assert!(refused.error.unwrap().contains("refused"));
}
