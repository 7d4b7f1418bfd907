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

/// An article page of the test site: its own story, and a paragraph every page of the site
/// carries inside the article body (an appeal no built-in rule knows).
fn site_page(n: usize) -> String {
    let story = [
        "The harbour authority approved a plan on Monday to dredge the eastern channel before the winter storms, officials said after a two-hour meeting.",
        "Engineers expect the work to take six weeks and to cost about four million euros, paid partly by the regional government and partly by port fees.",
        "Fishing crews welcomed the decision but asked for the work to pause during the spawning season, when boats need the channel most.",
        "The authority said it would publish a timetable next week, after talks with the crews and with the ferry company that uses the berth.",
    ];
    let body: String = story
        .iter()
        .map(|p| format!("<p>Report {n}: {p}</p>"))
        .collect();
    format!(
        "<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>{body}\
         <p>Readers like you keep the Quayside Courier afloat; chip in what you can this month and we will keep the lights on.</p>\
         </article></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paragraph_on_every_page_of_a_site_is_learned_as_its_clutter() {
    let server = FeedServer::start(HashMap::new()).await;
    let mut items = String::new();
    for n in 0..4 {
        server.set(
            &format!("story/{n}"),
            Served {
                body: site_page(n).into(),
                content_type: "text/html; charset=utf-8".into(),
                ..Default::default()
            },
        );
        items.push_str(&format!(
            "<item><guid>{n}</guid><title>Story {n}</title><link>{}</link><description>Teaser {n}.</description></item>",
            server.url(&format!("story/{n}"))
        ));
    }
    server.set(
        "feed.xml",
        Served {
            body: format!(
                "<rss version=\"2.0\"><channel><title>Courier</title>{items}</channel></rss>"
            )
            .into(),
            content_type: "application/rss+xml".into(),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(
        dir.path(),
        1,
        &[("courier".into(), server.url("feed.xml"))],
        "[[feeds]]\nname = \"all\"\ndedup = false\n",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\nurl = \"", "\nfull_text = true\nurl = \"");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let runner = Runner::new(
        &config,
        Arc::new(Mutex::new(Store::open(&config.storage.database).unwrap())),
    )
    .unwrap();
    runner.run_all(&config.sources).await;

    let publisher = Publisher::new(Arc::new(config.clone()));
    let xml = String::from_utf8(publisher.atom("all").unwrap().unwrap().body.to_vec()).unwrap();
    for n in 0..4 {
        assert!(
            xml.contains(&format!("Report {n}: The harbour authority")),
            "{xml}"
        );
    }
    assert!(!xml.contains("Quayside Courier afloat"), "{xml}");
    let store = Store::open_reader(&config.storage.database).unwrap();
    let site = format!("page:{}", server.addr.ip());
    let learned = store.learned_blocks(&site).unwrap();
    assert!(
        learned
            .iter()
            .any(|b| b.entries >= 3 && b.sample.contains("Quayside Courier")),
        "{learned:?}"
    );
}

/// `extract --learn`: the CLI learns a site's page clutter as full-text sources do, in the
/// config's database, so the third page of a site (learn_after = 3) leaves out the paragraph
/// the first two carried too, and the page's own story stays.
#[test]
fn extract_with_learn_learns_a_sites_clutter_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), 1, &[], "");
    let run = |n: usize| {
        let page = dir.path().join(format!("page{n}.html"));
        std::fs::write(&page, site_page(n)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("--config")
            .arg(&config)
            .args(["extract", "--learn", "--url"])
            .arg(format!("https://courier.example/story/{n}"))
            .arg(&page)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for n in 0..2 {
        assert!(
            run(n).contains("Quayside Courier afloat"),
            "page {n} is not yet learned"
        );
    }
    let third = run(2);
    assert!(third.contains("Report 2: The harbour authority"), "{third}");
    assert!(!third.contains("Quayside Courier afloat"), "{third}");
    // Without --learn, extraction is the same for everyone and needs no config.
    let page = dir.path().join("page2.html");
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["extract", "--url", "https://courier.example/story/2"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&plain.stdout).contains("Quayside Courier afloat"));
    // --learn needs the address: clutter is learned per site.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config)
        .args(["extract", "--learn"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--learn needs --url"));
}
