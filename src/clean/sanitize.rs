//! HTML sanitising with ammonia: an allowlist fit for news, and nothing executable.
//!
//! Allowlisting (rather than removing known-bad things) is the only approach that survives
//! inputs nobody thought of; ammonia parses with html5ever, so mis-nested and mixed-case tricks
//! are normalised before the allowlist is applied.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use url::Url;

const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
];

/// The allowlist, built once per thread: building it allocates a dozen hash sets, which
/// would otherwise be paid for every summary and body of every entry.
fn news_builder() -> Builder<'static> {
    let mut b = Builder::default();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(
            ["script", "style", "noscript", "template"]
                .into_iter()
                .collect(),
        )
        .generic_attributes(["lang", "dir", "title"].into_iter().collect())
        .tag_attributes(
            [
                ("a", ["href", "hreflang"].as_slice()),
                ("img", &["src", "alt", "width", "height"]),
                ("td", &["colspan", "rowspan"]),
                ("th", &["colspan", "rowspan", "scope"]),
                ("time", &["datetime"]),
                ("blockquote", &["cite"]),
                ("q", &["cite"]),
            ]
            .into_iter()
            .map(|(t, a)| (t, a.iter().copied().collect::<HashSet<_>>()))
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(|element, attribute, value| {
            if element == "a" && attribute == "href" {
                let joined = BASE.with(|b| b.borrow().as_ref().and_then(|b| b.join(value).ok()));
                if let Some(u) = joined.filter(|u| matches!(u.scheme(), "http" | "https")) {
                    return Some(super::urls::strip_tracking(&u).to_string().into());
                }
            }
            Some(value.into())
        });
    b
}

thread_local! {
    /// The base URL of the fragment being cleaned, for the attribute filter.
    static BASE: std::cell::RefCell<Option<Url>> = const { std::cell::RefCell::new(None) };
    static NEWS: std::cell::RefCell<Builder<'static>> = std::cell::RefCell::new(news_builder());
    static TEXT_ONLY: Builder<'static> = Builder::empty();
}

/// Sanitises `html`, making every URL absolute against `base`.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let html = &*super::depth::limit_nesting(html, super::depth::MAX_DEPTH);
    NEWS.with(|b| {
        let mut b = b.borrow_mut();
        BASE.with(|cell| *cell.borrow_mut() = Some(base.clone()));
        b.url_relative(UrlRelative::RewriteWithBase(base.clone()));
        b.clean(html).to_string()
    })
}

/// Plain text of an HTML fragment (tags dropped, entities decoded, whitespace collapsed).
pub fn html_to_text(html: &str) -> String {
    let html = &*super::depth::limit_nesting(html, super::depth::MAX_DEPTH);
    let text = if html.contains('<') || html.contains('&') {
        let stripped = TEXT_ONLY.with(|b| b.clean(html).to_string());
        unescape(&stripped)
    } else {
        html.to_string()
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes text for inclusion in HTML (element content or a quoted attribute).
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Undoes the escaping ammonia's serialiser applies to text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://news.example/a/b.html").unwrap()
    }

    #[test]
    fn executable_content_never_survives() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg><script>alert(1)</script></svg>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<form action=\"https://evil.example\"><input></form>",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
            "<base href=\"https://evil.example/\">",
            "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
            "<ScRiPt>alert(1)</sCrIpT>",
        ];
        for a in attacks {
            let out = sanitize_html(a, &base()).to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "data:",
                "<iframe",
                "style=",
                "<form",
                "<meta",
                "<base",
                "<object",
                "<embed",
                "<svg",
            ] {
                assert!(!out.contains(bad), "{a} -> {out}");
            }
        }
    }

    #[test]
    fn links_get_rel_and_absolute_urls() {
        let out = sanitize_html(
            "<a href=\"../c\">c</a><img src=\"/i.png\" alt=\"i\">",
            &base(),
        );
        assert_eq!(
            out,
            "<a href=\"https://news.example/c\" rel=\"noopener noreferrer\">c</a><img src=\"https://news.example/i.png\" alt=\"i\">"
        );
    }

    #[test]
    fn tracking_parameters_are_stripped_from_links_in_content() {
        let out = sanitize_html("<a href=\"/x?utm_source=feed&amp;id=3\">x</a>", &base());
        assert_eq!(
            out,
            "<a href=\"https://news.example/x?id=3\" rel=\"noopener noreferrer\">x</a>"
        );
    }

    #[test]
    fn text_extraction_decodes_entities() {
        assert_eq!(
            html_to_text("Tom &amp; <i>Jerry</i>\n  &lt;3"),
            "Tom & Jerry <3"
        );
        assert_eq!(html_to_text("plain  words"), "plain words");
    }
}
