//! Changes to the config file made by wirefeed itself (`wirefeed opml import`), written so
//! that the user's file stays theirs: comments, order, spacing and quoting are kept
//! (`toml_edit` edits the document, it does not re-serialise a parsed struct), and the
//! result must pass the same validation as a hand-edited file before it replaces anything.

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
    let shown = path.display().to_string();
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| EditError::Toml {
            path: shown.clone(),
            message: e.to_string(),
        })?;
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
        let mut t = Table::new();
        t.insert("name", value(name.as_str()));
        t.insert("url", value(url.as_str()));
        let tags: Vec<&str> = sub
            .tags
            .iter()
            .map(String::as_str)
            .filter(|t| !t.is_empty())
            .collect();
        if !tags.is_empty() {
            t.insert("tags", value(toml_edit::Array::from_iter(tags)));
        }
        names.push(name.clone());
        urls.push(url.to_string());
        report.added.push((name, url.to_string()));
        tables.push(t);
    }
    if tables.is_empty() {
        return Ok((text.to_string(), report));
    }
    // New tables go right after the last existing source, so the file keeps its order.
    let after = doc
        .get("sources")
        .and_then(Item::as_array_of_tables)
        .and_then(|a| a.iter().filter_map(Table::position).max());
    let sources = doc
        .entry("sources")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| EditError::SourcesShape {
            path: shown.clone(),
        })?;
    let count = tables.len();
    for (i, mut t) in tables.into_iter().enumerate() {
        if i == 0 {
            t.decor_mut().set_prefix(format!(
                "\n# Added by `wirefeed opml import` ({count} source{}).\n",
                if count == 1 { "" } else { "s" }
            ));
        }
        if let Some(p) = after {
            t.set_position(p);
        }
        sources.push(t);
    }
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Config::parse(&out, path)?;
    Ok((out, report))
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
