//! OPML 2.0 (<http://opml.org/spec2.opml>): the list-of-feeds format every reader imports
//! and exports, so that people can move their subscriptions into and out of wirefeed.
//!
//! Export lists the configured sources; import reads any reader's export (nested folders,
//! `xmlUrl` on any depth, folder names and `category` as tags) into plain records, which
//! [`crate::config::edit`] then adds to the config file without disturbing it.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::config::Config;

/// A subscription read from an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlSource {
    /// The outline's title or text (what the reader showed), if any.
    pub title: Option<String>,
    /// The feed's address (`xmlUrl`).
    pub url: String,
    /// Folder names above it and its `category` values.
    pub tags: Vec<String>,
}

/// Why an OPML file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("not well-formed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("not an OPML document (the root element is <{0}>, expected <opml>)")]
    NotOpml(String),
}

/// Renders the configured sources as OPML 2.0, one `<outline type="rss">` each, with the
/// source's tags as `category`. Deterministic: the same config gives the same bytes.
///
/// Addresses are shown as they may be (see [`crate::redact`]): without credentials, and a
/// local `file:` source as a plain outline carrying its name only. `with_secrets` writes
/// the configured addresses as they are, for a private backup.
pub fn export(config: &Config, with_secrets: bool) -> String {
    let esc = crate::clean::escape_html;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head>\n    \
         <title>wirefeed sources</title>\n",
    );
    // No <docs>: OPML 2.0 allows it, but the W3C validator does not know it.
    out.push_str(&format!(
        "    <ownerId>{}</ownerId>\n  </head>\n  <body>\n",
        esc(config.server.base_url.as_str())
    ));
    for s in &config.sources {
        let url = if with_secrets {
            Some(s.url.to_string())
        } else {
            s.public_url().map(String::from)
        };
        match url {
            Some(u) => out.push_str(&format!(
                "    <outline type=\"rss\" text=\"{n}\" title=\"{n}\" xmlUrl=\"{u}\"",
                n = esc(&s.name),
                u = esc(&u)
            )),
            None => out.push_str(&format!(
                "    <outline text=\"{n}\" title=\"{n}\"",
                n = esc(&s.name)
            )),
        }
        if !s.tags.is_empty() {
            out.push_str(&format!(" category=\"{}\"", esc(&s.tags.join(","))));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// Reads the subscriptions of an OPML document (1.0 or 2.0), in document order, each URL
/// once. Outlines without `xmlUrl` are folders: their names become tags of what they hold.
pub fn parse(text: &str) -> Result<Vec<OpmlSource>, OpmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut out: Vec<OpmlSource> = Vec::new();
    let mut root_seen = false;
    loop {
        let event = reader.read_event().map_err(|e| OpmlError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        let (element, is_empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.local_name().as_ref() == "outline" {
                    folders.pop();
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().as_ref().to_string();
        if !root_seen {
            root_seen = true;
            if name != "opml" {
                return Err(OpmlError::NotOpml(name));
            }
            continue;
        }
        if name != "outline" {
            continue;
        }
        let mut attr = std::collections::HashMap::new();
        for a in element.attributes().flatten() {
            let key = a.key.local_name().as_ref().to_ascii_lowercase();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            attr.insert(key, value);
        }
        let title = attr
            .get("title")
            .or(attr.get("text"))
            .filter(|t| !t.is_empty())
            .cloned();
        match attr.get("xmlurl").filter(|u| !u.is_empty()) {
            Some(url) => {
                let mut tags: Vec<String> = folders.iter().flatten().cloned().collect();
                for c in attr.get("category").into_iter().flat_map(|c| c.split(',')) {
                    // OPML categories may be paths ("/news/world"); each part is a tag.
                    tags.extend(
                        c.split('/')
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(String::from),
                    );
                }
                tags.dedup();
                if !out.iter().any(|s| &s.url == url) {
                    out.push(OpmlSource {
                        title,
                        url: url.clone(),
                        tags,
                    });
                }
                if !is_empty {
                    folders.push(None);
                }
            }
            None if !is_empty => folders.push(title),
            None => {}
        }
    }
    if !root_seen {
        return Err(OpmlError::NotOpml("nothing".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_folders_categories_and_skips_repeats() {
        let text = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>Mine</title></head><body>
  <outline text="News">
    <outline text="World">
      <outline type="rss" text="AP &amp; co" xmlUrl="https://ap.example/rss" category="/wire/us"/>
    </outline>
    <outline type="rss" title="Guardian" text="g" xmlUrl="https://g.example/feed"></outline>
  </outline>
  <outline type="rss" text="Again" xmlUrl="https://ap.example/rss"/>
  <outline text="Empty folder"/>
  <outline type="link" text="Not a feed" url="https://x.example/"/>
</body></opml>"#;
        let got = parse(text).unwrap();
        assert_eq!(
            got,
            vec![
                OpmlSource {
                    title: Some("AP & co".into()),
                    url: "https://ap.example/rss".into(),
                    tags: vec!["News".into(), "World".into(), "wire".into(), "us".into()],
                },
                OpmlSource {
                    title: Some("Guardian".into()),
                    url: "https://g.example/feed".into(),
                    tags: vec!["News".into()],
                },
            ]
        );
    }

    #[test]
    fn rejects_what_is_not_opml() {
        assert!(matches!(
            parse("<rss version=\"2.0\"></rss>"),
            Err(OpmlError::NotOpml(r)) if r == "rss"
        ));
        assert!(matches!(
            parse("<opml><body><outline"),
            Err(OpmlError::Xml { .. })
        ));
        assert!(matches!(parse(""), Err(OpmlError::NotOpml(_))));
    }
}
