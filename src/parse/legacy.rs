//! Bridges for feed dialects feed-rs does not read, so users' old feeds still work.
//!
//! feed-rs returns nothing for Atom 0.3 and RSS 0.90, and refuses RSS 0.93/0.94/2.01 or an
//! `<rss>` without `version`. These are rewritten, before parsing, into the dialect they grew
//! into: Atom 0.3 → Atom 1.0 (namespace, renamed elements, `mode` → `type`), RSS 0.90 → RSS 1.0
//! (namespace), other RSS versions → 2.0 (a superset of 0.92–0.94). Documents that need no
//! bridge are returned untouched, so the common path costs one scan of the root element.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
/// RSS 0.90 namespaces end in this; Netscape published it under more than one host.
const RSS090_NS_TAIL: &str = "netscape.com/rdf/simple/0.9/";
const RSS10_NS: &str = "http://purl.org/rss/1.0/";

/// The dialect fix a document needs, decided from its root element.
#[derive(Debug, PartialEq, Eq)]
enum Bridge {
    None,
    Atom03,
    Rss090,
    RssRoot,
}

/// Repairs the mistakes publishers commonly make that a strict XML parser rejects, without
/// changing what a well-formed document means:
/// - a bare `&` (as in `Q&A`) becomes `&amp;`, outside CDATA sections and comments;
/// - empty, attribute-less Media RSS elements (`<media:credit/>`), which carry nothing and make
///   feed-rs fail the whole document, are dropped.
pub fn repair(text: &str) -> Cow<'_, str> {
    if !text.contains('&') && !text.contains("<media:") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut rest = text;
    while let Some(i) = memchr::memchr2(b'&', b'<', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("<![CDATA[") || rest.starts_with("<!--") {
            let close = if rest.starts_with("<!--") {
                "-->"
            } else {
                "]]>"
            };
            let end = rest.find(close).map_or(rest.len(), |e| e + close.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with("<media:") {
            let tag_end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[..tag_end];
            if tag.ends_with("/>") && !tag.contains('=') {
                changed = true;
            } else {
                out.push_str(tag);
            }
            rest = &rest[tag_end..];
        } else if rest.starts_with('&') {
            if is_reference(rest) {
                out.push('&');
            } else {
                out.push_str("&amp;");
                changed = true;
            }
            rest = &rest[1..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `s` (starting at `&`) begins a well-formed entity or character reference.
fn is_reference(s: &str) -> bool {
    let body = &s[1..];
    let Some(end) = body.find(';').filter(|e| *e <= 40) else {
        return false;
    };
    let name = &body[..end];
    if let Some(num) = name.strip_prefix('#') {
        return match num.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()),
        };
    }
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Rewrites `text` into a dialect feed-rs reads, when it is one of the bridged ones.
pub fn bridge(text: &str) -> Cow<'_, str> {
    let Some((root_range, bridge)) = inspect_root(text) else {
        return Cow::Borrowed(text);
    };
    match bridge {
        Bridge::None => Cow::Borrowed(text),
        Bridge::Rss090 => {
            let root = &text[root_range.clone()];
            let fixed = replace_rss090_namespace(root);
            Cow::Owned(splice(text, root_range, &fixed))
        }
        Bridge::RssRoot => {
            let root = &text[root_range.clone()];
            let fixed = rewrite_rss_root(root).unwrap_or_else(|| root.to_string());
            Cow::Owned(splice(text, root_range, &fixed))
        }
        Bridge::Atom03 => atom03_to_atom10(text).map_or(Cow::Borrowed(text), Cow::Owned),
    }
}

fn splice(text: &str, range: std::ops::Range<usize>, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..range.start]);
    out.push_str(with);
    out.push_str(&text[range.end..]);
    out
}

/// Finds the root element's byte range and which bridge it calls for.
fn inspect_root(text: &str) -> Option<(std::ops::Range<usize>, Bridge)> {
    let mut reader = Reader::from_str(text);
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let after = reader.buffer_position() as usize;
                let local = e.local_name();
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| a.value.to_string())
                };
                let bridge = match local.as_ref() {
                    // RSS has no namespace; a default xmlns (Userland's "rss2", say) would hide
                    // every element from the parser, so it is dropped along with odd versions.
                    "rss" => match (attr("version").as_deref(), attr("xmlns")) {
                        (Some("2.0") | Some("0.91") | Some("0.92"), None) => Bridge::None,
                        _ => Bridge::RssRoot,
                    },
                    "RDF" if text[before..after].contains(RSS090_NS_TAIL) => Bridge::Rss090,
                    "feed" if attr("xmlns").as_deref() == Some(ATOM03_NS) => Bridge::Atom03,
                    _ => Bridge::None,
                };
                return Some((before..after, bridge));
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Replaces every `http://….netscape.com/rdf/simple/0.9/` URI in the root tag with RSS 1.0's.
fn replace_rss090_namespace(root: &str) -> String {
    let mut out = String::with_capacity(root.len());
    let mut rest = root;
    while let Some(tail) = rest.find(RSS090_NS_TAIL) {
        let end = tail + RSS090_NS_TAIL.len();
        let start = rest[..tail].rfind(['"', '\'']).map_or(0, |q| q + 1);
        out.push_str(&rest[..start]);
        out.push_str(RSS10_NS);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Rewrites `<rss version="0.94" …>` (or no version) into `<rss version="2.0" …>`, keeping the
/// version it had when the parser knows it, and drops a default namespace.
fn rewrite_rss_root(root: &str) -> Option<String> {
    let mut reader = Reader::from_str(root);
    let (e, empty) = match reader.read_event().ok()? {
        Event::Start(e) => (e, false),
        Event::Empty(e) => (e, true),
        _ => return None,
    };
    let mut fixed = BytesStart::new(e.name().as_ref().to_string());
    let mut version = "2.0".to_string();
    for a in e.attributes().flatten() {
        match a.key.as_ref() {
            "version" if matches!(a.value.as_ref(), "0.91" | "0.92") => {
                version = a.value.to_string();
            }
            "version" | "xmlns" => {}
            _ => fixed.push_attribute(a),
        }
    }
    fixed.push_attribute(("version", version.as_str()));
    let mut w = Writer::new(Vec::new());
    let ev = if empty {
        Event::Empty(fixed)
    } else {
        Event::Start(fixed)
    };
    w.write_event(ev).ok()?;
    String::from_utf8(w.into_inner()).ok()
}

/// Atom 0.3 element names that changed in 1.0.
fn atom03_rename(local: &str) -> Option<&'static str> {
    Some(match local {
        "modified" => "updated",
        "issued" => "published",
        "tagline" => "subtitle",
        "copyright" => "rights",
        "url" => "uri",
        // `created` has no 1.0 counterpart, `info` is free text about the feed: neither carries
        // anything a reader shows, so they are renamed to elements feed-rs ignores.
        "created" => "wirefeed-created",
        "info" => "wirefeed-info",
        _ => return None,
    })
}

/// Atom 0.3 text constructs say `type="text/html" mode="escaped"`; 1.0 says `type="html"`.
fn atom03_text_type(mime: Option<&str>, mode: Option<&str>) -> &'static str {
    let mime = mime.unwrap_or("text/plain").to_ascii_lowercase();
    let htmlish = mime.contains("html");
    match mode.unwrap_or("xml") {
        "escaped" if htmlish => "html",
        "escaped" => "text",
        _ if htmlish => "xhtml",
        _ => "text",
    }
}

fn atom03_to_atom10(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.allow_dangling_amp = true;
    let mut w = Writer::new(Vec::with_capacity(text.len() + 256));
    let mut depth_in_xhtml: Option<usize> = None;
    let mut depth = 0usize;
    loop {
        let ev = reader.read_event().ok()?;
        match ev {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                let e = atom03_start(&e, depth_in_xhtml.is_some());
                let wrap = depth_in_xhtml.is_none() && is_xhtml(&e);
                w.write_event(Event::Start(e)).ok()?;
                if wrap {
                    // Atom 1.0 xhtml content must be wrapped in one xhtml div.
                    depth_in_xhtml = Some(depth);
                    w.get_mut()
                        .extend_from_slice(b"<div xmlns=\"http://www.w3.org/1999/xhtml\">");
                }
            }
            Event::Empty(e) => {
                let e = atom03_start(&e, depth_in_xhtml.is_some());
                w.write_event(Event::Empty(e)).ok()?;
            }
            Event::End(e) => {
                if depth_in_xhtml == Some(depth) {
                    w.get_mut().extend_from_slice(b"</div>");
                    depth_in_xhtml = None;
                }
                depth = depth.saturating_sub(1);
                let name = e.name();
                let renamed = if depth_in_xhtml.is_none() && name.prefix().is_none() {
                    atom03_rename(name.as_ref())
                } else {
                    None
                };
                match renamed {
                    Some(n) => w.write_event(Event::End(BytesEnd::new(n))).ok()?,
                    None => w.write_event(Event::End(e)).ok()?,
                }
            }
            Event::DocType(_) => {}
            other => w.write_event(other).ok()?,
        }
    }
    String::from_utf8(w.into_inner()).ok()
}

fn is_xhtml(e: &BytesStart<'_>) -> bool {
    e.attributes()
        .flatten()
        .any(|a| a.key.as_ref() == "type" && a.value.as_ref() == "xhtml")
}

/// Renames one start tag and converts its attributes from Atom 0.3 to 1.0.
fn atom03_start(e: &BytesStart<'_>, inside_xhtml: bool) -> BytesStart<'static> {
    let name = e.name();
    let unprefixed = name.prefix().is_none() && !inside_xhtml;
    let new_name = match atom03_rename(name.as_ref()).filter(|_| unprefixed) {
        Some(n) => n.to_string(),
        None => name.as_ref().to_string(),
    };
    let mut out = BytesStart::new(new_name);
    let attrs: Vec<_> = e.attributes().flatten().collect();
    let get = |k: &str| {
        attrs
            .iter()
            .find(|a| a.key.as_ref() == k)
            .map(|a| a.value.to_string())
    };
    let text_construct = unprefixed
        && matches!(
            name.as_ref(),
            "title" | "content" | "summary" | "tagline" | "copyright"
        );
    for a in &attrs {
        let key = a.key.as_ref();
        let dropped = (unprefixed && name.as_ref() == "feed" && key == "version")
            || (text_construct && (key == "mode" || key == "type"));
        if key == "xmlns" && a.value.as_ref() == ATOM03_NS {
            out.push_attribute(("xmlns", ATOM10_NS));
        } else if !dropped {
            out.push_attribute(a.clone());
        }
    }
    if text_construct {
        let t = atom03_text_type(get("type").as_deref(), get("mode").as_deref());
        out.push_attribute(("type", t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_are_escaped_outside_cdata() {
        let doc = "<t>Q&A &amp; &#38; &#x26; &nbsp; AT&T</t><d><![CDATA[a & b]]></d><!-- x & y -->";
        assert_eq!(
            repair(doc),
            "<t>Q&amp;A &amp; &#38; &#x26; &nbsp; AT&amp;T</t><d><![CDATA[a & b]]></d><!-- x & y -->"
        );
        assert!(matches!(
            repair("<t>fine &amp; dandy</t>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn empty_media_elements_are_dropped() {
        let doc = "<item><media:credit/><media:content url=\"u\"/><media:description>d</media:description></item>";
        assert_eq!(
            repair(doc),
            "<item><media:content url=\"u\"/><media:description>d</media:description></item>"
        );
    }

    #[test]
    fn modern_documents_are_untouched() {
        let doc = "<rss version=\"2.0\"><channel/></rss>";
        assert!(matches!(bridge(doc), Cow::Borrowed(_)));
        let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"/>";
        assert!(matches!(bridge(doc), Cow::Borrowed(_)));
    }

    #[test]
    fn odd_rss_versions_become_2_0() {
        for v in [" version=\"0.94\"", " version=\"2.01\"", ""] {
            let doc = format!("<rss{v} xmlns:dc=\"x\"><channel/></rss>");
            let out = bridge(&doc);
            assert_eq!(
                out, "<rss xmlns:dc=\"x\" version=\"2.0\"><channel/></rss>",
                "{v}"
            );
        }
    }

    #[test]
    fn a_default_namespace_on_rss_is_dropped() {
        let doc =
            "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel/></rss>";
        assert_eq!(bridge(doc), "<rss version=\"2.0\"><channel/></rss>");
    }

    #[test]
    fn rss_090_channel_namespace_becomes_rss_1_0() {
        let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns='http://channel.netscape.com/rdf/simple/0.9/'><channel/></rdf:RDF>";
        assert!(
            bridge(doc).contains("xmlns='http://purl.org/rss/1.0/'"),
            "{}",
            bridge(doc)
        );
    }

    #[test]
    fn rss_090_namespace_becomes_rss_1_0() {
        let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"><channel/></rdf:RDF>";
        assert!(bridge(doc).contains("xmlns=\"http://purl.org/rss/1.0/\""));
    }

    #[test]
    fn atom_03_becomes_atom_1_0() {
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><modified>2004-01-01T00:00:00Z</modified><entry><issued>2003-12-13T08:29:29-04:00</issued><content type="text/html" mode="escaped">&lt;p&gt;hi&lt;/p&gt;</content><author><url>http://a</url></author></entry></feed>"#;
        let out = bridge(doc);
        assert_eq!(
            out,
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><updated>2004-01-01T00:00:00Z</updated><entry><published>2003-12-13T08:29:29-04:00</published><content type="html">&lt;p&gt;hi&lt;/p&gt;</content><author><uri>http://a</uri></author></entry></feed>"#
        );
    }

    #[test]
    fn atom_03_inline_xhtml_is_wrapped_in_a_div() {
        let doc = r#"<feed xmlns="http://purl.org/atom/ns#"><entry><content type="application/xhtml+xml" mode="xml"><p>hi <b>there</b></p></content></entry></feed>"#;
        let out = bridge(doc);
        assert!(
            out.contains(r#"<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>hi <b>there</b></p></div></content>"#),
            "{out}"
        );
    }
}
