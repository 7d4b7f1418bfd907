//! Structural cleaning of an entry's HTML before sanitising: the source's own selector rules,
//! tracking pixels, share widgets, and block-level boilerplate.
//!
//! Works on a parsed DOM (scraper/html5ever) so that rules act on elements, not on text that
//! happens to look like markup.

use scraper::{ElementRef, Html, Node, Selector};

/// A source's rules, compiled once.
#[derive(Debug, Clone, Default)]
pub struct CompiledRules {
    remove: Vec<Selector>,
    keep: Vec<Selector>,
}

impl CompiledRules {
    /// Whether the source has no selector rules.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.keep.is_empty()
    }

    /// Compiles selectors already validated by config loading; an invalid one is skipped.
    pub fn compile(remove: &[String], keep: &[String]) -> CompiledRules {
        let parse = |list: &[String]| {
            list.iter()
                .filter_map(|s| Selector::parse(s).ok())
                .collect()
        };
        CompiledRules {
            remove: parse(remove),
            keep: parse(keep),
        }
    }
}

/// Elements that hold one block of text: the unit boilerplate rules judge.
const BLOCKS: &[&str] = &[
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figcaption",
    "dd",
    "dt",
    "td",
    "pre",
];

/// Words in class/id/aria-label that mark sharing widgets.
const SHARE_MARKERS: &[&str] = &["share", "sharing", "social", "sharebar", "sharetools"];

/// Hosts of "share this" endpoints.
const SHARE_ENDPOINTS: &[&str] = &[
    "facebook.com/sharer",
    "twitter.com/intent",
    "x.com/intent",
    "linkedin.com/share",
    "linkedin.com/sharing",
    "pinterest.com/pin/create",
    "reddit.com/submit",
    "wa.me/?",
    "api.whatsapp.com/send",
    "t.me/share",
    "mailto:?",
    "news.ycombinator.com/submitlink",
    "getpocket.com/save",
    "flipboard.com/bookmarklet",
];

/// Applies the rules and removes tracking pixels, share widgets and every block for which
/// `is_boilerplate(text)` holds. Returns HTML (still to be sanitised).
pub fn prune(html: &str, rules: &CompiledRules, is_boilerplate: &dyn Fn(&str) -> bool) -> String {
    let mut doc = Html::parse_fragment(html);
    let mut doomed = Vec::new();
    for sel in &rules.remove {
        doomed.extend(doc.select(sel).map(|e| e.id()));
    }
    for el in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        if is_tracking_pixel(&el) || is_share_widget(&el) {
            doomed.push(el.id());
        } else if BLOCKS.contains(&el.value().name()) {
            let text = el.text().collect::<String>();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() && is_boilerplate(&text) {
                doomed.push(el.id());
            }
        }
    }
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    // Blocks emptied by the removals above would leave blank paragraphs behind.
    let empty: Vec<_> = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| matches!(e.value().name(), "p" | "li" | "div" | "span" | "ul" | "ol"))
        .filter(|e| e.text().all(|t| t.trim().is_empty()))
        .filter(|e| {
            !e.descendants().any(|d| {
                matches!(d.value(), Node::Element(x) if matches!(x.name(), "img" | "figure" | "table" | "video" | "iframe" | "br" | "hr"))
            })
        })
        .map(|e| e.id())
        .collect();
    for id in empty {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    if !rules.keep.is_empty() {
        let kept: Vec<String> = rules
            .keep
            .iter()
            .flat_map(|sel| doc.select(sel).map(|e| e.html()).collect::<Vec<_>>())
            .collect();
        if !kept.is_empty() {
            return kept.join("\n");
        }
    }
    doc.root_element().inner_html()
}

/// Whether an HTML fragment may hold a tracking pixel or a share widget: a fast test that
/// lets most entries skip the pruning parse.
pub fn may_hold_widgets(html: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r#"(?i)<img|(class|id|aria-label)\s*=\s*["']?[^"'>]*(share|sharing|social)|sharer|intent/|wa\.me|mailto:\?"#,
        )
            .expect("static regex")
    })
    .is_match(html)
}

/// The whitespace-normalised text of every block element, in document order; a fragment
/// with no block markup at all is one block.
pub fn blocks(html: &str) -> Vec<String> {
    let doc = Html::parse_fragment(html);
    let mut out = Vec::new();
    for el in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        if BLOCKS.contains(&el.value().name()) {
            let text = el.text().collect::<String>();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() {
                out.push(text);
            }
        }
    }
    if out.is_empty() {
        let text = doc.root_element().text().collect::<String>();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            out.push(text);
        }
    }
    out
}

fn is_tracking_pixel(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if v.name() != "img" {
        return false;
    }
    let tiny = |a: &str| {
        v.attr(a).is_some_and(|x| {
            x.trim()
                .trim_end_matches("px")
                .parse::<u32>()
                .is_ok_and(|n| n <= 1)
        })
    };
    let style = v
        .attr("style")
        .unwrap_or("")
        .replace(' ', "")
        .to_ascii_lowercase();
    (tiny("width") && tiny("height"))
        || (tiny("width") || tiny("height")) && v.attr("alt").is_none_or(str::is_empty)
        || style.contains("width:1px") && style.contains("height:1px")
        || style.contains("display:none")
}

fn is_share_widget(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if v.name() == "a" {
        let href = v.attr("href").unwrap_or("").to_ascii_lowercase();
        if SHARE_ENDPOINTS.iter().any(|e| href.contains(e)) {
            return true;
        }
    }
    if !matches!(
        v.name(),
        "div" | "ul" | "aside" | "section" | "nav" | "span" | "p" | "button"
    ) {
        return false;
    }
    let marks = [v.attr("class"), v.attr("id"), v.attr("aria-label")];
    let labelled = marks.iter().flatten().any(|m| {
        m.to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| SHARE_MARKERS.contains(&w))
    });
    // A container marked "share" that is mostly links, not a paragraph that mentions sharing.
    labelled && link_text_share(el) > 0.5
}

/// Share of an element's text that sits inside links (1.0 when it has no text but links).
fn link_text_share(el: &ElementRef<'_>) -> f32 {
    let total: usize = el.text().map(str::len).sum();
    let mut in_links = 0usize;
    let mut links = 0usize;
    for d in el.descendants() {
        if let Node::Element(e) = d.value()
            && matches!(e.name(), "a" | "button")
        {
            links += 1;
            if let Some(r) = ElementRef::wrap(d) {
                in_links += r.text().map(str::len).sum::<usize>();
            }
        }
    }
    if total == 0 {
        return if links > 0 { 1.0 } else { 0.0 };
    }
    in_links as f32 / total as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> bool {
        false
    }

    #[test]
    fn selector_rules_remove_and_keep() {
        let html = "<div class=\"ad\">Buy</div><article><p>Story</p></article><p>Footer</p>";
        let rules = CompiledRules::compile(&[".ad".into()], &[]);
        assert_eq!(
            prune(html, &rules, &none),
            "<article><p>Story</p></article><p>Footer</p>"
        );
        let keep = CompiledRules::compile(&[], &["article".into()]);
        assert_eq!(prune(html, &keep, &none), "<article><p>Story</p></article>");
    }

    #[test]
    fn tracking_pixels_and_share_widgets_go() {
        let html = concat!(
            "<p>Text</p>",
            "<img src=\"https://t.example/p.gif\" width=\"1\" height=\"1\">",
            "<img src=\"https://x.example/photo.jpg\" width=\"600\" alt=\"Photo\">",
            "<div class=\"share-buttons\"><a href=\"#\">Facebook</a> <a href=\"#\">X</a></div>",
            "<p><a href=\"https://twitter.com/intent/tweet?url=x\">Tweet this</a></p>",
            "<p class=\"social-note\">Our social affairs editor writes that the policy changed.</p>"
        );
        let out = prune(html, &CompiledRules::default(), &none);
        assert!(!out.contains("p.gif") && out.contains("photo.jpg"), "{out}");
        assert!(
            !out.contains("Facebook") && !out.contains("Tweet this"),
            "{out}"
        );
        assert!(out.contains("social affairs editor"), "{out}");
    }

    #[test]
    fn boilerplate_blocks_are_removed_by_the_predicate() {
        let html = "<p>Sign up for our newsletter</p><p>The story.</p>";
        let out = prune(html, &CompiledRules::default(), &|t: &str| {
            t.starts_with("Sign up")
        });
        assert_eq!(out, "<p>The story.</p>");
    }
}
