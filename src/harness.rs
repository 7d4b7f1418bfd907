//! Entry points that must never panic, hang or blow up on any input: the fuzz targets under
//! `fuzz/` call them, and `tests/fuzz_regressions.rs` replays every input that once broke
//! one (`fuzz/regressions/TARGET/`), so a fixed crash stays fixed.
//!
//! Each runs a whole stage the way the daemon does, on bytes from outside: a feed document,
//! an article page, a config file, an HTTP request's path and headers.

use std::path::Path;

use axum::http::{HeaderMap, HeaderValue, header};
use url::Url;

use crate::clean::Cleaner;
use crate::parse::{ParseLimits, parse_feed};

/// Feed bytes → parse → clean every entry → fingerprint it, as an ingest does; then publish
/// what came out (media included) in every format and as a web page.
pub fn feed_bytes(data: &[u8]) {
    let base = Url::parse("https://fuzz.example/feed.xml").expect("literal URL");
    let limits = ParseLimits {
        max_entries: 200,
        max_field: 256 * 1024,
    };
    let Ok(feed) = parse_feed(data, None, Some(base.as_str()), limits) else {
        return;
    };
    let cleaner = Cleaner::default();
    let mut stories = Vec::new();
    for raw in &feed.entries {
        let clean = cleaner.clean(raw, &base, &|_| false);
        let fp = crate::dedup::fingerprint(&clean.entry.title, &clean.blocks);
        std::hint::black_box(
            crate::dedup::Dedup::new(Default::default()).keys(clean.entry.link.as_deref(), &fp),
        );
        stories.push(crate::model::StoredStory::single(
            crate::model::StoredEntry {
                public_id: format!("urn:uuid:{}", stories.len()),
                source_name: "fuzz".into(),
                link: clean.entry.link,
                title: clean.entry.title,
                summary: clean.entry.summary,
                content: clean.entry.content,
                categories: clean.entry.categories,
                media: clean.entry.media,
                ..Default::default()
            },
        ));
    }
    let mut info = crate::publish::FeedInfo::named("fuzz", "Fuzz");
    info.podcast = feed.meta.podcast;
    let site = Url::parse("http://127.0.0.1:8080/").expect("literal URL");
    for format in crate::publish::Format::ALL {
        std::hint::black_box(format.render(&info, &site, &stories));
        std::hint::black_box(crate::publish::html::render_html(
            &info, &site, &stories, format,
        ));
    }
}

/// Page bytes → charset decoding → article extraction, as `wirefeed extract` does.
pub fn html_page(data: &[u8]) {
    let html = crate::parse::encoding::decode_html(data, None);
    std::hint::black_box(crate::clean::extract::extract(
        &html,
        Some("https://fuzz.example/news/story"),
    ));
}

/// Config text → validation, as `wirefeed check` does (no file is read or written).
pub fn config_text(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text, Path::new("/fuzz/wirefeed.toml"));
    }
}

/// An HTTP request's path and headers → the server's own parsing: which feed document, which
/// archive page, which content coding, whether the client's copy is current, whether a
/// browser asks. Lines: path, Accept-Encoding, If-None-Match, If-Modified-Since, Accept.
pub fn http_request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (name, line) in [
        header::ACCEPT_ENCODING,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::ACCEPT,
    ]
    .into_iter()
    .zip(lines)
    {
        if let Ok(v) = HeaderValue::from_str(line) {
            headers.insert(name, v);
        }
    }
    let file = path.rsplit('/').next().unwrap_or_default();
    std::hint::black_box(crate::publish::server::feed_file(file));
    std::hint::black_box(crate::publish::server::archive_file(file));
    crate::publish::server::exercise_headers(&headers);
}
