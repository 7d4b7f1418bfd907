//! Safe HTML from an entry's parsed tree: an allowlist fit for news, and nothing executable.
//!
//! Allowlisting (rather than removing known-bad things) is the only approach that survives
//! inputs nobody thought of. The tree comes from html5ever ([`EntryDoc`]), so mis-nested and
//! mixed-case tricks are already normalised; this module writes out only allowed elements
//! and attributes, URLs made absolute and limited to http, https and mailto, every text and
//! attribute value escaped. It is the allowlist ammonia applied before, walked over the tree
//! the clean stage already has: ammonia parses its input itself and cannot take a tree, and
//! that second parse was the stage's largest cost. `tests::ammonia_finds_nothing_to_remove`
//! keeps the two in agreement.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::Node;
use url::Url;

use super::doc::EntryDoc;
use super::repair::repair_text;

/// Elements kept (with their allowed attributes); any other element is unwrapped.
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

/// Elements dropped with everything inside them: code, styles and embedded documents.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "select", "textarea", "head", "title",
];

/// Elements with no end tag.
const VOID: &[&str] = &["br", "hr", "img"];

/// Attributes allowed on any kept element.
const GENERIC_ATTRS: &[&str] = &["lang", "dir", "title"];

/// Attributes allowed on one element, beside the generic ones.
fn tag_attrs(tag: &str) -> &'static [&'static str] {
    match tag {
        "a" => &["href", "hreflang"],
        "img" => &["src", "alt", "width", "height"],
        "td" => &["colspan", "rowspan"],
        "th" => &["colspan", "rowspan", "scope"],
        "time" => &["datetime"],
        "blockquote" | "q" => &["cite"],
        _ => &[],
    }
}

/// Attributes holding a URL: resolved against the base, and dropped unless http(s)/mailto.
fn is_url_attr(name: &str) -> bool {
    matches!(name, "href" | "src" | "cite")
}

/// Elements that go when a drop has left them without text or media (an emptied paragraph,
/// the bare link around a removed "Read more").
const EMPTY_PRUNABLE: &[&str] = &[
    "p",
    "li",
    "div",
    "span",
    "ul",
    "ol",
    "a",
    "b",
    "i",
    "em",
    "strong",
    "small",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "figure",
    "figcaption",
];

/// Safe HTML of `doc` without the `drop`ped nodes, every URL absolute against `base`.
pub fn render(doc: &EntryDoc, drop: &HashSet<NodeId>, base: &Url) -> String {
    let root = doc.root();
    let empty = if drop.is_empty() {
        HashSet::new()
    } else {
        emptied(doc, drop)
    };
    let mut out = String::new();
    // Elements written out (true) or unwrapped (false), innermost last.
    let mut open: Vec<bool> = Vec::new();
    let mut skip = 0usize;
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                if node.id() == root.id() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let tag = el.name();
                        if skip > 0
                            || drop.contains(&node.id())
                            || empty.contains(&node.id())
                            || DROP_WITH_CONTENT.contains(&tag)
                        {
                            skip += 1;
                            continue;
                        }
                        let kept = TAGS.contains(&tag) && start_tag(&mut out, tag, el, base);
                        open.push(kept && !VOID.contains(&tag));
                    }
                    Node::Text(t) if skip == 0 && !drop.contains(&node.id()) => {
                        escape_text(&mut out, &repair_text(t));
                    }
                    _ => {}
                }
            }
            ego_tree::iter::Edge::Close(node) => {
                if node.id() == root.id() {
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                if open.pop() == Some(true) {
                    out.push_str("</");
                    out.push_str(el.name());
                    out.push('>');
                }
            }
        }
    }
    out
}

/// Elements left with no text and no media once `drop` is applied.
fn emptied(doc: &EntryDoc, drop: &HashSet<NodeId>) -> HashSet<NodeId> {
    let mut out = HashSet::new();
    // Per open element: whether anything visible was seen inside it.
    let mut seen: Vec<bool> = Vec::new();
    let mut skip = 0usize;
    let root = doc.root();
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if skip > 0
                        || drop.contains(&node.id())
                        || DROP_WITH_CONTENT.contains(&el.name())
                    {
                        skip += 1;
                        continue;
                    }
                    let media = matches!(
                        el.name(),
                        "img" | "table" | "hr" | "br" | "video" | "audio" | "picture"
                    );
                    if media && let Some(s) = seen.last_mut() {
                        *s = true;
                    }
                    seen.push(media);
                }
                Node::Text(t) if skip == 0 && !drop.contains(&node.id()) => {
                    if !t.trim().is_empty()
                        && let Some(s) = seen.last_mut()
                    {
                        *s = true;
                    }
                }
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                let Node::Element(el) = node.value() else {
                    continue;
                };
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let visible = seen.pop().unwrap_or(false);
                if visible {
                    if let Some(s) = seen.last_mut() {
                        *s = true;
                    }
                } else if EMPTY_PRUNABLE.contains(&el.name()) {
                    out.insert(node.id());
                }
            }
        }
    }
    out
}

/// Writes an allowed element's start tag with its allowed attributes; `false` (nothing
/// written, the element unwrapped) for a link without a usable address.
fn start_tag(out: &mut String, tag: &str, el: &scraper::node::Element, base: &Url) -> bool {
    let allowed = tag_attrs(tag);
    let mut attrs = String::new();
    let mut has_href = false;
    for (name, value) in el.attrs() {
        if !(GENERIC_ATTRS.contains(&name) || allowed.contains(&name)) {
            continue;
        }
        let value = if is_url_attr(name) {
            let Some(u) = base
                .join(value.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https" | "mailto"))
            else {
                continue;
            };
            if tag == "a" && name == "href" {
                has_href = true;
                if u.scheme() != "mailto" {
                    super::urls::publishable(&super::urls::strip_tracking(&u))
                } else {
                    u.to_string()
                }
            } else {
                super::urls::publishable(&u)
            }
        } else {
            repair_text(value).into_owned()
        };
        attrs.push(' ');
        attrs.push_str(name);
        attrs.push_str("=\"");
        escape_attr(&mut attrs, &value);
        attrs.push('"');
    }
    if tag == "a" {
        if !has_href {
            return false;
        }
        attrs.push_str(" rel=\"noopener noreferrer\"");
    }
    out.push('<');
    out.push_str(tag);
    out.push_str(&attrs);
    out.push('>');
    true
}

fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value; `<` and `>` too, which HTML does not require, so that no
/// consumer that scans for tags naively finds one in a title.
fn escape_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// Sanitises an HTML fragment on its own (one parse), every URL absolute against `base`.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    render(&EntryDoc::parse(html), &HashSet::new(), base)
}

/// Plain text of an HTML fragment (tags dropped, entities decoded, whitespace collapsed,
/// mojibake repaired). Text without markup or entities is not parsed at all.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return repair_text(&super::doc::collapse_ws(html)).into_owned();
    }
    let doc = EntryDoc::parse(html);
    let mut text = String::new();
    let mut skip = 0usize;
    for edge in doc.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if skip > 0 || DROP_WITH_CONTENT.contains(&el.name()) {
                        skip += 1;
                    } else if super::doc::is_block_element(el.name()) || el.name() == "br" {
                        text.push(' ');
                    }
                }
                Node::Text(t) if skip == 0 => text.push_str(t),
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if node.value().is_element() && skip > 0 {
                    skip -= 1;
                }
            }
        }
    }
    repair_text(&super::doc::collapse_ws(&text)).into_owned()
}

/// Escapes text for inclusion in HTML (element content or a quoted attribute).
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
            "<a href=\"java\nscript:alert(1)\">x</a>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg><script>alert(1)</script></svg>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<form action=\"https://evil.example\"><input></form>",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
            "<base href=\"https://evil.example/\">",
            "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
            "<ScRiPt>alert(1)</sCrIpT>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
            "<table><tr><td><style>x</style><script>alert(1)</script></td></tr></table>",
            "<p title=\"&quot;><script>alert(1)</script>\">q</p>",
            "<<script>alert(1)//<</script>",
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
                "<math",
                "<img src=x",
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
    fn text_and_attributes_are_escaped_and_repaired() {
        assert_eq!(
            sanitize_html("<p title='a\"b'>x &lt; y &amp; isnâ€™t</p>", &base()),
            "<p title=\"a&quot;b\">x &lt; y &amp; isn’t</p>"
        );
        assert_eq!(sanitize_html("bad\u{85}control", &base()), "badcontrol");
    }

    #[test]
    fn dropped_nodes_take_their_emptied_wrappers_with_them() {
        let doc = EntryDoc::parse("<p>Keep</p><p><a href=\"/x\">Read more</a></p>");
        let drop: HashSet<NodeId> = doc
            .blocks()
            .iter()
            .filter(|b| b.text == "Read more")
            .flat_map(|b| b.texts.iter().copied())
            .collect();
        assert_eq!(render(&doc, &drop, &base()), "<p>Keep</p>");
    }

    #[test]
    fn text_extraction_decodes_entities() {
        assert_eq!(
            html_to_text("Tom &amp; <i>Jerry</i>\n  &lt;3"),
            "Tom & Jerry <3"
        );
        assert_eq!(html_to_text("plain  words"), "plain words");
        assert_eq!(html_to_text("<p>One</p><p>Two</p>"), "One Two");
    }

    /// The allowlist agrees with ammonia configured as it was: whatever this module writes,
    /// ammonia finds nothing in it to remove or rewrite.
    #[test]
    fn ammonia_finds_nothing_to_remove() {
        let samples = [
            "<p>Plain <b>bold</b> <a href=\"/x?utm_source=a&amp;b=1\" title=\"t\">link</a></p>",
            "<div class=\"c\" id=\"i\" style=\"x\"><img src=\"a.png\" alt=\"A\" width=\"2\" onload=\"x\"></div>",
            "<table><tr><td colspan=\"2\">a</td></tr></table><blockquote cite=\"/q\">q</blockquote>",
            "<ul><li>a<li>b</ul><font color=red>unwrapped</font><center>c</center>",
            "<p>x &amp; y &lt; z &nbsp;</p><pre>  code\n  block</pre>",
            "<a href=\"mailto:x@example.org\">mail</a><a href=\"ftp://x\">ftp</a><a name=\"n\">n</a>",
            "<h2 lang=\"fr\" dir=\"ltr\">Titre</h2><time datetime=\"2024-01-01\">then</time>",
            "<p>unclosed <i>italic <b>both</p> after",
        ];
        let mut ammonia = ammonia::Builder::default();
        ammonia
            .tags(TAGS.iter().copied().collect())
            .generic_attributes(GENERIC_ATTRS.iter().copied().collect())
            .tag_attributes(
                ["a", "img", "td", "th", "time", "blockquote", "q"]
                    .into_iter()
                    .map(|t| (t, tag_attrs(t).iter().copied().collect::<HashSet<_>>()))
                    .collect(),
            )
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer"));
        for s in samples {
            let ours = sanitize_html(s, &base());
            let again = ammonia.clean(&ours).to_string();
            assert_eq!(again, ours, "from {s}");
        }
    }
}
