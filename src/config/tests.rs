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

fn parse_env(text: &str, dir: &Path) -> Result<Config, ConfigError> {
    let env = |name: &str| match name {
        "FEED_KEY" => Some("k3y-from-the-environment".to_string()),
        "CREDENTIALS_DIRECTORY" => Some(dir.display().to_string()),
        _ => None,
    };
    Config::parse_with_env(text, &dir.join("wirefeed.toml"), &env)
}

#[test]
fn private_source_options_come_from_the_file_secret_files_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret-pass\n").unwrap();
    std::fs::write(
        dir.path().join("headers"),
        "# for the paid feed\nX-Api-Key: header-s3cret\n\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("token"), "reader-token-0123456789\n").unwrap();
    let text = r#"
[server]
listen = "0.0.0.0:8080"
token_file = "${CREDENTIALS_DIRECTORY}/token"
admin_token = "admin-token-0123456789"

[fetch]
secret_params = ["member"]
user_agent = "my-reader/1.0 (+https://me.example/)"
proxy = "http://127.0.0.1:3128"

[[sources]]
name = "basic"
url = "https://paid.example/feed?member=42&section=world"
username = "me"
password_file = "pw"

[[sources]]
name = "header"
url = "https://api.example/feed/${FEED_KEY}"
headers = { Authorization = "Bearer ${FEED_KEY}" }
headers_file = "${CREDENTIALS_DIRECTORY}/headers"
user_agent = "special/2"
proxy = "none"

[[sources]]
name = "cookie"
url = "https://u%40x:p%3Aw@c.example/rss?key=K"
cookie = "session=cookie-s3cret; theme=dark"

[[feeds]]
name = "all"
"#;
    let c = parse_env(text, dir.path()).unwrap();
    assert_eq!(
        c.server.token.as_ref().unwrap().expose(),
        "reader-token-0123456789"
    );
    assert_eq!(
        c.server.admin_token.as_ref().unwrap().expose(),
        "admin-token-0123456789"
    );
    assert_eq!(
        c.fetch.user_agent.as_deref(),
        Some("my-reader/1.0 (+https://me.example/)")
    );

    let basic = &c.sources[0];
    assert_eq!(basic.access.username.as_deref(), Some("me"));
    assert_eq!(
        basic.access.password.as_ref().unwrap().expose(),
        "s3cret-pass"
    );
    assert_eq!(
        basic.access.proxy.as_ref().unwrap().as_str(),
        "http://127.0.0.1:3128/"
    );
    assert_eq!(
        basic.public_url().unwrap().as_str(),
        "https://paid.example/feed?section=world"
    );

    let header = &c.sources[1];
    let headers: Vec<(&str, &str)> = header
        .access
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.expose()))
        .collect();
    assert_eq!(
        headers,
        vec![
            ("Authorization", "Bearer k3y-from-the-environment"),
            ("X-Api-Key", "header-s3cret")
        ]
    );
    assert_eq!(header.access.user_agent.as_deref(), Some("special/2"));
    assert_eq!(header.access.proxy, None, "proxy = \"none\" goes direct");
    // A value that reached the URL from the environment is secret, in the path too.
    assert_eq!(
        header.public_url().unwrap().as_str(),
        "https://api.example/feed/redacted"
    );

    let cookie = &c.sources[2];
    assert_eq!(cookie.access.username.as_deref(), Some("u@x"));
    assert_eq!(cookie.access.password.as_ref().unwrap().expose(), "p:w");
    assert_eq!(
        cookie.public_url().unwrap().as_str(),
        "https://c.example/rss"
    );
    assert!(cookie.has_credentials());
    assert_eq!(
        cookie.redactor.scrub_content("echo: cookie-s3cret"),
        "echo: redacted"
    );
    // Nothing secret in a printed config.
    let debug = format!("{c:?}");
    for secret in [
        "s3cret-pass",
        "header-s3cret",
        "cookie-s3cret",
        "reader-token",
        "admin-token",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    // A token is set, so exposing the port draws no warning; the short-token check is quiet.
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn bad_credentials_and_unset_variables_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[server]
token = "same-token-0123456789"
admin_token = "same-token-0123456789"

[fetch]
proxy = "socks5://127.0.0.1:1080"
secret_params = ["a=b"]

[[sources]]
name = "a"
url = "https://a.example/feed"
password = "pw"
headers = { Host = "evil.example", "X-Ok" = "line\nbreak" }

[[sources]]
name = "b"
url = "https://u:p@b.example/feed"
username = "other"
cookie = "${NOT_SET}"

[[sources]]
name = "c"
url = "file:feeds/c.xml"
cookie = "x=1"
password_file = "missing-file"

[[sources]]
name = "d"
url = "https://d.example/feed"
username = "me"
headers = { Authorization = "Bearer t" }
"#;
    let p = match parse_env(text, dir.path()) {
        Err(e) => e
            .diagnostics()
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(_) => panic!("should fail"),
    };
    assert!(
        p.contains(":4:15: admin_token must differ from token"),
        "{p}"
    );
    assert!(
        p.contains(":7:9: proxy scheme \"socks5\" is not supported"),
        "{p}"
    );
    assert!(p.contains(":8:18: secret_params entry \"a=b\""), "{p}");
    assert!(p.contains(":13:12: a password needs a username"), "{p}");
    assert!(p.contains("header Host cannot be set"), "{p}");
    assert!(
        p.contains("the value of header X-Ok has a line break"),
        "{p}"
    );
    assert!(
        p.contains(":19:12: credentials are given both in the URL"),
        "{p}"
    );
    assert!(
        p.contains(":20:11: environment variable NOT_SET is not set (used as `${NOT_SET}`)"),
        "{p}"
    );
    assert!(
        p.contains(":25:10: cookie has no effect on a file: source"),
        "{p}"
    );
    assert!(p.contains("cannot read password_file"), "{p}");
    assert!(
        p.contains(":32:11: an Authorization header is also given by username/password"),
        "{p}"
    );
}

#[test]
fn serving_private_sources_to_the_network_without_a_token_is_a_warning() {
    let text = "[server]\nlisten = \"0.0.0.0:8080\"\n\n[[sources]]\nname = \"paid\"\nurl = \"https://p.example/feed?token=abc\"\n[[feeds]]\nname = \"all\"\n";
    let c = parse(text).unwrap();
    let w: Vec<String> = c.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("/etc/wirefeed/test.toml:2:10: warning: listen 0.0.0.0:8080 is reachable"),
        "{w:?}"
    );
    assert!(w[0].contains("source paid uses credentials"), "{w:?}");
    // On loopback, or without private sources, nothing to say …
    assert!(
        parse(&text.replace("0.0.0.0", "127.0.0.1"))
            .unwrap()
            .warnings
            .is_empty()
    );
    assert!(
        parse(&text.replace("?token=abc", ""))
            .unwrap()
            .warnings
            .is_empty()
    );
    let proxied = text.replace(
        "0.0.0.0:8080\"\n",
        "127.0.0.1:8080\"\nbase_url = \"https://feeds.example/\"\n",
    );
    let w = parse(&proxied).unwrap().warnings;
    // … unless a reverse proxy publishes the server under a public address.
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].to_string()
            .contains(":3:12: warning: base_url https://feeds.example/ says"),
        "{w:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_readable_file_holding_credentials_is_a_warning_but_one_using_the_environment_is_not() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wirefeed.toml");
    let write = |text: &str, mode: u32| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        Config::load(&path).unwrap().warnings
    };
    let inline = "[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\nusername = \"me\"\npassword = \"hunter22\"\n[[feeds]]\nname = \"all\"\n";
    let w = write(inline, 0o644);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].message
            .contains("holds credentials (password of source a)"),
        "{w:?}"
    );
    assert!(
        w[0].message
            .contains("readable by group and others (mode 0644)"),
        "{w:?}"
    );
    assert!(write(inline, 0o600).is_empty());
    // The password comes from the environment: the file holds none.
    let from_env = inline.replace("hunter22", "${HOME}");
    assert!(write(&from_env, 0o644).is_empty());
}

#[test]
fn short_tokens_are_a_warning_and_bad_ones_an_error() {
    let c = parse(
        "[server]\ntoken = \"abc\"\n[[sources]]\nname = \"a\"\nurl = \"https://a.example/\"\n\
         [[feeds]]\nname = \"all\"\n",
    )
    .unwrap();
    let w: Vec<String> = c.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains(":2:9: warning: token has 3 characters"),
        "{w:?}"
    );
    let p = problems("[server]\ntoken = \"has space\"\nadmin_token = \"\"\n").join("\n");
    assert!(p.contains(":2:9: token must be printable ASCII"), "{p}");
    assert!(
        p.contains(":3:15: admin_token must be printable ASCII"),
        "{p}"
    );
}

#[test]
fn per_source_switch_filters_and_interval_bounds_are_read() {
    let c = parse(
        r#"
[[sources]]
name = "paused"
url = "https://example.org/rss"
enabled = false
include = ["flood", "quake"]
exclude = ["(?i)sport"]
min_interval = "10m"
max_interval = "2h"

[[sources]]
name = "plain"
url = "https://example.org/other"
"#,
    )
    .unwrap();
    let (paused, plain) = (&c.sources[0], &c.sources[1]);
    assert!(!paused.enabled && plain.enabled);
    assert_eq!(paused.include, ["flood", "quake"]);
    assert_eq!(paused.exclude, ["(?i)sport"]);
    assert_eq!(paused.hints.min, Some(Duration::from_secs(600)));
    assert_eq!(paused.hints.max, Some(Duration::from_secs(7200)));
    assert_eq!(plain.hints, crate::schedule::HintBounds::default());
    assert!(plain.include.is_empty() && plain.exclude.is_empty());
}

#[test]
fn bad_source_filters_and_crossed_interval_bounds_are_located() {
    let p = problems(
        r#"[[sources]]
name = "s"
url = "https://example.org/rss"
include = ["(unclosed"]
min_interval = "2h"
max_interval = "10m"
"#,
    );
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("/etc/wirefeed/test.toml:4:12: invalid pattern"),
        "{p:?}"
    );
    assert!(
        p[1].starts_with(
            "/etc/wirefeed/test.toml:6:16: max_interval \"10m\" is shorter than min_interval (2h)"
        ),
        "{p:?}"
    );
}

#[test]
fn the_page_cache_is_sized_by_config_within_bounds() {
    assert_eq!(parse("").unwrap().storage.cache_mb, DEFAULT_CACHE_MB);
    assert_eq!(
        parse("[storage]\ncache_mb = 8\n").unwrap().storage.cache_mb,
        8
    );
    let p = problems("[storage]\ncache_mb = 0\n");
    assert!(
        p.iter()
            .any(|p| p.contains("2:12") && p.contains("cache_mb")),
        "{p:?}"
    );
}
