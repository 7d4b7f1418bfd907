//! JSON-LD (`<script type="application/ld+json">`) article metadata.
//!
//! Publishers describe their article for search engines in schema.org terms; where present it
//! is the most reliable source of headline, authors and dates, and its `articleBody` is a
//! useful cross-check for the structurally extracted text.

use serde_json::Value;

/// Article facts found in JSON-LD.
#[derive(Debug, Default, Clone)]
pub struct LdArticle {
    /// `headline` or `name`.
    pub headline: Option<String>,
    /// `datePublished`.
    pub date_published: Option<String>,
    /// Names from `author` (people first, organisations after).
    pub authors: Vec<String>,
    /// `articleBody`.
    pub body: Option<String>,
}

fn is_article_type(v: &Value) -> bool {
    let check = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("article") || s.contains("posting") || s == "report" || s == "webpage"
    };
    match v.get("@type") {
        Some(Value::String(s)) => check(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(check),
        _ => false,
    }
}

fn string_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(a) => a.iter().find_map(|x| string_of(Some(x))),
        Value::Object(_) => None,
        _ => None,
    }
}

fn author_names(v: Option<&Value>, out: &mut Vec<String>) {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => out.push(s.trim().to_string()),
        Some(Value::Array(a)) => a.iter().for_each(|x| author_names(Some(x), out)),
        Some(Value::Object(o)) => {
            if let Some(n) = string_of(o.get("name")) {
                out.push(n);
            }
        }
        _ => {}
    }
}

fn visit(v: &Value, best: &mut Option<LdArticle>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| visit(x, best)),
        Value::Object(o) => {
            if let Some(g) = o.get("@graph") {
                visit(g, best);
            }
            if !is_article_type(v) {
                return;
            }
            let mut art = LdArticle {
                headline: string_of(o.get("headline")).or_else(|| string_of(o.get("name"))),
                date_published: string_of(o.get("datePublished"))
                    .or_else(|| string_of(o.get("dateCreated"))),
                body: string_of(o.get("articleBody")),
                ..LdArticle::default()
            };
            author_names(o.get("author"), &mut art.authors);
            // Prefer the richest article object (a page may also describe a WebPage).
            let rank = |a: &LdArticle| {
                usize::from(a.body.is_some()) * 4
                    + usize::from(a.date_published.is_some()) * 2
                    + usize::from(!a.authors.is_empty())
            };
            if best.as_ref().is_none_or(|b| rank(&art) > rank(b)) {
                *best = Some(art);
            }
        }
        _ => {}
    }
}

/// Parses every JSON-LD script and returns the best article description, if any.
pub fn parse(scripts: &[String]) -> Option<LdArticle> {
    let mut best = None;
    for s in scripts {
        // Invalid JSON-LD is common on real pages: skip it instead of failing the page.
        if let Ok(v) = serde_json::from_str::<Value>(s.trim()) {
            visit(&v, &mut best);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_and_author_objects() {
        let s = r#"{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"X"},
            {"@type":"NewsArticle","headline":"H","datePublished":"2020-01-02T03:04:05Z",
             "author":[{"@type":"Person","name":"Jane Roe"}],"articleBody":"Body text."}]}"#;
        let a = parse(&[s.to_string()]).unwrap();
        assert_eq!(a.headline.as_deref(), Some("H"));
        assert_eq!(a.authors, vec!["Jane Roe".to_string()]);
        assert_eq!(a.body.as_deref(), Some("Body text."));
    }

    #[test]
    fn bad_json_is_ignored() {
        assert!(parse(&["{not json".to_string()]).is_none());
    }
}
