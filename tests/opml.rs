//! OPML in and out with the real binary: `GET /opml` and `opml export` list the sources;
//! `opml import` adds a reader's subscriptions to the config file without touching the
//! user's comments, and the running daemon picks them up.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Daemon, FeedServer, Served};

fn rss(title: &str) -> Served {
    Served {
        body: format!(
            "<rss version=\"2.0\"><channel><title>{title}</title><item><guid>1</guid>\
             <title>{title} story</title><link>http://example.org/{title}</link></item>\
             </channel></rss>"
        )
        .into(),
        content_type: "application/rss+xml".into(),
        ..Default::default()
    }
}

fn wirefeed(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// (text, xmlUrl, category) of every outline, read with Python's standard XML parser.
fn outlines(opml: &str) -> Vec<(String, String, String)> {
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
assert root.tag == "opml" and root.get("version") == "2.0", root.tag
print(json.dumps([[o.get("text"), o.get("xmlUrl"), o.get("category") or ""]
                  for o in root.iter("outline")]))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(opml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not OPML 2.0: {opml}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_lists_sources_and_import_adds_them_to_the_running_daemon() {
    let server = FeedServer::start(HashMap::from([
        ("a.xml".to_string(), rss("Alpha")),
        ("b.xml".to_string(), rss("Beta")),
    ]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let config = common::write_config(
        dir.path(),
        port,
        &[("alpha".to_string(), server.url("a.xml"))],
        "# my feeds, hand-written\n[[feeds]]\nname = \"all\"  # everything\n",
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("*/15 * * * *", "* * * * * *");
    std::fs::write(&config, &text).unwrap();
    let daemon = Daemon::start(&config, port);

    // Out: the HTTP document and the command agree, and list the one source.
    let resp = common::client()
        .get(format!("{}/opml", daemon.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/x-opml; charset=utf-8"
    );
    let served = resp.text().await.unwrap();
    let out = wirefeed(&config, &["opml", "export"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), served);
    assert_eq!(
        outlines(&served),
        vec![("alpha".into(), server.url("a.xml"), String::new())]
    );

    // In: a reader's export with a folder, the source we have, and a new one.
    let opml = dir.path().join("reader.opml");
    std::fs::write(
        &opml,
        format!(
            "<?xml version=\"1.0\"?><opml version=\"1.0\"><head><title>Reader</title></head><body>\
             <outline text=\"Wires\"><outline type=\"rss\" text=\"Beta News\" xmlUrl=\"{}\"/>\
             <outline type=\"rss\" text=\"Alpha again\" xmlUrl=\"{}\"/></outline></body></opml>",
            server.url("b.xml"),
            server.url("a.xml")
        ),
    )
    .unwrap();
    let out = wirefeed(&config, &["opml", "import", opml.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("added beta-news"), "{stdout}");
    assert!(stdout.contains("already a source"), "{stdout}");
    assert!(stdout.contains("asked the running daemon"), "{stdout}");
    let edited = std::fs::read_to_string(&config).unwrap();
    assert!(edited.starts_with(&text[..text.find("[[sources]]").unwrap()]));
    assert!(edited.contains("# my feeds, hand-written\n[[feeds]]\nname = \"all\"  # everything\n"));
    assert!(edited.contains("tags = [\"Wires\"]"), "{edited}");
    let check = wirefeed(&config, &["check"]);
    assert!(check.status.success());

    // The daemon reloaded and now carries the new source's story.
    let feed = format!("{}/feeds/all.atom", daemon.base);
    let mut titles = Vec::new();
    for _ in 0..200 {
        let body = common::client()
            .get(&feed)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        titles = feed_rs::parser::parse(&body[..])
            .unwrap()
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect::<Vec<_>>();
        if titles.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    titles.sort();
    assert_eq!(
        titles,
        ["Alpha story", "Beta story"],
        "log:\n{}",
        daemon.log()
    );

    // Importing again adds nothing and leaves the file as it is.
    let out = wirefeed(&config, &["opml", "import", opml.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);

    // Not OPML: a clear error, exit 2, the config untouched.
    std::fs::write(&opml, "<rss version=\"2.0\"/>").unwrap();
    let out = wirefeed(&config, &["opml", "import", opml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an OPML document"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
}
