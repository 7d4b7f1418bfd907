//! Flattens a parsed HTML tree into a compact arena of elements and text blocks.
//!
//! Every later layer (scoring, boilerplate filtering, metadata) works on plain indices into
//! these vectors instead of walking the html5ever tree again: one pass over the tree keeps the
//! extractor fast, and index-based parents make ancestor walks cheap.

use crate::clean::doc::collapse_ws;
use scraper::{Html, Node};

use super::prestrip;
use super::rules::Rules;
use crate::clean::clutter::rules::ClassMark;

/// Sentinel for "no parent" in [`Elem::parent`].
pub const NO_PARENT: usize = usize::MAX;

/// Tags whose whole subtree never carries article text (scripts, widgets, form controls).
fn is_drop_tag(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "iframe"
            | "button"
            | "select"
            | "input"
            | "textarea"
            | "object"
            | "embed"
            | "canvas"
            | "video"
            | "audio"
            | "map"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "option"
            | "math"
            | "dialog"
    )
}

/// Tags that are page chrome by their HTML semantics: kept in the arena (their text can hold a
/// byline or a date) but marked as junk so the body never comes from them.
fn is_chrome_tag(tag: &str) -> bool {
    matches!(
        tag,
        "nav" | "footer" | "aside" | "header" | "menu" | "form" | "label"
    )
}

/// One element of the page, in document order.
#[derive(Debug, Clone)]
pub struct Elem {
    /// Index of the parent element, or [`NO_PARENT`].
    pub parent: usize,
    /// Lower-case tag name.
    pub tag: String,
    /// Lower-cased `class`, `id` and `itemprop` joined by spaces: what patterns look at.
    pub class_id: String,
    /// This element (or an ancestor) is page chrome, hidden, or matches a boilerplate pattern.
    pub junk: bool,
    /// Why this element itself is chrome ("tag", "role", "class"), or "" (a candidate for
    /// `junk`).
    own_junk: &'static str,
    /// Why the element is junk: its own reason, "hidden", "in-REASON" (an ancestor is), or "".
    pub junk_why: &'static str,
    /// This element itself is hidden (always junk).
    hidden: bool,
    /// Depth below the document root.
    pub depth: usize,
    /// `datetime` attribute of `<time>` elements.
    pub datetime: Option<String>,
}

/// A run of text owned by one block-level element (a paragraph, heading, list item, ...).
#[derive(Debug, Clone)]
pub struct Block {
    /// Index of the owning block-level element.
    pub owner: usize,
    /// Whitespace-collapsed text.
    pub text: String,
    /// Characters of `text` that sit inside links.
    pub link_chars: usize,
    /// Whether any ancestor is junk (body extraction skips these; metadata still reads them).
    pub junk: bool,
}

/// The flattened page.
#[derive(Debug, Default)]
pub struct Page {
    /// Elements in document order; index 0 is the `<html>` element when present.
    pub elems: Vec<Elem>,
    /// Text blocks in document order.
    pub blocks: Vec<Block>,
    /// `<meta>` name/property (lower-cased) and content pairs.
    pub metas: Vec<(String, String)>,
    /// Raw bodies of `<script type="application/ld+json">`.
    pub json_ld: Vec<String>,
    /// Text of the `<title>` element.
    pub title_tag: Option<String>,
}

impl Page {
    /// Whether `anc` is `idx` or one of its ancestors.
    pub fn is_within(&self, mut idx: usize, anc: usize) -> bool {
        while idx != NO_PARENT {
            if idx == anc {
                return true;
            }
            idx = self.elems[idx].parent;
        }
        false
    }

    /// First value of a `<meta>` whose name or property is one of `keys`, in `keys` order.
    pub fn meta(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|(n, v)| n == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim())
        })
    }
}

/// Builder state for one pass over the tree.
struct Walker<'r> {
    page: Page,
    rules: &'r Rules,
    /// Open block owners with their pending text and link-character count.
    stack: Vec<(usize, String, usize)>,
    /// Depth of open `<a>` elements.
    in_link: usize,
    /// Class-rule verdicts by `class id itemprop` string: pages repeat the same few names.
    class_cache: std::collections::HashMap<String, &'static str>,
}

impl Walker<'_> {
    fn flush(&mut self) {
        let Some((owner, buf, links)) = self.stack.last_mut() else {
            return;
        };
        if buf.trim().is_empty() {
            buf.clear();
            *links = 0;
            return;
        }
        let text = collapse_ws(buf);
        let link_chars = (*links).min(text.len());
        let owner = *owner;
        buf.clear();
        *links = 0;
        self.page.blocks.push(Block {
            owner,
            text,
            link_chars,
            junk: false,
        });
    }
}

/// Whether inline `style` hides the element.
fn hidden_style(style: &str) -> bool {
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("display:none") || s.contains("visibility:hidden")
}

/// Parses `html` after pre-stripping and returns the node count (bench helper).
pub fn parse_stripped(html: &str) -> usize {
    Html::parse_document(&prestrip::prestrip(html))
        .tree
        .nodes()
        .count()
}

/// Parses `html` and flattens it; `rules` decide which class/id names mark boilerplate.
pub fn build(html: &str, rules: &Rules) -> Page {
    let doc = Html::parse_document(&prestrip::prestrip(html));
    let mut w = Walker {
        page: Page::default(),
        rules,
        stack: Vec::new(),
        in_link: 0,
        class_cache: std::collections::HashMap::new(),
    };
    // (node id, elem index or NO_PARENT, kind) for each open element.
    enum Open {
        Skip,
        Block(usize),
        Inline(usize, bool),
    }
    let mut open: Vec<Open> = Vec::new();
    let mut skip_depth = 0usize;
    let mut parent_elem = NO_PARENT;
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let tag = el.name();
                    if skip_depth > 0 || is_drop_tag(tag) {
                        if skip_depth == 0 && tag == "script" {
                            let ty = el.attr("type").unwrap_or("").to_ascii_lowercase();
                            if ty.contains("ld+json") {
                                let body: String = node
                                    .children()
                                    .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                                    .collect();
                                w.page.json_ld.push(body);
                            }
                        } else if skip_depth == 0 && tag == "title" && w.page.title_tag.is_none() {
                            let t: String = node
                                .children()
                                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                                .collect();
                            w.page.title_tag = Some(collapse_ws(&t));
                        } else if skip_depth == 0 && tag == "meta" {
                            let key = el
                                .attr("property")
                                .or_else(|| el.attr("name"))
                                .or_else(|| el.attr("itemprop"));
                            if let (Some(k), Some(v)) = (key, el.attr("content")) {
                                w.page.metas.push((k.to_ascii_lowercase(), v.to_string()));
                            }
                        }
                        // `head` only holds metadata: walk into it so meta/title are seen.
                        if !(skip_depth == 0 && tag == "head") {
                            skip_depth += 1;
                            open.push(Open::Skip);
                            continue;
                        }
                        open.push(Open::Inline(parent_elem, false));
                        continue;
                    }
                    let class_id = format!(
                        "{} {} {}",
                        el.attr("class").unwrap_or(""),
                        el.attr("id").unwrap_or(""),
                        el.attr("itemprop").unwrap_or("")
                    )
                    .to_ascii_lowercase();
                    let hidden = el.attr("hidden").is_some()
                        || el.attr("aria-hidden") == Some("true")
                        || el.attr("style").is_some_and(hidden_style);
                    let structural = matches!(tag, "html" | "body" | "main" | "article");
                    let own_junk = if is_chrome_tag(tag) {
                        "tag"
                    } else if el.attr("role").is_some_and(|r| {
                        matches!(r, "navigation" | "complementary" | "contentinfo" | "banner")
                    }) {
                        "role"
                    } else if structural {
                        ""
                    } else {
                        let rules = w.rules;
                        *w.class_cache.entry(class_id.clone()).or_insert_with(|| {
                            match rules.clutter.class_mark(&class_id) {
                                ClassMark::None => "",
                                ClassMark::Weak => "class",
                                ClassMark::Strong => "class-strong",
                            }
                        })
                    };
                    let idx = w.page.elems.len();
                    let depth = if parent_elem == NO_PARENT {
                        0
                    } else {
                        w.page.elems[parent_elem].depth + 1
                    };
                    w.page.elems.push(Elem {
                        parent: parent_elem,
                        tag: tag.to_string(),
                        class_id,
                        junk: false,
                        own_junk,
                        junk_why: "",
                        hidden,
                        depth,
                        datetime: if tag == "time" {
                            el.attr("datetime").map(str::to_string)
                        } else {
                            None
                        },
                    });
                    if tag == "br" {
                        w.flush();
                        open.push(Open::Inline(parent_elem, false));
                        parent_elem = idx;
                    } else if crate::clean::doc::is_block_element(tag) {
                        w.flush();
                        w.stack.push((idx, String::new(), 0));
                        open.push(Open::Block(parent_elem));
                        parent_elem = idx;
                    } else {
                        let is_link = tag == "a";
                        if is_link {
                            w.in_link += 1;
                        }
                        if tag == "img" {
                            // Keep alt text out of the body: captions are not article text.
                        }
                        open.push(Open::Inline(parent_elem, is_link));
                        parent_elem = idx;
                    }
                }
                Node::Text(t) if skip_depth == 0 => {
                    if let Some((_, buf, links)) = w.stack.last_mut() {
                        buf.push_str(&t[..]);
                        if w.in_link > 0 {
                            *links += t.chars().filter(|c| !c.is_whitespace()).count();
                        }
                    }
                }
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                if !node.value().is_element() {
                    continue;
                }
                match open.pop() {
                    Some(Open::Skip) => skip_depth = skip_depth.saturating_sub(1),
                    Some(Open::Block(prev)) => {
                        w.flush();
                        w.stack.pop();
                        parent_elem = prev;
                    }
                    Some(Open::Inline(prev, is_link)) => {
                        if is_link {
                            w.in_link = w.in_link.saturating_sub(1);
                        }
                        parent_elem = prev;
                    }
                    None => {}
                }
            }
        }
    }
    w.flush();
    let mut page = w.page;
    settle_junk(&mut page);
    page
}

/// Paragraph length that counts as prose when guarding class-based junk marks.
const PROSE_CHARS: usize = 80;

/// Decides final junk flags. Class names and hiding are hints, the text is evidence:
/// - a chrome or boilerplate mark is ignored on an element that holds most of the page's
///   prose, because no page puts its article inside an ad slot or a menu; such marks come from
///   over-broad class names ("page-ad-margins", a form wrapping the page);
/// - a weak mark (a boilerplate class name, `hidden`) is also ignored on an element whose own
///   text reads as an article: several long paragraphs with few links, not copies of text
///   found elsewhere on the page (a hidden microdata copy of the article). Page builders name
///   their text boxes "widget" ("elementor-widget-text-editor"), layouts name the column
///   beside a menu "sidebar-content", and streaming renderers ship the article in a hidden
///   `<div hidden id="S:0">` that a script reveals.
///
/// Comment threads (a strong class mark), `nav`/`footer`/`aside` and landmark roles keep
/// their mark unless they hold most of the page.
fn settle_junk(page: &mut Page) {
    let n = page.elems.len();
    let mut prose = vec![0usize; n];
    let mut text = vec![0usize; n];
    let mut links = vec![0usize; n];
    let mut prose_paras = vec![0usize; n];
    // Prose that also stands elsewhere on the page (a hidden microdata copy of the article).
    let mut copied = vec![0usize; n];
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for b in page.blocks.iter().filter(|b| b.text.len() >= PROSE_CHARS) {
        *seen.entry(b.text.as_str()).or_default() += 1;
    }
    let mut total = 0usize;
    for b in &page.blocks {
        let len = b.text.chars().count();
        let is_prose = len >= PROSE_CHARS;
        let is_copy = is_prose && seen.get(b.text.as_str()).is_some_and(|&c| c > 1);
        let clean_prose = is_prose && b.link_chars * 5 < len;
        if is_prose {
            total += len;
        }
        let mut e = b.owner;
        while e != NO_PARENT {
            text[e] += len;
            links[e] += b.link_chars;
            if is_prose {
                prose[e] += len;
            }
            if clean_prose {
                prose_paras[e] += 1;
            }
            if is_copy {
                copied[e] += len;
            }
            e = page.elems[e].parent;
        }
    }
    let reads_as_article = |e: usize| {
        prose_paras[e] >= 2
            && prose[e] >= 500
            && prose[e] * 10 >= text[e] * 6
            && links[e] * 5 < text[e]
            && copied[e] * 2 < prose[e]
    };
    let mut junk = vec![""; n];
    for (e, el) in page.elems.iter().enumerate() {
        let parent_junk = el.parent != NO_PARENT && !junk[el.parent].is_empty();
        let holds_article = prose[e] * 2 > total && prose[e] >= 400;
        junk[e] = if parent_junk {
            match junk[el.parent] {
                "tag" | "in-tag" => "in-tag",
                "role" | "in-role" => "in-role",
                "class" | "in-class" | "class-strong" | "in-class-strong" => "in-class",
                _ => "in-hidden",
            }
        } else if el.hidden {
            if reads_as_article(e) { "" } else { "hidden" }
        } else if el.own_junk.is_empty()
            || holds_article
            || (el.own_junk == "class" && reads_as_article(e))
        {
            ""
        } else {
            el.own_junk
        };
    }
    for (el, j) in page.elems.iter_mut().zip(junk) {
        el.junk = !j.is_empty();
        el.junk_why = j;
    }
    for b in &mut page.blocks {
        b.junk = page.elems[b.owner].junk;
    }
}
