use super::*;

fn public(r: &Redactor, u: &str) -> Option<String> {
    r.public_url(&Url::parse(u).unwrap()).map(String::from)
}

#[test]
fn userinfo_and_secret_parameters_never_show() {
    let r = Redactor::default();
    let cases = [
        (
            "https://user:pass@news.example/feed?key=SECRET",
            "https://news.example/feed",
        ),
        (
            "https://news.example/feed?section=world&api_key=1&Token=2&page=3",
            "https://news.example/feed?section=world&page=3",
        ),
        (
            "https://news.example/feed?API-KEY=1&x-amz-signature=2&sig=3&access_token=4",
            "https://news.example/feed",
        ),
        (
            "https://news.example/feed?my_secret=1&rss_token=2&userPassword=3",
            "https://news.example/feed",
        ),
        (
            "https://news.example/f?session=a&auth=b&signature=c&password=d",
            "https://news.example/f",
        ),
        // Nothing secret: the address is shown exactly as configured.
        (
            "https://news.example/feed?id=7&lang=en",
            "https://news.example/feed?id=7&lang=en",
        ),
        ("http://user@news.example/", "http://news.example/"),
    ];
    for (input, want) in cases {
        assert_eq!(public(&r, input).as_deref(), Some(want), "{input}");
    }
}

#[test]
fn local_and_odd_addresses_are_never_shown() {
    let r = Redactor::default();
    assert_eq!(public(&r, "file:///home/me/feeds/private.xml"), None);
    assert_eq!(public(&r, "ftp://user:pw@host/feed"), None);
    assert_eq!(r.public_link("not a url"), None);
    assert_eq!(r.public_link("javascript:alert(1)"), None);
}

#[test]
fn configured_parameter_names_join_the_list() {
    let r = Redactor::new(&["member".into(), "X-Reader-*".into()]);
    assert_eq!(
        public(&r, "https://h.example/f?member=1&x-reader-id=2&x=3").as_deref(),
        Some("https://h.example/f?x=3")
    );
    assert!(!Redactor::default().is_secret_param("colour"));
    assert!(r.is_secret_param("MEMBER"));
}

#[test]
fn known_values_go_wherever_they_appear() {
    let r = Redactor::default().with_values(["p4th-s3cret".to_string(), "hunter2".to_string()]);
    assert_eq!(
        public(
            &r,
            "https://h.example/feeds/p4th-s3cret/rss?innocent=hunter2&x=1"
        )
        .as_deref(),
        Some("https://h.example/feeds/redacted/rss?x=1")
    );
    assert_eq!(
        r.scrub("HTTP 401 from https://h.example/feeds/p4th-s3cret/rss (password hunter2)"),
        "HTTP 401 from https://h.example/feeds/redacted/rss (password redacted)"
    );
}

#[test]
fn messages_lose_urls_credentials_and_local_paths() {
    let r = Redactor::default();
    assert_eq!(
        r.scrub("error sending request for url (http://u:pw@127.0.0.1:9/feed?key=K): refused."),
        "error sending request for url (http://127.0.0.1:9/feed): refused."
    );
    assert_eq!(
        r.scrub("cannot read file:///home/me/private.xml, giving up"),
        "cannot read a local file, giving up"
    );
    assert_eq!(r.scrub("no urls here"), "no urls here");
    assert_eq!(r.scrub("odd ://x and http://"), "odd ://x and http://");
}

#[test]
fn echoed_secrets_are_scrubbed_from_entries_but_short_words_stay() {
    let r = Redactor::default().with_values([
        "CANARY-7f3a9b".to_string(),
        "london".to_string(),
        "a b".to_string(),
    ]);
    assert_eq!(
        r.scrub_content("<a href=\"https://h.example/a?key=CANARY-7f3a9b\">x</a> in london"),
        "<a href=\"https://h.example/a?key=redacted\">x</a> in london"
    );
    assert_eq!(
        r.scrub_link("https://me:pw@h.example/a?id=1&k=CANARY-7f3a9b"),
        "https://h.example/a?id=1"
    );
    // The form-encoded value ("a+b") is known too.
    assert_eq!(
        r.scrub_link("https://h.example/a?k=a+b&x=1"),
        "https://h.example/a?x=1"
    );
    assert_eq!(
        Redactor::default().scrub_link("https://h.example/a?key=1"),
        "https://h.example/a?key=1"
    );
}

#[test]
fn secrets_do_not_show_in_debug_or_display() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?} {s}"), "Secret(\"redacted\") redacted");
    let r = Redactor::default().with_values(["hunter2".to_string()]);
    assert!(!format!("{r:?}").contains("hunter2"));
}
