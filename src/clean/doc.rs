//! One entry's HTML, parsed once.
//!
//! Every question the clean stage asks of an entry body (what are its paragraphs, which of
//! them are clutter, which elements are trackers or share widgets, what do the source's
//! selectors match, what is the safe HTML to publish, what text does dedup fingerprint) is
//! answered from this one tree. Parsing was most of the stage's cost when each question
//! parsed the body again; [`EntryDoc`] is what the stage passes along instead.
//!
//! Depth is capped before the tree is built ([`super::depth`]): html5ever checks the stack
//! of open elements for every tag, so a hostile body of 100,000 nested `<div>`s would
//! otherwise take minutes.

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node};

use super::depth;
use super::repair;

/// A run of text the clutter rules judge as one unit: a paragraph, a heading, a list item, a
/// line between `<br>`s, the loose text of a container.
#[derive(Debug, Clone)]
pub struct Block {
    /// The nearest block-level element (or the fragment root) that holds the text.
    pub owner: NodeId,
    /// The text nodes that make up the run.
    pub texts: Vec<NodeId>,
    /// Whitespace-collapsed, repaired text.
    pub text: String,
    /// Characters of `text` inside links.
    pub link_chars: usize,
    /// Whether the run is all the text of `owner` (dropping the block drops the element).
    pub whole: bool,
    /// Whether the owner is a heading (`h1`–`h6`).
    pub heading: bool,
}

/// An entry field's HTML as one parsed tree, with its blocks.
pub struct EntryDoc {
    html: Html,
    blocks: Vec<Block>,
}

impl std::fmt::Debug for EntryDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryDoc")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

/// Elements that start a new text block; everything else is inline and joins its block.
pub fn is_block_element(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "figure"
            | "figcaption"
            | "address"
            | "center"
            | "details"
            | "summary"
            | "form"
            | "fieldset"
            | "hr"
            | "body"
            | "html"
    )
}

/// Elements whose content is never text (scripts, styles, templates, embedded objects).
pub fn is_hidden_content(tag: &str) -> bool {
    matches!(
        tag,
        "script" | "style" | "noscript" | "template" | "head" | "title" | "svg" | "math"
    )
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Builder state: the open block owners, each with its pending run.
struct Run {
    owner: NodeId,
    texts: Vec<NodeId>,
    buf: String,
    link_chars: usize,
    /// Whether this owner has already flushed a run (then a later run is not `whole`).
    split: bool,
}

impl EntryDoc {
    /// Parses an entry field. Plain text (no markup, no entities) is one block, and needs no
    /// parser: the tree is built directly.
    pub fn parse(fragment: &str) -> EntryDoc {
        let html = if fragment.contains(['<', '&']) {
            Html::parse_fragment(&depth::limit_nesting(fragment, depth::MAX_DEPTH))
        } else {
            text_fragment(fragment)
        };
        let blocks = collect_blocks(&html);
        EntryDoc { html, blocks }
    }

    /// The parsed tree (the fragment's children sit under its root `<html>` element).
    pub fn html(&self) -> &Html {
        &self.html
    }

    /// The blocks in document order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The root element whose children are the fragment.
    pub fn root(&self) -> ElementRef<'_> {
        self.html.root_element()
    }
}

/// The tree html5ever builds for markup-free text: the fragment's `<html>` root holding one
/// text node.
fn text_fragment(text: &str) -> Html {
    thread_local! {
        static EMPTY: Html = Html::parse_fragment("");
    }
    let mut html = EMPTY.with(Html::clone);
    let root = html.root_element().id();
    if !text.is_empty()
        && let Some(mut node) = html.tree.get_mut(root)
    {
        node.append(Node::Text(scraper::node::Text { text: text.into() }));
    }
    html
}

/// One walk over the tree: text runs by their nearest block-level owner, split at `<br>`.
fn collect_blocks(html: &Html) -> Vec<Block> {
    let root = html.root_element();
    let mut out = Vec::new();
    let mut stack = vec![Run {
        owner: root.id(),
        texts: Vec::new(),
        buf: String::new(),
        link_chars: 0,
        split: false,
    }];
    let mut links = 0usize;
    let mut skip = 0usize;
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let tag = el.name();
                    if skip > 0 || is_hidden_content(tag) {
                        skip += 1;
                        continue;
                    }
                    if tag == "br" {
                        flush(&mut stack, &mut out, true);
                    } else if is_block_element(tag) && node.id() != root.id() {
                        flush(&mut stack, &mut out, true);
                        stack.push(Run {
                            owner: node.id(),
                            texts: Vec::new(),
                            buf: String::new(),
                            link_chars: 0,
                            split: false,
                        });
                    } else if tag == "a" {
                        links += 1;
                    }
                }
                Node::Text(t) if skip == 0 => {
                    if let Some(run) = stack.last_mut() {
                        run.buf.push_str(t);
                        run.texts.push(node.id());
                        if links > 0 {
                            run.link_chars += t.chars().filter(|c| !c.is_whitespace()).count();
                        }
                    }
                }
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let tag = el.name();
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                if is_block_element(tag) && node.id() != root.id() {
                    flush(&mut stack, &mut out, false);
                    stack.pop();
                    // The enclosing owner's later text is a separate run.
                    if let Some(parent) = stack.last_mut() {
                        parent.split = true;
                    }
                } else if tag == "a" {
                    links = links.saturating_sub(1);
                }
            }
        }
    }
    flush(&mut stack, &mut out, false);
    // Headings are known by their owner's tag.
    for b in &mut out {
        b.heading = html
            .tree
            .get(b.owner)
            .and_then(|n| n.value().as_element().map(|e| is_heading(e.name())))
            .unwrap_or(false);
    }
    out
}

/// Ends the pending run of the innermost open owner; `more` says the owner continues after.
fn flush(stack: &mut [Run], out: &mut Vec<Block>, more: bool) {
    let Some(run) = stack.last_mut() else {
        return;
    };
    let texts = std::mem::take(&mut run.texts);
    let buf = std::mem::take(&mut run.buf);
    let link_chars = std::mem::take(&mut run.link_chars);
    let was_split = run.split;
    run.split |= more && !texts.is_empty();
    if buf.trim().is_empty() {
        return;
    }
    let text = repair::repair_text(&collapse_ws(&buf)).into_owned();
    out.push(Block {
        owner: run.owner,
        texts,
        link_chars: link_chars.min(text.chars().count()),
        text,
        whole: !was_split && !more,
        heading: false,
    });
}

/// Collapses every whitespace run (no-break and zero-width spaces included) into one space.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for ch in s.chars() {
        if ch.is_whitespace() || ch == '\u{a0}' || ch == '\u{200b}' {
            pending = !out.is_empty();
        } else {
            if pending {
                out.push(' ');
                pending = false;
            }
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(html: &str) -> Vec<String> {
        EntryDoc::parse(html)
            .blocks()
            .iter()
            .map(|b| b.text.clone())
            .collect()
    }

    #[test]
    fn paragraphs_lines_and_loose_text_are_blocks() {
        assert_eq!(
            texts(
                "Loose <b>text</b><p>One <a href=x>link</a></p>Tail<br>line two<ul><li>a</li><li>b</li></ul>"
            ),
            ["Loose text", "One link", "Tail", "line two", "a", "b"]
        );
        assert_eq!(texts("plain text only"), ["plain text only"]);
        assert!(texts("<script>var x=1</script><style>p{}</style>").is_empty());
    }

    #[test]
    fn whole_blocks_know_they_are_their_elements_text() {
        let d = EntryDoc::parse(
            "<p>All of it</p><p>First<br>second</p><div>Lead<p>inner</p>tail</div>",
        );
        let whole: Vec<(&str, bool)> = d
            .blocks()
            .iter()
            .map(|b| (b.text.as_str(), b.whole))
            .collect();
        assert_eq!(
            whole,
            [
                ("All of it", true),
                ("First", false),
                ("second", false),
                ("Lead", false),
                ("inner", true),
                ("tail", false)
            ]
        );
    }

    #[test]
    fn link_characters_and_headings_are_counted() {
        let d = EntryDoc::parse("<h3>Read more</h3><p><a href=x>abcd</a> efgh</p>");
        assert!(d.blocks()[0].heading);
        assert_eq!(d.blocks()[1].link_chars, 4);
    }

    #[test]
    fn plain_text_builds_the_tree_the_parser_would() {
        let direct = EntryDoc::parse("Two  words\nand more");
        let parsed = EntryDoc::parse("<b></b>Two  words\nand more");
        assert_eq!(direct.blocks()[0].text, parsed.blocks()[0].text);
        assert_eq!(
            crate::clean::sanitize::render(
                &direct,
                &Default::default(),
                &url::Url::parse("https://x.example/").unwrap()
            ),
            "Two  words\nand more"
        );
    }

    #[test]
    fn hostile_nesting_parses_in_linear_time() {
        let n = 100_000;
        let html = format!("{}deep text{}", "<div>".repeat(n), "</div>".repeat(n));
        let d = EntryDoc::parse(&html);
        assert_eq!(d.blocks().len(), 1);
        assert_eq!(d.blocks()[0].text, "deep text");
    }
}
