//! Byte-level slimming of a page before the HTML parser sees it.
//!
//! Parsing dominates extraction time, and most bytes of a news page are never read: inline
//! scripts and styles, SVG icons, comments, and attributes such as `href`, `src`, `srcset` or
//! `data-*`. Dropping them first (keeping every tag, so the tree shape is unchanged) makes the
//! parser several times cheaper. Only attributes that later layers read are kept.

/// Attributes the extractor reads; all others are dropped before parsing.
const KEEP_ATTRS: &[&str] = &[
    "class",
    "id",
    "itemprop",
    "hidden",
    "aria-hidden",
    "style",
    "role",
    "datetime",
    "property",
    "name",
    "content",
    "type",
];

/// Elements whose content is dropped (the tags stay); JSON-LD scripts keep their content.
const RAW_CONTENT: &[&str] = &["script", "style", "svg", "noscript", "template"];

/// ASCII case-insensitive search for `needle` (starting with `<` or `-`, rest lower-case) in
/// `hay` from byte `from`; memchr finds candidate first bytes at memory speed.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        i += memchr::memchr(first, &hay[i..])?;
        if i + needle.len() <= hay.len() && hay[i..i + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Reads the attributes of a start tag from `j` (just after its name) to its closing `>`.
/// Returns the kept attributes and the index after `>`, or `None` if the tag never closes.
fn read_attrs(html: &str, mut j: usize) -> Option<(String, usize)> {
    let b = html.as_bytes();
    let mut kept = String::new();
    loop {
        while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
            j += 1;
        }
        if *b.get(j)? == b'>' {
            return Some((kept, j + 1));
        }
        let k = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name = &html[k..j];
        if name.is_empty() {
            // A stray '=' or similar: step over it.
            j += 1;
            continue;
        }
        let mut v = j;
        while v < b.len() && b[v].is_ascii_whitespace() {
            v += 1;
        }
        if b.get(v) == Some(&b'=') {
            v += 1;
            while v < b.len() && b[v].is_ascii_whitespace() {
                v += 1;
            }
            match b.get(v)? {
                q @ (b'"' | b'\'') => {
                    let end = b[v + 1..].iter().position(|c| c == q)?;
                    v = v + 1 + end + 1;
                }
                _ => {
                    while v < b.len() && !b[v].is_ascii_whitespace() && b[v] != b'>' {
                        v += 1;
                    }
                }
            }
            j = v;
        }
        if KEEP_ATTRS.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            kept.push(' ');
            kept.push_str(&html[k..j]);
        }
    }
}

/// Returns `html` without comments, raw-content bodies and unread attributes.
pub fn prestrip(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut last = 0;
    let mut i = 0;
    while let Some(rel) = memchr::memchr(b'<', &b[i..]) {
        let start = i + rel;
        let rest = &b[start + 1..];
        if rest.starts_with(b"!--") {
            let Some(end) = find_ci(b, b"-->", start + 4) else {
                break;
            };
            out.push_str(&html[last..start]);
            last = end + 3;
            i = last;
            continue;
        }
        if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
            i = start + 1;
            continue;
        }
        let name_end = start
            + 1
            + rest
                .iter()
                .position(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'>'))
                .unwrap_or(rest.len());
        let Some((kept, after)) = read_attrs(html, name_end) else {
            break;
        };
        out.push_str(&html[last..name_end]);
        out.push_str(&kept);
        out.push('>');
        last = after;
        i = after;
        let name = &html[start + 1..name_end];
        if let Some(raw) = RAW_CONTENT.iter().find(|t| t.eq_ignore_ascii_case(name)) {
            let json_ld = *raw == "script" && kept.to_ascii_lowercase().contains("ld+json");
            let close = format!("</{raw}");
            let Some(end) = find_ci(b, close.as_bytes(), after) else {
                break;
            };
            if !json_ld {
                last = end;
            }
            i = end;
        }
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_json_ld_and_tags() {
        let h = "<p>a</p><SCRIPT>var x='<p>no</p>';</script><script type=\"application/ld+json\">{}</script><!-- c --><style>p{}</style><p>b</p>";
        assert_eq!(
            prestrip(h),
            "<p>a</p><SCRIPT></script><script type=\"application/ld+json\">{}</script><style></style><p>b</p>"
        );
        assert_eq!(
            prestrip("<p>x</p><script>unterminated"),
            "<p>x</p><script>unterminated"
        );
    }

    #[test]
    fn drops_unread_attributes() {
        let h = r#"<a href="/x?a=1>2" class='c' data-x=1 hidden>t</a><img src=a.png/>é<br/>"#;
        assert_eq!(prestrip(h), r#"<a class='c' hidden>t</a><img>é<br>"#);
        assert_eq!(
            prestrip("a < b and <p unterminated"),
            "a < b and <p unterminated"
        );
    }
}
