//! Changes to the config file made by wirefeed itself (`wirefeed opml import`, `add`,
//! `remove`), written so that the user's file stays theirs: comments, order, spacing and
//! quoting are kept (`toml_edit` edits the document, it does not re-serialise a parsed
//! struct), and the result must pass the same validation as a hand-edited file before it
//! replaces anything ([`replace_file`], atomically).

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};
use url::Url;

use super::{Config, ConfigError, valid_name};
use crate::opml::OpmlSource;

/// What an import did, for the user.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportReport {
    /// (name, url) of every source added.
    pub added: Vec<(String, String)>,
    /// (url, why) of every subscription left out.
    pub skipped: Vec<(String, String)>,
}

/// Why the config could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: not editable TOML: {message}")]
    Toml { path: String, message: String },
    #[error("{path}: `sources` is not a list of [[sources]] tables")]
    SourcesShape { path: String },
    #[error("the edited config would be invalid, so nothing was written:\n{0}")]
    Invalid(#[from] ConfigError),
    #[error("a source named {0:?} exists already; choose another --name")]
    NameTaken(String),
    #[error("{0:?} cannot be a source name: use 1-64 letters, digits, '-', '_' or '.'")]
    BadName(String),
    #[error("{url} is already configured as source {name:?}")]
    AlreadySource { url: String, name: String },
    #[error("no source named {0:?} in the config")]
    NoSuchSource(String),
}

/// Writes the config so that no reader (the daemon reloading) ever sees half of it: a
/// temporary file beside the real one (a symlink's target is replaced, with its
/// permissions kept), then a rename over it.
pub fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let real = std::fs::canonicalize(path)?;
    let tmp = real.with_extension("toml.wirefeed-edit");
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(&real) {
        std::fs::set_permissions(&tmp, meta.permissions())?;
    }
    std::fs::rename(&tmp, &real).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn parse_doc(text: &str, path: &Path) -> Result<DocumentMut, EditError> {
    text.parse()
        .map_err(|e: toml_edit::TomlError| EditError::Toml {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

/// Appends `tables` right after the last existing source (so the file keeps its order),
/// the first one preceded by `comment`.
fn append_sources(
    doc: &mut DocumentMut,
    path: &Path,
    tables: Vec<Table>,
    comment: &str,
) -> Result<(), EditError> {
    let after = doc
        .get("sources")
        .and_then(Item::as_array_of_tables)
        .and_then(|a| a.iter().filter_map(Table::position).max());
    let sources = doc
        .entry("sources")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| EditError::SourcesShape {
            path: path.display().to_string(),
        })?;
    for (i, mut t) in tables.into_iter().enumerate() {
        if i == 0 {
            t.decor_mut().set_prefix(format!("\n{comment}\n"));
        }
        if let Some(p) = after {
            t.set_position(p);
        }
        sources.push(t);
    }
    Ok(())
}

/// The document as text, validated against `path` like a hand-edited file.
fn finish(doc: &DocumentMut, path: &Path) -> Result<String, EditError> {
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Config::parse(&out, path)?;
    Ok(out)
}

/// A source's table: name, url and tags.
fn source_table(name: &str, url: &Url, tags: &[&str]) -> Table {
    let mut t = Table::new();
    t.insert("name", value(name));
    t.insert("url", value(url.as_str()));
    if !tags.is_empty() {
        t.insert(
            "tags",
            value(toml_edit::Array::from_iter(tags.iter().copied())),
        );
    }
    t
}

/// Adds one source (`wirefeed add`): named `name` when given (as written; it must be
/// free), else after the feed's title (or its host). Returns the new text and the name.
pub fn add_source(
    text: &str,
    path: &Path,
    current: &Config,
    url: &Url,
    name: Option<&str>,
    title: Option<&str>,
    tags: &[String],
) -> Result<(String, String), EditError> {
    if let Some(s) = current.sources.iter().find(|s| s.url == *url) {
        return Err(EditError::AlreadySource {
            url: url.to_string(),
            name: s.name.clone(),
        });
    }
    let taken = |n: &str| current.sources.iter().any(|s| s.name == n);
    let name = match name {
        Some(n) if !valid_name(n) => return Err(EditError::BadName(n.into())),
        Some(n) if taken(n) => return Err(EditError::NameTaken(n.into())),
        Some(n) => n.to_string(),
        None => {
            let base = slug(title, url.as_str());
            let mut name = base.clone();
            let mut n = 2;
            while taken(&name) || !valid_name(&name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            name
        }
    };
    let mut doc = parse_doc(text, path)?;
    let tags: Vec<&str> = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let table = source_table(&name, url, &tags);
    append_sources(&mut doc, path, vec![table], "# Added by `wirefeed add`.")?;
    Ok((finish(&doc, path)?, name))
}

/// Puts `comments` before the first top-level table (or array-of-tables entry) placed after
/// `pos`, keeping that table's own comments below them.
fn move_comments_to_next(doc: &mut DocumentMut, pos: isize, comments: &str) {
    let mut next: Option<&mut Table> = None;
    let mut best = isize::MAX;
    for (_, item) in doc.as_table_mut().iter_mut() {
        let tables: Vec<&mut Table> = match item {
            Item::Table(t) => vec![t],
            Item::ArrayOfTables(a) => a.iter_mut().collect(),
            _ => Vec::new(),
        };
        for t in tables {
            if let Some(p) = t.position()
                && p > pos
                && p < best
            {
                best = p;
                next = Some(t);
            }
        }
    }
    if let Some(t) = next {
        let own = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string();
        t.decor_mut()
            .set_prefix(format!("{}{}", comments, own.trim_start_matches('\n')));
    }
}

/// What `wirefeed remove` changed besides the source's own table.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RemoveReport {
    /// Feeds that named the source in their `sources` list, which no longer do.
    pub feeds: Vec<String>,
}

/// Takes a source out of the config (`wirefeed remove`): its `[[sources]]` table, and its
/// name from every feed's `sources` list (which would otherwise name an unknown source).
/// Its stored entries stay in the database.
pub fn remove_source(
    text: &str,
    path: &Path,
    name: &str,
) -> Result<(String, RemoveReport), EditError> {
    let mut doc = parse_doc(text, path)?;
    let sources = doc
        .get_mut("sources")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| EditError::NoSuchSource(name.into()))?;
    let at = sources
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name))
        .ok_or_else(|| EditError::NoSuchSource(name.into()))?;
    let gone = sources.remove(at);
    // Comments above the table may be the file's own (a header): they move to the next
    // table rather than disappear with it.
    let comments = gone
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('#'))
        .map(str::to_string);
    if let (Some(comments), Some(pos)) = (comments, gone.position()) {
        move_comments_to_next(&mut doc, pos, &comments);
    }
    let mut report = RemoveReport::default();
    if let Some(feeds) = doc.get_mut("feeds").and_then(Item::as_array_of_tables_mut) {
        for feed in feeds.iter_mut() {
            let feed_name = feed
                .get("name")
                .and_then(Item::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(list) = feed.get_mut("sources").and_then(Item::as_array_mut) {
                let before = list.len();
                list.retain(|v| v.as_str() != Some(name));
                if list.len() != before {
                    report.feeds.push(feed_name);
                }
            }
        }
    }
    Ok((finish(&doc, path)?, report))
}

/// A config name from a title: lower-case ASCII letters and digits, runs of anything else
/// as one `-`; the feed's host when the title gives nothing.
fn slug(title: Option<&str>, url: &str) -> String {
    let from = |s: &str| -> String {
        let mut out = String::new();
        for c in s.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-')
            .chars()
            .take(48)
            .collect::<String>()
    };
    let name = title.map(from).unwrap_or_default();
    if !name.is_empty() {
        return name.trim_end_matches('-').to_string();
    }
    let host = Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_string())
        })
        .unwrap_or_default();
    let name = from(&host);
    if name.is_empty() {
        "source".into()
    } else {
        name
    }
}

/// Adds the subscriptions to the config text as `[[sources]]` tables after the existing
/// ones, skipping URLs already configured and URLs wirefeed cannot fetch. Returns the new
/// text (validated with [`Config::parse`] against `path`) and what was done.
pub fn add_sources(
    text: &str,
    path: &Path,
    current: &Config,
    subscriptions: &[OpmlSource],
) -> Result<(String, ImportReport), EditError> {
    let mut doc = parse_doc(text, path)?;
    let mut names: Vec<String> = current.sources.iter().map(|s| s.name.clone()).collect();
    let mut urls: Vec<String> = current.sources.iter().map(|s| s.url.to_string()).collect();
    let mut report = ImportReport::default();
    let mut tables = Vec::new();
    for sub in subscriptions {
        let url = match Url::parse(&sub.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => u,
            Ok(u) => {
                report.skipped.push((
                    sub.url.clone(),
                    format!("{} URLs are not fetched", u.scheme()),
                ));
                continue;
            }
            Err(e) => {
                report
                    .skipped
                    .push((sub.url.clone(), format!("not a URL: {e}")));
                continue;
            }
        };
        if urls.contains(&url.to_string()) {
            report
                .skipped
                .push((sub.url.clone(), "already a source".into()));
            continue;
        }
        let base = slug(sub.title.as_deref(), url.as_str());
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) || !valid_name(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let tags: Vec<&str> = sub
            .tags
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        let t = source_table(&name, &url, &tags);
        names.push(name.clone());
        urls.push(url.to_string());
        report.added.push((name, url.to_string()));
        tables.push(t);
    }
    if tables.is_empty() {
        return Ok((text.to_string(), report));
    }
    let count = tables.len();
    let comment = format!(
        "# Added by `wirefeed opml import` ({count} source{}).",
        if count == 1 { "" } else { "s" }
    );
    append_sources(&mut doc, path, tables, &comment)?;
    Ok((finish(&doc, path)?, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# My wirefeed\n[server]\nlisten = \"127.0.0.1:8080\"  # loopback only\n\n\
        [[sources]]\nname = \"ap\"   # the wire\nurl = \"https://ap.example/rss\"\n\n\
        [[feeds]]\nname = \"all\"\n";

    fn sub(title: &str, url: &str, tags: &[&str]) -> OpmlSource {
        OpmlSource {
            title: Some(title.into()),
            url: url.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn adds_sources_after_the_last_one_keeping_comments() {
        let path = Path::new("/tmp/wirefeed.toml");
        let current = Config::parse(TEXT, path).unwrap();
        let (out, report) = add_sources(
            TEXT,
            path,
            &current,
            &[
                sub(
                    "The Guardian – World",
                    "https://g.example/world/rss",
                    &["news"],
                ),
                sub("AP again", "https://ap.example/rss", &[]),
                sub("ap", "https://other.example/feed", &[]),
                sub("Local", "file:///etc/passwd", &[]),
            ],
        )
        .unwrap();
        assert!(out.starts_with(
            "# My wirefeed\n[server]\nlisten = \"127.0.0.1:8080\"  # loopback only\n"
        ));
        assert!(out.contains("name = \"ap\"   # the wire\n"));
        let g = out.find("the-guardian-world").unwrap();
        assert!(g < out.find("[[feeds]]").unwrap(), "{out}");
        assert_eq!(
            report.added,
            vec![
                (
                    "the-guardian-world".into(),
                    "https://g.example/world/rss".into()
                ),
                ("ap-2".into(), "https://other.example/feed".into()),
            ]
        );
        assert_eq!(report.skipped.len(), 2);
        let cfg = Config::parse(&out, path).unwrap();
        assert_eq!(cfg.sources.len(), 3);
        assert_eq!(cfg.sources[1].tags, ["news"]);
    }

    #[test]
    fn a_config_without_sources_gets_its_first() {
        let text = "[server]\nlisten = \"127.0.0.1:8080\"\n";
        let path = Path::new("/tmp/wirefeed.toml");
        let current = Config::parse(text, path).unwrap();
        let (out, report) = add_sources(
            text,
            path,
            &current,
            &[sub("", "https://www.x.example/a", &[])],
        )
        .unwrap();
        assert_eq!(report.added[0].0, "x-example");
        assert_eq!(Config::parse(&out, path).unwrap().sources.len(), 1);
    }
}

#[cfg(test)]
mod add_remove_tests {
    use super::*;

    const TEXT: &str = "# Mine\n[[sources]]\nname = \"ap\"  # the wire\nurl = \"https://ap.example/rss\"\n\n\
        [[sources]]\nname = \"bbc\"\nurl = \"https://bbc.example/rss\"\n\n\
        [[feeds]]\nname = \"wire\"\nsources = [\"ap\", \"bbc\"]  # both\n\n[[feeds]]\nname = \"all\"\n";

    #[test]
    fn a_source_is_added_by_name_and_tags_keeping_the_file() {
        let path = Path::new("/tmp/wirefeed.toml");
        let current = Config::parse(TEXT, path).unwrap();
        let url = Url::parse("https://quay.example/feed.xml").unwrap();
        let tags = ["harbour".to_string(), " local ".to_string()];
        let (out, name) =
            add_source(TEXT, path, &current, &url, Some("Quay_Post"), None, &tags).unwrap();
        assert_eq!(name, "Quay_Post");
        assert!(
            out.starts_with("# Mine\n[[sources]]\nname = \"ap\"  # the wire\n"),
            "{out}"
        );
        let cfg = Config::parse(&out, path).unwrap();
        let s = cfg.source("Quay_Post").unwrap();
        assert_eq!(s.tags, ["harbour", "local"]);
        assert!(out.find("Quay_Post").unwrap() < out.find("[[feeds]]").unwrap());
        let (_, derived) = add_source(
            TEXT,
            path,
            &current,
            &url,
            None,
            Some("Quay Post: News"),
            &[],
        )
        .unwrap();
        assert_eq!(derived, "quay-post-news");
        assert!(matches!(
            add_source(TEXT, path, &current, &url, Some("ap"), None, &[]),
            Err(EditError::NameTaken(_))
        ));
        let again = Url::parse("https://ap.example/rss").unwrap();
        assert!(matches!(
            add_source(TEXT, path, &current, &again, None, None, &[]),
            Err(EditError::AlreadySource { .. })
        ));
    }

    #[test]
    fn a_source_is_removed_with_its_name_in_feeds() {
        let path = Path::new("/tmp/wirefeed.toml");
        let (out, report) = remove_source(TEXT, path, "ap").unwrap();
        assert_eq!(report.feeds, ["wire"]);
        let cfg = Config::parse(&out, path).unwrap();
        assert_eq!(cfg.sources.len(), 1);
        assert_eq!(cfg.feed("wire").unwrap().sources, ["bbc"]);
        assert!(out.starts_with("# Mine\n"), "{out}");
        assert!(out.contains("# both"), "{out}");
        assert!(matches!(
            remove_source(TEXT, path, "nope"),
            Err(EditError::NoSuchSource(_))
        ));
    }
}
