//! JSON Feed, one item at a time.
//!
//! feed-rs reads a JSON Feed with serde in one piece: one item with a wrongly typed field
//! (a numeric `url`, a string for `tags`, a `null` item) fails the whole document, and the
//! well-formed items beside it are lost. Here each item is checked against the JSON Feed 1.1
//! types first; a malformed one is set aside with the reason, and feed-rs reads the
//! document made of the rest. Attachments, `image` and `banner_image` (which feed-rs turns
//! into links or ignores) are read here.

use serde_json::{Map, Value};

use crate::model::{EntryMedia, Media, MediaRole, SkippedItem};

/// A JSON Feed document made safe for feed-rs: its well-formed items only, in order, with
/// each item's media beside it.
pub(super) struct Checked {
    /// The document to hand to feed-rs.
    pub(super) text: String,
    /// Media of each kept item, in order.
    pub(super) media: Vec<EntryMedia>,
    pub(super) skipped: Vec<SkippedItem>,
}

/// What is wrong with a document that cannot be read at all.
pub(super) enum Unreadable {
    NotJson(String),
    NotAFeed(String),
}

/// Checks a JSON Feed document item by item.
pub(super) fn check(text: &str) -> Result<Checked, Unreadable> {
    let mut doc: Value =
        serde_json::from_str(text).map_err(|e| Unreadable::NotJson(e.to_string()))?;
    let Some(top) = doc.as_object_mut() else {
        return Err(Unreadable::NotAFeed(
            "the document is not a JSON object".into(),
        ));
    };
    match top.get("version") {
        // JSON Feed 1.0 was announced with an http:// version URL, which feed-rs refuses.
        Some(Value::String(v)) if v.starts_with("http://jsonfeed.org/version/1") => {
            let v = v.replacen("http://", "https://", 1);
            top.insert("version".into(), Value::String(v));
        }
        Some(Value::String(v)) if v.starts_with("https://jsonfeed.org/version/1") => {}
        Some(Value::String(v)) => {
            return Err(Unreadable::NotAFeed(format!(
                "unsupported JSON Feed version {v:?}"
            )));
        }
        _ => {
            return Err(Unreadable::NotAFeed(
                "no JSON Feed \"version\" (is this a JSON Feed?)".into(),
            ));
        }
    }
    // The feed's own optional fields: a wrongly typed one is dropped, not fatal.
    for key in [
        "home_page_url",
        "feed_url",
        "description",
        "icon",
        "favicon",
        "language",
    ] {
        if top.get(key).is_some_and(|v| !v.is_string()) {
            top.remove(key);
        }
    }
    if !top.get("title").is_some_and(Value::is_string) {
        top.insert("title".into(), Value::String(String::new()));
    }
    if top
        .get("author")
        .is_some_and(|a| author_problem(a).is_some())
    {
        top.remove("author");
    }
    if let Some(Value::Array(list)) = top.get_mut("authors") {
        list.retain(|a| author_problem(a).is_none());
    } else if top.contains_key("authors") {
        top.remove("authors");
    }
    let items = match top.remove("items") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Unreadable::NotAFeed("\"items\" is not a list".into())),
        None => return Err(Unreadable::NotAFeed("the feed has no \"items\"".into())),
    };
    let mut kept = Vec::with_capacity(items.len());
    let mut media = Vec::with_capacity(items.len());
    let mut skipped = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match check_item(item) {
            Ok((item, m)) => {
                kept.push(item);
                media.push(m);
            }
            Err((label, reason)) => skipped.push(SkippedItem {
                position: i + 1,
                label,
                reason,
            }),
        }
    }
    top.insert("items".into(), Value::Array(kept));
    Ok(Checked {
        text: doc.to_string(),
        media,
        skipped,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn author_problem(a: &Value) -> Option<String> {
    let Value::Object(a) = a else {
        return Some(format!("an author is {}, not an object", kind(a)));
    };
    for key in ["name", "url", "avatar"] {
        if let Some(v) = a.get(key).filter(|v| !v.is_string() && !v.is_null()) {
            return Some(format!("author {key} is {}, not a string", kind(v)));
        }
    }
    None
}

/// How a malformed item names itself in a warning, if it can.
fn label_of(item: &Map<String, Value>) -> Option<String> {
    for key in ["id", "title", "url"] {
        match item.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                let s: String = s.trim().chars().take(80).collect();
                return Some(format!("{key} {s:?}"));
            }
            Some(Value::Number(n)) if key == "id" => return Some(format!("id {n}")),
            _ => {}
        }
    }
    None
}

/// Checks one item against JSON Feed 1.1's types. A kept item comes back with its `id`
/// coerced to a string (the spec asks readers to) and its attachments taken out into its
/// media; a malformed one as (how it names itself, what is wrong).
fn check_item(item: Value) -> Result<(Value, EntryMedia), (Option<String>, String)> {
    let Value::Object(mut item) = item else {
        return Err((None, format!("the item is {}, not an object", kind(&item))));
    };
    let label = label_of(&item);
    let fail = |reason: String| Err((label.clone(), reason));
    match item.get("id") {
        Some(Value::Number(n)) => {
            let id = n.to_string();
            item.insert("id".into(), Value::String(id));
        }
        Some(Value::String(_) | Value::Null) | None => {}
        Some(other) => return fail(format!("id is {}, not a string", kind(other))),
    }
    for key in [
        "url",
        "external_url",
        "title",
        "content_html",
        "content_text",
        "summary",
        "image",
        "banner_image",
        "date_published",
        "date_modified",
        "language",
    ] {
        if let Some(v) = item.get(key).filter(|v| !v.is_string() && !v.is_null()) {
            return fail(format!("{key} is {}, not a string", kind(v)));
        }
        if item.get(key).is_some_and(Value::is_null) {
            item.remove(key);
        }
    }
    match item.get("tags") {
        None | Some(Value::Null) => {
            item.remove("tags");
        }
        Some(Value::Array(tags)) => {
            if let Some(t) = tags.iter().find(|t| !t.is_string()) {
                return fail(format!("a tag is {}, not a string", kind(t)));
            }
        }
        Some(other) => return fail(format!("tags is {}, not a list of strings", kind(other))),
    }
    if let Some(problem) = item
        .get("author")
        .filter(|a| !a.is_null())
        .and_then(author_problem)
    {
        return fail(problem);
    }
    match item.get("authors") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            if let Some(p) = list.iter().find_map(author_problem) {
                return fail(p);
            }
        }
        Some(other) => return fail(format!("authors is {}, not a list", kind(other))),
    }
    for key in ["author", "authors"] {
        if item.get(key).is_some_and(Value::is_null) {
            item.remove(key);
        }
    }
    let mut media = EntryMedia::default();
    match item.remove("attachments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for a in &list {
                match attachment(a) {
                    Ok(m) => media.files.push(m),
                    Err(why) => return fail(why),
                }
            }
        }
        Some(other) => return fail(format!("attachments is {}, not a list", kind(&other))),
    }
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
    media.image = text("image");
    media.banner_image = text("banner_image");
    Ok((Value::Object(item), media))
}

/// One JSON Feed attachment: `url` and `mime_type` required, sizes and duration numbers.
fn attachment(a: &Value) -> Result<Media, String> {
    let Value::Object(a) = a else {
        return Err(format!("an attachment is {}, not an object", kind(a)));
    };
    let string = |key: &str, required: bool| -> Result<Option<String>, String> {
        match a.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(format!("an attachment has no {key}")),
            Some(v) => Err(format!("attachment {key} is {}, not a string", kind(v))),
        }
    };
    let number = |key: &str| -> Result<Option<u64>, String> {
        match a.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_u64().or_else(|| n.as_f64().map(|f| f as u64))),
            Some(v) => Err(format!("attachment {key} is {}, not a number", kind(v))),
        }
    };
    Ok(Media {
        url: string("url", true)?.unwrap_or_default(),
        role: MediaRole::Enclosure,
        mime: string("mime_type", true)?,
        title: string("title", false)?,
        length: number("size_in_bytes")?.filter(|l| *l > 0),
        duration: number("duration_in_seconds")?,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(items: &str) -> Checked {
        let doc = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"T","items":{items}}}"#
        );
        check(&doc).ok().expect("readable")
    }

    #[test]
    fn wrongly_typed_items_are_set_aside_with_their_reason() {
        let c = checked(
            r#"[{"id":"a","title":"good"},
                {"id":"b","url":5},
                null,
                {"id":"c","tags":"news"},
                {"id":7,"title":"numeric ids are coerced"},
                {"title":"bad attachment","attachments":[{"url":"x"}]}]"#,
        );
        let reasons: Vec<String> = c.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            reasons,
            [
                "item 2 (id \"b\"): url is a number, not a string",
                "item 3: the item is null, not an object",
                "item 4 (id \"c\"): tags is a string, not a list of strings",
                "item 6 (title \"bad attachment\"): an attachment has no mime_type",
            ]
        );
        let kept: Value = serde_json::from_str(&c.text).unwrap();
        let ids: Vec<&str> = kept["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "7"]);
        assert_eq!(c.media.len(), 2);
    }

    #[test]
    fn attachments_and_images_become_media() {
        let c = checked(
            r#"[{"id":"a","image":"https://x.example/i.jpg","banner_image":"https://x.example/b.jpg",
                 "attachments":[{"url":"https://x.example/a.mp3","mime_type":"audio/mpeg",
                 "size_in_bytes":123,"duration_in_seconds":61,"title":"MP3"}]}]"#,
        );
        let m = &c.media[0];
        assert_eq!(m.image.as_deref(), Some("https://x.example/i.jpg"));
        assert_eq!(m.banner_image.as_deref(), Some("https://x.example/b.jpg"));
        assert_eq!(
            m.files,
            [Media {
                url: "https://x.example/a.mp3".into(),
                role: MediaRole::Enclosure,
                mime: Some("audio/mpeg".into()),
                length: Some(123),
                duration: Some(61),
                title: Some("MP3".into()),
                ..Default::default()
            }]
        );
        assert!(!c.text.contains("attachments"), "{}", c.text);
    }

    #[test]
    fn a_document_without_items_or_version_is_not_a_feed() {
        assert!(matches!(
            check(r#"{"version":"https://jsonfeed.org/version/1.1"}"#),
            Err(Unreadable::NotAFeed(_))
        ));
        assert!(matches!(
            check(r#"{"items":[]}"#),
            Err(Unreadable::NotAFeed(_))
        ));
        assert!(matches!(check("{"), Err(Unreadable::NotJson(_))));
    }
}
