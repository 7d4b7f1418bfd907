//! Updates show: an item edited in place (same guid, a paragraph added, the publisher's
//! date unchanged) moves its story's `updated` to when wirefeed saw the change, bumps the
//! revision count, and the published content starts with a note of what changed, unless
//! the feed says `show_changes = false`. The real binary against a loopback feed server.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{FeedServer, Served};

const P1: &str = "The harbour board voted on Monday to close the old fish quay to lorries after inspectors found cracks in the stone wall along its seaward side.";
const P2: &str = "Repairs are expected to take at least four months and cost about two million, the board's engineer told the meeting, which ran late into the evening.";
const P3: &str = "Fishermen will land their catch at the new pier in the meantime, which adds about twenty minutes to each trip for the lorries that carry it inland.";
const ADDED: &str = "On Tuesday the board said a temporary crane would be installed at the new pier within a fortnight, after complaints from the fishermen's association.";

fn rss(paragraphs: &[&str]) -> Served {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("&lt;p&gt;{p}&lt;/p&gt;"))
        .collect();
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>Harbour News</title>\
             <item><guid>quay-1</guid><title>Old fish quay closed to lorries</title>\
             <link>http://harbour.example/quay</link>\
             <pubDate>Mon, 01 Dec 2025 09:00:00 GMT</pubDate>\
             <description>{body}</description></item></channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

fn wirefeed(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("the wirefeed binary runs");
    assert!(
        out.status.success(),
        "wirefeed {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_place_edit_moves_updated_counts_a_revision_and_shows_the_change() {
    let server =
        FeedServer::start(HashMap::from([("h.xml".to_string(), rss(&[P1, P2, P3]))])).await;
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        common::free_port(),
        &[("harbour".into(), server.url("h.xml"))],
        "[[feeds]]\nname = \"all\"\n\n[[feeds]]\nname = \"quiet\"\nshow_changes = false\n",
    );
    let cfg = config.clone();
    let run = move |args: &'static [&'static str]| {
        let cfg = cfg.clone();
        async move {
            tokio::task::spawn_blocking(move || wirefeed(&cfg, args))
                .await
                .unwrap()
        }
    };
    run(&["fetch"]).await;
    let first: serde_json::Value =
        serde_json::from_str(&run(&["stories", "--json"]).await).unwrap();
    let s = &first[0];
    assert_eq!(s["updated"], s["published"], "never changed: {s}");
    assert_eq!(s["revisions"].as_array().unwrap().len(), 1, "{s}");
    let id = s["id"].as_str().unwrap().to_string();

    // The same item, a paragraph added, its date unchanged.
    server.set("h.xml", rss(&[P1, P2, ADDED, P3]));
    run(&["fetch"]).await;
    let after: serde_json::Value =
        serde_json::from_str(&run(&["stories", "--json"]).await).unwrap();
    let s = &after[0];
    assert_eq!(s["id"], id.as_str(), "the same story");
    let published = chrono::DateTime::parse_from_rfc3339(s["published"].as_str().unwrap()).unwrap();
    let updated = chrono::DateTime::parse_from_rfc3339(s["updated"].as_str().unwrap()).unwrap();
    assert!(
        updated > published,
        "updated moved to when it was seen: {s}"
    );
    let revisions = s["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2, "{s}");
    assert_eq!(revisions[1]["revision"], 2);
    assert_eq!(revisions[1]["added"], 1);
    assert_eq!(revisions[1]["removed"], 0);
    assert_eq!(revisions[1]["at"], s["updated"]);

    // Readers see it updated, with the note first.
    let atom = run(&["render", "all"]).await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).unwrap();
    let e = &feed.entries[0];
    assert_eq!(e.updated.unwrap().timestamp(), updated.timestamp());
    let body = e
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    assert!(
        body.starts_with("<p class=\"wirefeed-changes\"><em>Updated "),
        "{body}"
    );
    assert!(body.contains("1 paragraph added."), "{body}");
    assert!(
        body.contains("On Tuesday the board said a temporary crane"),
        "{body}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&run(&["render", "all", "--format", "json"]).await).unwrap();
    let item = &json["items"][0];
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(item["date_modified"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        updated.timestamp()
    );
    assert!(
        item["content_html"]
            .as_str()
            .unwrap()
            .contains("1 paragraph added")
    );
    let rss_out = run(&["render", "all", "--format", "rss"]).await;
    assert!(rss_out.contains("1 paragraph added"), "{rss_out}");
    // Switched off for one feed.
    let quiet = run(&["render", "quiet"]).await;
    assert!(!quiet.contains("wirefeed-changes"), "{quiet}");
    assert!(quiet.contains("temporary crane"));

    // The history, with the paragraph.
    let cfg = config.clone();
    let id2 = id.clone();
    let history = tokio::task::spawn_blocking(move || wirefeed(&cfg, &["story", &id2]))
        .await
        .unwrap();
    assert!(history.contains("revision 2"), "{history}");
    assert!(history.contains(&format!("    + {ADDED}")), "{history}");

    // Fetched again unchanged: no new revision.
    run(&["fetch"]).await;
    let again: serde_json::Value =
        serde_json::from_str(&run(&["stories", "--json"]).await).unwrap();
    assert_eq!(again[0]["revisions"].as_array().unwrap().len(), 2);
    assert_eq!(again[0]["updated"], after[0]["updated"]);
}
