use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/wirefeed/test.toml"))
}

fn problems(text: &str) -> Vec<String> {
    parse(text)
        .unwrap_err()
        .diagnostics()
        .iter()
        .map(|d| d.to_string())
        .collect()
}

const GOOD: &str = r#"
[server]
listen = "127.0.0.1:9000"
base_url = "http://news.example.org/wire"

[fetch]
schedule = "*/10 * * * *"

[[sources]]
name = "one"
url = "https://example.org/rss"
tags = ["world"]

[[sources]]
name = "two"
url = "file:feeds/two.xml"
schedule = "0 */2 * * *"

[[feeds]]
name = "world"
title = "World"
tags = ["world"]
limit = 5

[[feeds]]
name = "all"
"#;

#[test]
fn a_good_file_gets_defaults_and_resolved_references() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.server.base_url.as_str(), "http://news.example.org/wire/");
    assert_eq!(
        c.storage.database,
        PathBuf::from("/etc/wirefeed/wirefeed.db")
    );
    assert_eq!(c.fetch.timeout, Duration::from_secs(30));
    assert_eq!(c.fetch.max_body, 16 * 1024 * 1024);
    assert_eq!(c.fetch.concurrency, 32);
    assert_eq!(c.sources[0].schedule.as_str(), "*/10 * * * *");
    assert_eq!(c.sources[1].schedule.as_str(), "0 */2 * * *");
    assert_eq!(
        c.sources[1].url.as_str(),
        "file:///etc/wirefeed/feeds/two.xml"
    );
    assert_eq!(c.feed("world").unwrap().sources, vec!["one"]);
    assert_eq!(c.feed("all").unwrap().sources, vec!["one", "two"]);
    assert_eq!(c.feed("all").unwrap().limit, 100);
}

#[test]
fn an_empty_file_is_a_valid_config() {
    let c = parse("").unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.server.base_url.as_str(), "http://127.0.0.1:8080/");
}

#[test]
fn unknown_key_and_bad_cron_are_both_reported_with_lines() {
    let text = "[fetch]\nschedul = \"*/5 * * * *\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\nschedule = \"every tuesday\"\n";
    let p = problems(text);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("/etc/wirefeed/test.toml:2:1: unknown key `fetch.schedul`"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with("/etc/wirefeed/test.toml:7:12: invalid cron expression"),
        "{p:?}"
    );
}

#[test]
fn unknown_keys_inside_array_tables_are_located() {
    let text = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\n[[sources]]\nname = \"b\"\nurl = \"https://b.example/\"\ncolour = \"red\"\n";
    let p = problems(text);
    assert_eq!(
        p,
        vec!["/etc/wirefeed/test.toml:8:1: unknown key `sources.1.colour`"]
    );
}

#[test]
fn duplicate_names_bad_urls_and_unknown_feed_sources_are_errors() {
    let text = r#"
[[sources]]
name = "a"
url = "https://a.example/"
[[sources]]
name = "a"
url = "ftp://b.example/"
[[sources]]
name = "c"
url = "not a url"
[[feeds]]
name = "f"
sources = ["a", "zzz"]
"#;
    let p = problems(text).join("\n");
    assert!(p.contains(":6:8: duplicate source name \"a\""), "{p}");
    assert!(p.contains(":7:7: unsupported URL scheme \"ftp\""), "{p}");
    assert!(p.contains(":10:7: invalid URL \"not a url\""), "{p}");
    assert!(
        p.contains(":13:17: feed \"f\" names unknown source \"zzz\""),
        "{p}"
    );
}

#[test]
fn type_errors_and_syntax_errors_are_located() {
    let p = problems("[fetch]\nconcurrency = \"many\"\n");
    assert!(p[0].starts_with("/etc/wirefeed/test.toml:2:15:"), "{p:?}");
    let p = problems("[fetch\n");
    assert!(p[0].starts_with("/etc/wirefeed/test.toml:1:"), "{p:?}");
}

#[test]
fn bad_durations_sizes_and_listen_addresses_are_errors() {
    let p = problems("[server]\nlisten = \"localhost\"\n[fetch]\ntimeout = \"soon\"\nmax_body = \"lots\"\nper_host = 0\n").join("\n");
    assert!(p.contains(":2:10: listen address"), "{p}");
    assert!(p.contains(":4:11: invalid duration"), "{p}");
    assert!(p.contains(":5:12: invalid size"), "{p}");
    assert!(p.contains(":6:12: per_host must be at least 1"), "{p}");
}

#[test]
fn missing_required_source_fields_are_reported() {
    let p = problems("[[sources]]\nname = \"a\"\n");
    assert!(p[0].contains("missing field `url`"), "{p:?}");
}

#[test]
fn source_rules_and_clean_settings_are_validated() {
    let text = r#"
[clean]
learn_after = 4
drop = ["(?i)^advertisement$"]

[[sources]]
name = "a"
url = "https://a.example/rss"
remove = [".share", "aside.newsletter"]
keep = ["article"]
drop = ["^Sign up"]
"#;
    let c = parse(text).unwrap();
    assert_eq!(c.clean.learn_after, 4);
    assert_eq!(
        c.sources[0].rules.remove,
        vec![".share", "aside.newsletter"]
    );
    let bad = r#"
[clean]
keep = ["(unclosed"]

[[sources]]
name = "a"
url = "https://a.example/rss"
remove = ["div[[["]
"#;
    let p = problems(bad).join("\n");
    assert!(p.contains(":3:9: invalid pattern \"(unclosed\""), "{p}");
    assert!(p.contains(":8:11: invalid CSS selector \"div[[[\""), "{p}");
}

#[test]
fn absurd_durations_bad_base_urls_and_bad_allow_hosts_are_refused() {
    let text = "[server]\nbase_url = \"http://x.example/?a=1\"\n[fetch]\nmax_backoff = \"1000000y\"\nallow_hosts = [\"http://127.0.0.1/\", \"127.0.0.1\", \"::1\", \"feeds.local\"]\n";
    let p = problems(text).join("\n");
    assert!(p.contains(":2:12: base_url"), "{p}");
    assert!(p.contains(":4:15: duration must be at most a year"), "{p}");
    assert!(
        p.contains(":5:16: allow_hosts entry \"http://127.0.0.1/\""),
        "{p}"
    );
    assert_eq!(p.lines().count(), 3, "{p}");
}
