//! Article extraction: the clean body text and wire metadata of a news page.
//!
//! wirefeed republishes feeds without publisher clutter and merges wire copies of one story, so
//! it needs the story's own paragraphs (no navigation, donation appeals, sign-up prompts) plus
//! who filed it and when. The pipeline is layered so each layer stays generic:
//!
//! 1. [`dom`] flattens the page and marks chrome (semantic tags, hidden and boilerplate-classed
//!    elements from `boilerplate.txt`);
//! 2. [`score`] finds the container with the most prose;
//! 3. [`body`] drops link lists, standfirsts, date/byline lines and phrase-rule furniture;
//! 4. [`meta`], [`jsonld`] and [`wire`] read title, author, time, agency, dateline and byline.

mod body;
mod date;
mod dom;
mod jsonld;
mod meta;
mod prestrip;
mod rules;
mod score;
mod wire;

#[cfg(test)]
mod tests;

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

pub use date::is_date_line;
pub use rules::Rules;
pub use wire::{EntryWire, authors_from_byline, from_blocks as wire_from_blocks};

/// Errors of the extraction module.
///
/// Extraction itself never fails (a page without prose yields empty text); errors come from
/// rule files supplied by the caller.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A rule file line could not be parsed or compiled.
    #[error("invalid extraction rule: {0}")]
    Rule(String),
}

/// What a news page says: the story text and the facts needed to attribute and merge it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    /// Headline as printed on the page.
    pub title: Option<String>,
    /// Body paragraphs separated by one blank line, without the title.
    pub text: String,
    /// Person names of the writers, comma-separated.
    pub author: Option<String>,
    /// Publication time in the page's own UTC offset.
    pub published: Option<DateTime<FixedOffset>>,
    /// Wire agency code ("AP", "Reuters", ...) from `agencies.txt`.
    pub agency: Option<String>,
    /// Filing place from the dateline ("CARACAS, Venezuela").
    pub dateline: Option<String>,
    /// The byline line as printed ("Via AP news wire", "By Jane Roe").
    pub byline: Option<String>,
}

impl Article {
    /// JSON form used by the CLI and feeds: unknown fields are `null`, time is RFC 3339.
    pub fn to_json(&self) -> Value {
        json!({
            "title": self.title,
            "text": self.text,
            "author": self.author,
            "published": self
                .published
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
            "agency": self.agency,
            "dateline": self.dateline,
            "byline": self.byline,
        })
    }
}

/// Extracts the article from `html` with the built-in rules.
///
/// `url` is the page address when known; it is accepted for API stability (relative links,
/// host-specific hints) but no rule depends on a particular site.
pub fn extract(html: &str, url: Option<&str>) -> Article {
    extract_with(html, url, Rules::builtin())
}

/// Extracts the article from `html` with caller-supplied `rules` (e.g. extended from config).
pub fn extract_with(html: &str, _url: Option<&str>, rules: &Rules) -> Article {
    let html = bounded(html);
    let html = crate::clean::depth::limit_nesting(&html, crate::clean::depth::MAX_DEPTH);
    let page = dom::build(&html, rules);
    let ld = jsonld::parse(&page.json_ld);
    let title = meta::title(&page, ld.as_ref());
    let stats = score::compute(&page, rules);
    let paras = match score::top_candidate(&page, &stats) {
        Some(top) => {
            let top = score::widen_to_region(&page, top);
            let roots = score::related_siblings(&page, &stats, top);
            body::collect(&page, &stats, rules, &roots, title.as_deref(), None)
        }
        None => Vec::new(),
    };
    let paras = jsonld_fallback(paras, ld.as_ref());
    let text = paras.join("\n\n");
    let dateline = paras.iter().take(3).find_map(|p| wire::dateline(p, rules));
    let byline = wire::byline(&page, rules, title.as_deref());
    let mut authors = meta::authors(&page, ld.as_ref());
    let agency = wire::agency(&page, rules, byline.as_deref(), dateline.as_ref(), &authors);
    authors.retain(|a| {
        rules
            .agency_in(a)
            .is_none_or(|_| a.split_whitespace().count() > 4)
    });
    let author = if authors.is_empty() {
        byline
            .as_deref()
            .and_then(|b| wire::authors_from_byline(b, rules))
    } else {
        Some(authors.join(", "))
    };
    Article {
        title,
        text,
        author,
        published: meta::published(&page, rules, ld.as_ref()),
        agency,
        dateline: dateline.map(|d| d.place),
        byline,
    }
}

/// Most bytes of a page the extractor reads. The largest of 890 benchmark pages is 1.8 MB;
/// the parsed tree takes about nine bytes of memory per byte of HTML, so this bounds one
/// extraction near 100 MB and a second of CPU whatever a server sends (a 50 MB page took
/// 68 s and 460 MB before).
pub const MAX_PAGE_BYTES: usize = 8 << 20;

/// The page cut to [`MAX_PAGE_BYTES`] when larger: the article of an oversized page is read
/// from its beginning, where articles are, and the rest is ignored (a degraded result, not a
/// failure). Scripts, styles and comments go first, so the cut counts what can be text.
fn bounded(html: &str) -> std::borrow::Cow<'_, str> {
    if html.len() <= MAX_PAGE_BYTES {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut slim = prestrip::prestrip(html);
    if slim.len() > MAX_PAGE_BYTES {
        let mut cut = MAX_PAGE_BYTES;
        while !slim.is_char_boundary(cut) {
            cut -= 1;
        }
        // End before the tag the cut falls in.
        let cut = slim[..cut].rfind('<').unwrap_or(cut);
        slim.truncate(cut);
    }
    std::borrow::Cow::Owned(slim)
}

/// Parses only (after the same pre-stripping as [`extract`]); lets the speed bench separate
/// parser cost from extraction logic.
pub fn parse_only(html: &str) -> usize {
    dom::parse_stripped(html)
}

/// Words below which the structural result is treated as a miss.
const MIN_BODY_WORDS: usize = 30;

/// Uses JSON-LD `articleBody` when the page's markup yielded (almost) nothing, as on pages
/// whose body is rendered by script. Otherwise the structural result wins: `articleBody` is
/// often truncated, stale or missing subheadings.
fn jsonld_fallback(paras: Vec<String>, ld: Option<&jsonld::LdArticle>) -> Vec<String> {
    let words: usize = paras.iter().map(|p| p.split_whitespace().count()).sum();
    let Some(body) = ld.and_then(|l| l.body.as_deref()) else {
        return paras;
    };
    if words >= MIN_BODY_WORDS || body.split_whitespace().count() < MIN_BODY_WORDS * 2 {
        return paras;
    }
    body.split('\n')
        .map(crate::clean::doc::collapse_ws)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Diagnostic of how a page was read, for tuning the rules against benchmark pages (not used
/// on the extraction path): every text block with what became of it ("kept", "outside" the
/// chosen containers, junk by "tag"/"role"/"class"/"hidden"/"inside" a junk element, or the
/// body filter that dropped it), and a summary line of the chosen containers.
pub fn debug_blocks(html: &str) -> (String, Vec<(String, String)>) {
    let rules = Rules::builtin();
    let html = crate::clean::depth::limit_nesting(html, crate::clean::depth::MAX_DEPTH);
    let page = dom::build(&html, rules);
    let stats = score::compute(&page, rules);
    // Junk blocks are named after the outermost junk element: its reason, tag and classes.
    let junk_root = |mut e: usize| {
        while page.elems[e].parent != dom::NO_PARENT && page.elems[page.elems[e].parent].junk {
            e = page.elems[e].parent;
        }
        let el = &page.elems[e];
        format!("{} <{} {}>", el.junk_why, el.tag, el.class_id.trim())
    };
    let mut verdicts: Vec<String> = page
        .blocks
        .iter()
        .map(|b| {
            if page.elems[b.owner].junk {
                junk_root(b.owner)
            } else {
                "outside".to_string()
            }
        })
        .collect();
    let mut summary = String::new();
    let mut ranked: Vec<usize> = (0..page.elems.len())
        .filter(|&i| stats[i].candidate && !page.elems[i].junk)
        .collect();
    ranked.sort_by(|&a, &b| stats[b].score.total_cmp(&stats[a].score));
    for &i in ranked.iter().take(6) {
        let e = &page.elems[i];
        summary.push_str(&format!(
            "cand {i} <{} {}> score={:.1} chars={} ld={:.2}\n",
            e.tag,
            e.class_id.trim(),
            stats[i].score,
            stats[i].chars,
            stats[i].link_density()
        ));
    }
    if let Some(top) = score::top_candidate(&page, &stats) {
        let top = score::widen_to_region(&page, top);
        let roots = score::related_siblings(&page, &stats, top);
        for r in &roots {
            let e = &page.elems[*r];
            summary.push_str(&format!(
                "root {r} <{}> '{}' score={:.1} chars={} ",
                e.tag,
                e.class_id.trim(),
                stats[*r].score,
                stats[*r].chars
            ));
        }
        let title = meta::title(&page, None);
        let mut inside = vec!["outside"; page.blocks.len()];
        body::collect(
            &page,
            &stats,
            rules,
            &roots,
            title.as_deref(),
            Some(&mut inside),
        );
        for (v, i) in verdicts.iter_mut().zip(inside) {
            if i != "outside" && i != "junk" {
                *v = i.to_string();
            }
        }
    }
    let blocks = page
        .blocks
        .iter()
        .zip(verdicts)
        .map(|(b, v)| (b.text.clone(), v))
        .collect();
    (summary, blocks)
}
