//! Wire-copy metadata: agency, dateline and byline.
//!
//! Merging copies of one agency story across publishers needs to know which agency wrote it and
//! where it was filed. Those facts sit in bylines ("Via AP news wire", "By Jane Roe, Reuters"),
//! in the dateline that opens the first paragraph ("CARACAS, Venezuela (AP) —") and in credit
//! lines; agency names themselves come from `agencies.txt`.

use std::sync::OnceLock;

use regex::Regex;

use super::date;
use super::dom::{NO_PARENT, Page};
use super::rules::Rules;

/// Longest line (in words) still read as a byline.
const MAX_BYLINE_WORDS: usize = 14;

fn dateline_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        // Fixed pattern, covered by unit tests.
        Regex::new(
            r"^\s*([A-Z][A-Z.'’\-]+(?:\s+[A-Z][A-Z.'’\-]+){0,3}(?:,\s*[A-Z][A-Za-z.'’\-]+(?:\s+[A-Z][A-Za-z.'’\-]+){0,2})?)\s*(?:\(([^)]{1,40})\)\s*)?(?:[—–]|--?)\s",
        )
        .expect("static regex")
    })
}

fn byline_start_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^(?i:by|via|from)\s+(\S)").expect("static regex"))
}

/// A dateline found at the start of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dateline {
    /// Place, e.g. "CARACAS, Venezuela".
    pub place: String,
    /// Agency code named in the parentheses, if it is a known agency.
    pub agency: Option<String>,
}

/// Reads a dateline such as "CARACAS, Venezuela (AP) — ..." from the start of `para`.
pub fn dateline(para: &str, rules: &Rules) -> Option<Dateline> {
    let caps = dateline_re().captures(para)?;
    let place = caps
        .get(1)?
        .as_str()
        .trim()
        .trim_end_matches(',')
        .to_string();
    // The first word must be an all-caps place name of at least two letters.
    let first = place.split([' ', ',']).next()?;
    if first.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return None;
    }
    let agency = caps
        .get(2)
        .and_then(|m| rules.agency_in(m.as_str()))
        .map(|a| a.code.clone());
    Some(Dateline { place, agency })
}

fn has_byline_class(page: &Page, mut e: usize) -> bool {
    for _ in 0..4 {
        if e == NO_PARENT {
            return false;
        }
        let c = &page.elems[e].class_id;
        if c.contains("byline") || c.contains("author") || c.contains("contributor") {
            return true;
        }
        e = page.elems[e].parent;
    }
    false
}

/// Finds the byline line of the page: a short "By ..."/"Via ..." line or a byline-classed one.
pub fn byline(page: &Page, rules: &Rules, title: Option<&str>) -> Option<String> {
    for b in &page.blocks {
        if title.is_some_and(|t| t == b.text)
            || matches!(page.elems[b.owner].tag.as_str(), "h1" | "h2" | "h3")
        {
            continue;
        }
        let words = b.text.split_whitespace().count();
        if words == 0 || words > MAX_BYLINE_WORDS {
            continue;
        }
        let lower = b.text.to_lowercase();
        if lower.contains('©') || lower.contains("copyright") || lower.contains("rights reserved")
        {
            continue;
        }
        let starts = byline_start_re().is_match(&b.text);
        if !starts && !has_byline_class(page, b.owner) {
            continue;
        }
        // Cut a trailing date stamp: "By Jane Roe, June 13, 2023" -> "By Jane Roe".
        let mut text = b.text.as_str();
        if let Some(d) = date::parse_text(text, rules) {
            text = &text[..d.span.0];
        }
        let text = text
            .trim()
            .trim_end_matches([',', '|', '-', '–', '—', '·', '•'])
            .trim();
        let named = text
            .split_whitespace()
            .skip(usize::from(starts))
            .any(|w| w.chars().next().is_some_and(char::is_uppercase));
        let wordy = text
            .split_whitespace()
            .filter(|w| w.chars().next().is_some_and(char::is_alphabetic))
            .count();
        if named && wordy >= 2 {
            return Some(text.to_string());
        }
    }
    None
}

/// Person names in a byline, without "By", agency names or job titles.
pub fn authors_from_byline(byline: &str, rules: &Rules) -> Option<String> {
    // From the name's first character, which may be several bytes long (a fuzzed page had
    // "By \u{FFFD}…", and slicing one byte before the match's end split it).
    let body = byline_start_re()
        .captures(byline)
        .and_then(|c| c.get(1))
        .map_or(byline, |m| &byline[m.start()..]);
    let mut names = Vec::new();
    for part in body
        .split([',', '&', ';', '|'])
        .flat_map(|p| p.split(" and "))
    {
        let p = part.trim();
        let lower = p.to_ascii_lowercase();
        if p.is_empty()
            || rules.agency_in(p).is_some()
            || [
                "wire",
                "staff",
                "news",
                "correspondent",
                "reporter",
                "editor",
                "writer",
            ]
            .iter()
            .any(|w| lower.contains(w))
        {
            continue;
        }
        let words: Vec<&str> = p.split_whitespace().collect();
        let looks_like_name = (2..=4).contains(&words.len())
            && words
                .iter()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase));
        if looks_like_name {
            names.push(p.to_string());
        }
    }
    (!names.is_empty()).then(|| names.join(", "))
}

/// The agency credited anywhere on the page: byline, dateline, author fields, credit lines.
pub fn agency(
    page: &Page,
    rules: &Rules,
    byline: Option<&str>,
    dateline: Option<&Dateline>,
    authors: &[String],
) -> Option<String> {
    if let Some(a) = byline.and_then(|b| rules.agency_in(b)) {
        return Some(a.code.clone());
    }
    if let Some(a) = dateline.and_then(|d| d.agency.clone()) {
        return Some(a);
    }
    if let Some(a) = authors.iter().find_map(|n| rules.agency_in(n)) {
        return Some(a.code.clone());
    }
    // Credit and copyright lines: "Copyright 2023 The Associated Press. All rights reserved."
    page.blocks.iter().find_map(|b| {
        let l = b.text.to_ascii_lowercase();
        let credit = l.starts_with("©") || l.starts_with("copyright") || l.contains("©");
        (credit && b.text.split_whitespace().count() <= 20)
            .then(|| rules.agency_in(&b.text).map(|a| a.code.clone()))
            .flatten()
    })
}

/// Wire metadata read from a feed entry's text rather than a whole page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryWire {
    pub agency: Option<String>,
    /// Place of the dateline, e.g. "CARACAS, Venezuela".
    pub dateline: Option<String>,
    pub byline: Option<String>,
    /// A date stamp found in the text ("Tuesday 13 June 2023 03:03 BST"), for entries whose
    /// feed gives no date.
    pub published: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Reads agency, dateline, byline and a date stamp from an entry's paragraphs (in order) and
/// the feed's author field. The same rules as page extraction, on plain blocks.
pub fn from_blocks(blocks: &[String], author: Option<&str>, rules: &Rules) -> EntryWire {
    let mut w = EntryWire::default();
    let short = |b: &str| b.split_whitespace().count() <= MAX_BYLINE_WORDS;
    w.byline = blocks
        .iter()
        .take(8)
        .find(|b| short(b) && byline_start_re().is_match(b) && !b.contains('©'))
        .map(|b| b.trim().to_string());
    let dl = blocks
        .iter()
        .find(|b| b.split_whitespace().count() > MAX_BYLINE_WORDS)
        .and_then(|b| dateline(b, rules));
    w.dateline = dl.as_ref().map(|d| d.place.clone());
    let credit = blocks.iter().rev().take(6).find(|b| {
        // Cheap tests first: this runs for every entry of every feed.
        b.len() < 400
            && b.split_whitespace().count() <= 30
            && (b.contains('©') || {
                let l = b.to_lowercase();
                l.starts_with("copyright") || l.contains("contributed to this report")
            })
    });
    w.agency = w
        .byline
        .as_deref()
        .and_then(|b| rules.agency_in(b))
        .map(|a| a.code.clone())
        .or_else(|| dl.and_then(|d| d.agency))
        .or_else(|| {
            author
                .and_then(|a| rules.agency_in(a))
                .map(|a| a.code.clone())
        })
        .or_else(|| {
            credit
                .and_then(|c| rules.agency_in(c))
                .map(|a| a.code.clone())
        });
    if w.byline.is_none() {
        w.byline = author
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
    }
    w.published = blocks
        .iter()
        .take(8)
        .filter(|b| b.len() < 120 && b.bytes().any(|c| c.is_ascii_digit()))
        .filter(|b| date::is_date_line(b, rules))
        .find_map(|b| date::parse_text(b, rules))
        .filter(|d| d.has_time)
        .map(|d| d.when);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dateline_with_agency() {
        let r = Rules::builtin();
        let d = dateline("CARACAS, Venezuela (AP) — In his first visit", r).unwrap();
        assert_eq!(d.place, "CARACAS, Venezuela");
        assert_eq!(d.agency.as_deref(), Some("AP"));
        let d = dateline("LONDON (Reuters) - Britain's economy grew", r).unwrap();
        assert_eq!(d.place, "LONDON");
        assert_eq!(d.agency.as_deref(), Some("Reuters"));
        let d = dateline("WASHINGTON — The Senate voted", r).unwrap();
        assert_eq!(d.agency, None);
        assert!(dateline("In his first visit — a quote", r).is_none());
    }

    #[test]
    fn entry_wire_metadata_from_blocks() {
        let r = Rules::builtin();
        let blocks: Vec<String> = [
            "Via AP news wire",
            "Tuesday 13 June 2023 03:03 BST",
            "CARACAS, Venezuela (AP) — Iran's president met his Venezuelan counterpart on Monday and signed agreements.",
            "More text of the story follows here.",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let w = from_blocks(&blocks, None, r);
        assert_eq!(w.agency.as_deref(), Some("AP"));
        assert_eq!(w.dateline.as_deref(), Some("CARACAS, Venezuela"));
        assert_eq!(w.byline.as_deref(), Some("Via AP news wire"));
        assert_eq!(
            w.published.unwrap().to_rfc3339(),
            "2023-06-13T03:03:00+01:00"
        );

        let reuters = vec![
            "LONDON (Reuters) - Britain's economy grew faster than expected in the third quarter, official data showed.".to_string(),
            "Reporting by Jane Roe; Editing by John Doe".to_string(),
        ];
        let w = from_blocks(&reuters, Some("Jane Roe"), r);
        assert_eq!(w.agency.as_deref(), Some("Reuters"));
        assert_eq!(w.byline.as_deref(), Some("Jane Roe"));

        let credit = vec![
            "The council voted on the plan late on Tuesday after a long debate in the chamber."
                .to_string(),
            "Copyright 2024 The Associated Press. All rights reserved.".to_string(),
        ];
        assert_eq!(from_blocks(&credit, None, r).agency.as_deref(), Some("AP"));
        let none = vec![
            "A local story by our own staff about the new bus routes in town today.".to_string(),
        ];
        assert_eq!(from_blocks(&none, None, r), EntryWire::default());
    }

    #[test]
    fn authors_skip_agencies() {
        let r = Rules::builtin();
        assert_eq!(
            authors_from_byline("By Jane Roe and John Doe, Associated Press", r).as_deref(),
            Some("Jane Roe, John Doe")
        );
        assert_eq!(authors_from_byline("Via AP news wire", r), None);
    }

    #[test]
    fn a_byline_whose_name_starts_with_a_wide_character_is_not_split() {
        let r = Rules::builtin();
        assert_eq!(
            authors_from_byline("By \u{c9}mile Zola", r).as_deref(),
            Some("\u{c9}mile Zola")
        );
        // Found by fuzzing (html_page): a replacement character right after "By".
        let _ = authors_from_byline("By \u{fffd}\u{fffd} x", r);
    }
}
