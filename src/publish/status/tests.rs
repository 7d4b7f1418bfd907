//! The status page's views: order, paging, narrowing, names.

use super::*;

fn config(n: usize) -> Config {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[[sources]]\nname = \"s{i}\"\nurl = \"https://o{i}.example/rss\"\n{}\n",
            if i == 5 { "enabled = false\n" } else { "" }
        ));
    }
    text.push_str(
        "[[feeds]]\nname = \"wire\"\n\n[[feeds]]\nname = \"world\"\ntitle = \"World news\"\n",
    );
    Config::parse(&text, std::path::Path::new("/tmp/w.toml")).unwrap()
}

fn rows(config: &Config) -> Vec<SourceOverview> {
    config
        .sources
        .iter()
        .map(|s| SourceOverview {
            name: s.name.clone(),
            url: s.url.to_string(),
            consecutive_errors: match s.name.as_str() {
                "s70" => 2,
                "s3" => 5,
                _ => 0,
            },
            last_outcome: Some("new".into()),
            ..Default::default()
        })
        .collect()
}

fn source_ids(page: &str) -> Vec<&str> {
    page.match_indices("<tr id=\"source-")
        .map(|(i, _)| {
            let rest = &page[i + 15..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

fn page(config: &Config, query: &str) -> String {
    let view = StatusView::from_query(Some(query));
    render_status(config, &rows(config), &[], Utc::now(), &view)
}

#[test]
fn failing_sources_come_first_and_long_lists_are_paged() {
    let c = config(120);
    let first = page(&c, "");
    let ids = source_ids(&first);
    assert_eq!(ids.len(), PAGE_SIZE);
    assert_eq!(&ids[..4], ["s3", "s70", "s0", "s1"]);
    assert!(first.contains("page 1 of 3"), "{first}");
    assert!(
        !first.contains("source-s99\""),
        "later pages are not on the first"
    );
    let third = page(&c, "page=3");
    assert_eq!(source_ids(&third).len(), 20);
    assert!(first.len() < 40_000, "{} bytes", first.len());
}

#[test]
fn views_narrow_the_list_by_state_and_name() {
    let c = config(120);
    assert_eq!(source_ids(&page(&c, "show=failing")), ["s3", "s70"]);
    assert_eq!(source_ids(&page(&c, "show=disabled")), ["s5"]);
    let found = page(&c, "q=S11");
    assert_eq!(
        source_ids(&found),
        [
            "s11", "s110", "s111", "s112", "s113", "s114", "s115", "s116", "s117", "s118", "s119"
        ]
    );
    assert!(found.contains("disabled (1)") && found.contains("failing (2)"));
    let disabled = page(&c, "show=disabled");
    assert!(disabled.contains("<span class=\"badge muted\">disabled</span>"));
}

#[test]
fn a_feed_without_a_title_is_named_once() {
    let c = config(1);
    let p = page(&c, "");
    assert!(p.contains("<td><strong>wire</strong><"), "{p}");
    assert!(!p.contains("<strong>wire</strong> <span class=\"muted\">wire</span>"));
    assert!(p.contains("<strong>World news</strong> <span class=\"muted\">world</span>"));
}
