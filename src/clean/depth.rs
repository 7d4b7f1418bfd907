//! A guard against pathologically nested HTML. Tens of thousands of nested elements make
//! HTML tree building quadratic (every tag checks the stack of open elements) and deep
//! recursions risky; a hostile or broken publisher can send exactly that. Past a depth no
//! real page reaches, tags are dropped and their text kept.

use std::borrow::Cow;

/// Deeper than any real article (they nest a few dozen levels).
pub const MAX_DEPTH: usize = 256;

/// Elements with no content: they never nest.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose end tag may be left out (`<p>`, `<li>`…): a page with thousands of
/// unclosed paragraphs is flat, not deep, so they are not counted.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "tbody", "thead", "tfoot",
    "colgroup", "caption", "rb", "rt", "rp", "rtc",
];

/// `html` with every tag that would open or close an element deeper than `max` removed
/// (text kept); borrowed unchanged when nothing is that deep, which is every real page.
pub fn limit_nesting(html: &str, max: usize) -> Cow<'_, str> {
    let b = html.as_bytes();
    // Cheap exit: fewer tags than the limit cannot nest deeper than it.
    if memchr::memchr_iter(b'<', b).take(max + 1).count() <= max {
        return Cow::Borrowed(html);
    }
    let mut out = String::new();
    let mut copied = 0;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let start = i + off;
        if html[start..].starts_with("<!--") {
            i = html[start..].find("-->").map_or(b.len(), |e| start + e + 3);
            continue;
        }
        let Some(len) = memchr::memchr(b'>', &b[start..]) else {
            break;
        };
        let end = start + len + 1;
        let inner = &html[start + 1..end - 1];
        let closing = inner.starts_with('/');
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let nests = !name.is_empty()
            && !inner.ends_with('/')
            && !VOID.contains(&name.as_str())
            && !OPTIONAL_END.contains(&name.as_str());
        if nests {
            let too_deep = if closing {
                let deep = depth > max;
                depth = depth.saturating_sub(1);
                deep
            } else {
                depth += 1;
                depth > max
            };
            if too_deep {
                out.push_str(&html[copied..start]);
                copied = end;
            }
        }
        i = end;
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_pages_pass_unchanged() {
        let p = "<p>one<p>two<br><img src=x><!-- <div><div> --><ul><li>a<li>b</ul>".repeat(100);
        assert!(matches!(limit_nesting(&p, 8), Cow::Borrowed(_)));
    }

    #[test]
    fn tags_past_the_limit_go_and_their_text_stays() {
        let deep = format!("{}core{}", "<div>".repeat(10), "</div>".repeat(10));
        let out = limit_nesting(&deep, 3);
        assert_eq!(
            out,
            format!("{}core{}", "<div>".repeat(3), "</div>".repeat(3))
        );
        let unclosed = format!("<section>{}text", "<span class=\"x\">".repeat(50));
        let out = limit_nesting(&unclosed, 4);
        assert_eq!(out.matches("<span").count(), 3);
        assert!(out.ends_with("text"));
    }
}
