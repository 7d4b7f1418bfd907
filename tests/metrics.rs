//! `GET /metrics` from the running daemon, read by the reference Python client's OpenMetrics
//! parser (prometheus_client, installed by scripts/test): fetch outcomes, latency, entries,
//! stories, sources in backoff, database size, build info.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Daemon, FeedServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_fetches_entries_and_failing_sources() {
    let server = FeedServer::start(HashMap::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let feed = common::fixture("feeds/rss20.xml");
    let config = common::write_config(
        dir.path(),
        port,
        &[
            ("herald".to_string(), format!("file://{}", feed.display())),
            ("gone".to_string(), server.url("missing.xml")),
        ],
        "[[feeds]]\nname = \"all\"\n",
    );
    let daemon = Daemon::start(&config, port);
    let url = format!("{}/metrics", daemon.base);
    let script = r#"
import json, sys, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
with urllib.request.urlopen(sys.argv[1]) as r:
    ctype = r.headers["Content-Type"]
    text = r.read().decode()
out = {"content_type": ctype, "samples": []}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        out["samples"].append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut samples: Vec<(String, HashMap<String, String>, f64)> = Vec::new();
    let value = |samples: &[(String, HashMap<String, String>, f64)],
                 name: &str,
                 label: Option<(&str, &str)>| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
            })
            .map(|s| s.2)
    };
    for _ in 0..200 {
        let out = Command::new("python3")
            .args(["-c", script, &url])
            .output()
            .expect("python3 must be installed");
        assert!(
            out.status.success(),
            "the OpenMetrics parser rejected /metrics (scripts/test installs prometheus_client): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["content_type"]
                .as_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        samples = serde_json::from_value(v["samples"].clone()).unwrap();
        if value(
            &samples,
            "wirefeed_fetches_total",
            Some(("outcome", "error")),
        )
        .is_some()
            && value(&samples, "wirefeed_fetches_total", Some(("outcome", "new"))).is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        value(&samples, "wirefeed_fetches_total", Some(("outcome", "new"))),
        Some(1.0),
        "{samples:?}"
    );
    assert_eq!(
        value(
            &samples,
            "wirefeed_fetches_total",
            Some(("outcome", "error"))
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "wirefeed_entries_total", Some(("change", "new"))),
        Some(4.0)
    );
    assert_eq!(
        value(&samples, "wirefeed_stories_total", Some(("change", "new"))),
        Some(4.0)
    );
    assert_eq!(value(&samples, "wirefeed_sources", None), Some(2.0));
    assert_eq!(
        value(&samples, "wirefeed_sources_in_backoff", None),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "wirefeed_fetch_duration_seconds_count", None),
        Some(2.0)
    );
    assert!(value(&samples, "wirefeed_database_bytes", None).unwrap() > 0.0);
    assert_eq!(
        value(
            &samples,
            "wirefeed_build_info",
            Some(("version", env!("CARGO_PKG_VERSION")))
        ),
        Some(1.0)
    );
}
