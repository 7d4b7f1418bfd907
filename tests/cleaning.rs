//! Cleaning end to end, through fetch, store and the published Atom: built-in boilerplate,
//! per-source rules, learned blocks (removed from earlier entries too, and listed by
//! `wirefeed boilerplate`), wire metadata, and no executable content in any output.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{FeedServer, Served};
use wirefeed::config::Config;
use wirefeed::publish::Publisher;
use wirefeed::runner::Runner;
use wirefeed::store::Store;

fn item(guid: &str, title: &str, paras: &[&str]) -> String {
    let body: String = paras.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<item><guid>{guid}</guid><title>{title}</title><link>https://outlet.example/{guid}?utm_source=rss</link><content:encoded><![CDATA[{body}]]></content:encoded></item>"
    )
}

fn feed(items: &[String]) -> Served {
    Served {
        body: format!(
            "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>Outlet</title>{}</channel></rss>",
            items.concat()
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

const CLUTTER: &str = "Get the Morning Dispatch, our pick of the day, in your inbox at 7am";

async fn setup(extra: &str) -> (FeedServer, Config, Runner, tempfile::TempDir) {
    let server = FeedServer::start(HashMap::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_config(
        dir.path(),
        1,
        &[("outlet".into(), server.url("feed.xml"))],
        extra,
    );
    let config = Config::load(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let runner = Runner::new(&config, Arc::new(Mutex::new(store))).unwrap();
    (server, config, runner, dir)
}

fn atom(config: &Config) -> String {
    let p = Publisher::new(Arc::new(config.clone()));
    String::from_utf8(p.atom("all").unwrap().unwrap().body.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_repeated_across_entries_is_learned_and_removed_everywhere() {
    let (server, config, runner, _dir) = setup("[[feeds]]\nname = \"all\"\n").await;
    let story = |n: &str| {
        format!(
            "The council approved plan number {n} after a long debate on Tuesday evening in the chamber."
        )
    };
    let mut items = Vec::new();
    for n in ["1", "2", "3"] {
        items.push(item(
            &format!("g{n}"),
            &format!("Story {n}"),
            &[&story(n), CLUTTER],
        ));
        if n == "3" {
            // Story 1 is revised in the same fetch that teaches the block: the revision wins.
            let revised = format!("{} Revised.", story("1"));
            items[0] = item("g1", "Story 1", &[&revised, CLUTTER]);
        }
        server.set("feed.xml", feed(&items));
        runner.run_all(&config.sources).await;
    }
    assert!(atom(&config).contains("Revised."));
    let xml = atom(&config);
    assert!(
        !xml.contains("Morning Dispatch"),
        "learned clutter must be gone from every entry:\n{xml}"
    );
    for n in ["1", "2", "3"] {
        assert!(xml.contains(&format!("plan number {n}")), "story text kept");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(&config.path)
        .arg("boilerplate")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("outlet\tlearned\tentries=3") && listing.contains("Morning Dispatch"),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_pattern_overrides_learning() {
    let extra = "[clean]\nkeep = [\"(?i)morning dispatch\"]\n\n[[feeds]]\nname = \"all\"\n";
    let (server, config, runner, _dir) = setup(extra).await;
    let mut items = Vec::new();
    for n in ["1", "2", "3", "4"] {
        items.push(item(
            &format!("g{n}"),
            &format!("Story {n}"),
            &[
                &format!("Text of the story number {n} goes here today."),
                CLUTTER,
            ],
        ));
    }
    server.set("feed.xml", feed(&items));
    runner.run_all(&config.sources).await;
    assert_eq!(atom(&config).matches("Morning Dispatch").count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_rules_source_rules_and_wire_metadata() {
    let extra = r#"[[feeds]]
name = "all"
"#;
    let (server, config, _r, dir) = setup(extra).await;
    // Per-source rules: a selector and a paragraph pattern.
    let text = std::fs::read_to_string(&config.path).unwrap().replace(
        "\nurl = \"",
        "\nremove = [\".promo\"]\ndrop = [\"^Editor's picks\"]\nurl = \"",
    );
    std::fs::write(&config.path, text).unwrap();
    let config = Config::load(&config.path).unwrap();
    let runner = Runner::new(
        &config,
        Arc::new(Mutex::new(Store::open(&config.storage.database).unwrap())),
    )
    .unwrap();
    let body = concat!(
        "<p>Stay up to date with notifications from The Outlet</p>",
        "<p>Via AP news wire</p>",
        "<p>CARACAS, Venezuela (AP) — Iran's president met his Venezuelan counterpart on Monday and the two signed a series of cooperation agreements.</p>",
        "<div class=\"promo\"><p>Buy our tote bag</p></div>",
        "<p>Editor's picks: ten things to read</p>",
        "<p>Your support helps us to tell the story. Donate today.</p>",
        "<p>The visit came a year after the Venezuelan leader travelled to Tehran.</p>",
        "<img src=\"https://t.example/pixel.gif\" width=\"1\" height=\"1\">"
    );
    server.set(
        "feed.xml",
        feed(&[format!("<item><guid>w1</guid><title>Iran's president visits Venezuela</title><link>https://outlet.example/w1?utm_medium=feed&amp;id=9</link><content:encoded><![CDATA[{body}]]></content:encoded></item>")]),
    );
    runner.run_all(&config.sources).await;
    let xml = atom(&config);
    for gone in [
        "notifications",
        "Via AP",
        "tote bag",
        "Editor",
        "Donate",
        "pixel.gif",
        "utm_medium",
    ] {
        assert!(!xml.contains(gone), "{gone} should be gone:\n{xml}");
    }
    assert!(xml.contains("CARACAS, Venezuela (AP)") && xml.contains("travelled to Tehran"));
    assert!(xml.contains("https://outlet.example/w1?id=9"), "{xml}");
    assert!(
        xml.contains("<category term=\"AP\"/>"),
        "agency published as a category:\n{xml}"
    );
    let conn = rusqlite::Connection::open(dir.path().join("wirefeed.db")).unwrap();
    let (agency, dateline, byline): (String, String, String) = conn
        .query_row("SELECT agency, dateline, byline FROM entries", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (agency.as_str(), dateline.as_str(), byline.as_str()),
        ("AP", "CARACAS, Venezuela", "Via AP news wire")
    );
}

/// Attack inputs: none may leave anything executable in the published feed.
const ATTACKS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"jav&#x09;ascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<p style=\"background:url('javascript:alert(1)')\">x</p>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<form action=\"https://evil.example\"><input name=q><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<base href=\"https://evil.example/\">",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_executable_content_survives_into_the_published_feed() {
    let (server, config, runner, _dir) = setup("[[feeds]]\nname = \"all\"\n").await;
    let items: Vec<String> = ATTACKS
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!("<item><guid>a{i}</guid><title>Attack {i} {}</title><link>https://outlet.example/a{i}</link><description><![CDATA[<p>Story text {i}.</p>{a}]]></description><content:encoded><![CDATA[<p>Story text {i}.</p>{a}]]></content:encoded></item>", a.replace('<', "&lt;"))
        })
        .collect();
    server.set("feed.xml", feed(&items));
    runner.run_all(&config.sources).await;
    let xml = atom(&config);
    let parsed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(parsed.entries.len(), ATTACKS.len());
    for e in &parsed.entries {
        // Titles are published as plain text (type="text"): markup in them is inert.
        assert!(
            e.title
                .as_ref()
                .is_some_and(|t| t.content_type.as_str() == "text/plain")
        );
        for l in &e.links {
            assert!(l.href.starts_with("https://"), "{}", l.href);
        }
        let mut html = e
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .unwrap_or_default();
        html.push_str(
            &e.summary
                .as_ref()
                .map(|s| s.content.clone())
                .unwrap_or_default(),
        );
        let html = html.to_ascii_lowercase();
        for bad in [
            "<script",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<meta",
            "<base",
            "<svg",
            "<style",
            "<link",
            "javascript:",
            "vbscript:",
            "data:",
            " on",
            "style=",
            "expression(",
        ] {
            assert!(!html.contains(bad), "{bad} in content {html:?}");
        }
    }
}
