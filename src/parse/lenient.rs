//! A document feed-rs rejects, read one item at a time.
//!
//! feed-rs stops at the first XML error, so one item with an unclosed tag or a bad
//! character reference loses every item of the document. When that happens the document
//! is cut into its shell (everything before the first item and after the last) and its
//! items; each item is parsed alone inside the shell. Items that still fail are reported
//! with what names them, and the others are kept.

use std::ops::Range;

/// A document cut into its shell and its items.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Split<'a> {
    head: &'a str,
    tail: &'a str,
    /// Each item's text, in document order.
    pub(super) items: Vec<&'a str>,
}

impl Split<'_> {
    /// The shell with one item in it (or none): a document of its own.
    pub(super) fn with(&self, item: &str) -> String {
        let mut s = String::with_capacity(self.head.len() + item.len() + self.tail.len());
        s.push_str(self.head);
        s.push_str(item);
        s.push_str(self.tail);
        s
    }
}

/// Cuts `text` at its top-level `<item>`s (RSS) or `<entry>`s (Atom), prefixed or not.
/// `None` when it has none.
pub(super) fn split(text: &str) -> Option<Split<'_>> {
    let ranges = item_ranges(text);
    let (first, last) = (ranges.first()?.start, ranges.last()?.end);
    Some(Split {
        head: &text[..first],
        tail: &text[last..],
        items: ranges.into_iter().map(|r| &text[r]).collect(),
    })
}

/// Whether `tag` (what follows `<`) opens an item element: `item` or `entry`, with an
/// optional prefix, followed by whitespace, `>` or `/`. Returns the qualified name.
fn item_start(tag: &str) -> Option<&str> {
    let name_end = tag
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(tag.len());
    let name = &tag[..name_end];
    let local = name.rsplit_once(':').map_or(name, |(_, l)| l);
    (matches!(local, "item" | "entry") && name_end < tag.len()).then_some(name)
}

/// Byte ranges of the top-level items, skipping comments and CDATA sections (their text may
/// hold anything).
fn item_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find('<').map(|i| i + at) {
        let rest = &text[i..];
        if let Some(skip) =
            [("<!--", "-->"), ("<![CDATA[", "]]>")]
                .iter()
                .find_map(|(open, close)| {
                    rest.starts_with(open)
                        .then(|| rest.find(close).map_or(rest.len(), |e| e + close.len()))
                })
        {
            at = i + skip;
            continue;
        }
        let Some(name) = item_start(&rest[1..]) else {
            at = i + 1;
            continue;
        };
        let open_end = match rest.find('>') {
            Some(e) => i + e + 1,
            None => break,
        };
        if text[..open_end].ends_with("/>") {
            out.push(i..open_end);
            at = open_end;
            continue;
        }
        let close = format!("</{name}");
        let end = find_outside_cdata(text, open_end, &close)
            .and_then(|c| text[c..].find('>').map(|e| c + e + 1));
        match end {
            Some(end) => {
                out.push(i..end);
                at = end;
            }
            // An item that never closes runs to where the next one starts, or the end.
            None => {
                let next = item_ranges(&text[open_end..]);
                let end = next.first().map_or_else(
                    || {
                        text.rfind("</")
                            .filter(|e| *e > open_end)
                            .unwrap_or(text.len())
                    },
                    |r| r.start + open_end,
                );
                out.push(i..end);
                out.extend(
                    next.into_iter()
                        .map(|r| r.start + open_end..r.end + open_end),
                );
                break;
            }
        }
    }
    out
}

/// The first `needle` at or after `from` that is not inside a CDATA section or a comment.
fn find_outside_cdata(text: &str, from: usize, needle: &str) -> Option<usize> {
    let mut at = from;
    loop {
        let hit = text[at..].find(needle)? + at;
        let cdata = text[at..hit].rfind("<![CDATA[").map(|c| c + at);
        let comment = text[at..hit].rfind("<!--").map(|c| c + at);
        let open = [(cdata, "]]>"), (comment, "-->")]
            .into_iter()
            .filter_map(|(start, close)| start.map(|s| (s, close)))
            .find(|(s, close)| !text[*s..hit].contains(close));
        match open {
            Some((s, close)) => at = text[s..].find(close).map(|e| s + e + close.len())?,
            None => return Some(hit),
        }
    }
}

/// How an item names itself in a warning: its guid or id, else its title, else its link.
pub(super) fn label(item: &str) -> Option<String> {
    for tag in ["guid", "id", "title", "link"] {
        let Some(open) = item.find(&format!("<{tag}")) else {
            continue;
        };
        let rest = &item[open + tag.len() + 1..];
        if !rest.starts_with(['>', ' ']) {
            continue;
        }
        let Some(gt) = rest.find('>') else { continue };
        let body = &rest[gt + 1..];
        let inner = match body.strip_prefix("<![CDATA[") {
            Some(c) => &c[..c.find("]]>").unwrap_or(c.len())],
            None => &body[..body.find('<').unwrap_or(body.len())],
        };
        let mut text = inner.trim();
        if text.is_empty() && tag == "link" {
            // Atom: <link href="…"/>.
            text = rest[..gt]
                .split("href=\"")
                .nth(1)
                .and_then(|h| h.split('"').next())
                .unwrap_or_default();
        }
        if !text.is_empty() {
            let short: String = text.chars().take(80).collect();
            return Some(format!("{tag} {short:?}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_splits_into_its_shell_and_items() {
        let doc = "<rss><channel><title>T</title><!-- <item>not one</item> -->\
                   <item><title>A</title><description><![CDATA[</item>]]></description></item>\
                   <item><title>B<b></title></item>\
                   <atom:entry/></channel></rss>";
        let s = split(doc).unwrap();
        assert_eq!(
            s.items,
            [
                "<item><title>A</title><description><![CDATA[</item>]]></description></item>",
                "<item><title>B<b></title></item>",
                "<atom:entry/>",
            ]
        );
        assert_eq!(
            s.with(""),
            "<rss><channel><title>T</title><!-- <item>not one</item> --></channel></rss>"
        );
        assert!(split("<rss><channel><items/></channel></rss>").is_none());
    }

    #[test]
    fn items_name_themselves_by_guid_title_or_link() {
        assert_eq!(
            label("<item><title>A &amp; B</title><guid isPermaLink=\"false\">g-1</guid></item>"),
            Some("guid \"g-1\"".into())
        );
        assert_eq!(
            label("<entry><title>Hello</title></entry>"),
            Some("title \"Hello\"".into())
        );
        assert_eq!(label("<item><b></item>"), None);
    }
}
