//! The status page (`GET /`): what wirefeed fetches, how that went, what it publishes and
//! the stories it merged. Plain HTML with its style inline: no script, nothing to load
//! from elsewhere, readable on a phone and in a text browser.

use chrono::{DateTime, Utc};

use super::Format;
use super::atom::feed_url;
use crate::clean::escape_html as esc;
use crate::config::Config;
use crate::model::{SourceOverview, StoredStory};

const STYLE: &str = "
:root { color-scheme: light dark; --muted: #6b7280; --line: #e5e7eb; --ok: #15803d;
        --warn: #b45309; --bad: #b91c1c; --accent: #1d4ed8; }
@media (prefers-color-scheme: dark) { :root { --line: #374151; --accent: #93c5fd; } }
body { font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto;
       max-width: 68rem; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
p.lead { color: var(--muted); margin: 0 0 1rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); } .err { color: var(--bad); font-size: .85rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem;
         border: 1px solid currentColor; white-space: nowrap; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
ul.stories { list-style: none; padding: 0; margin: 0; }
ul.stories li { padding: .45rem 0; border-bottom: 1px solid var(--line); }
.formats a { margin-right: .6rem; }
.scroll { overflow-x: auto; }
";

fn time(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => format!(
            "<time datetime=\"{}\">{}</time>",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            t.format("%Y-%m-%d %H:%M UTC")
        ),
        None => "<span class=\"muted\">never</span>".into(),
    }
}

fn outcome(s: &SourceOverview) -> String {
    let (class, text) = match s.last_outcome.as_deref() {
        None => ("muted", "not fetched yet"),
        Some("error") => ("bad", "error"),
        Some(o @ ("new" | "updated")) => ("ok", o),
        Some(o) => ("muted", o),
    };
    let mut out = format!("<span class=\"badge {class}\">{}</span>", esc(text));
    if s.consecutive_errors > 0 {
        let class = if s.consecutive_errors >= 3 {
            "bad"
        } else {
            "warn"
        };
        out.push_str(&format!(
            " <span class=\"badge {class}\" title=\"consecutive errors\">{} in a row</span>",
            s.consecutive_errors
        ));
    }
    if let Some(e) = s.last_error.as_deref().filter(|_| s.consecutive_errors > 0) {
        out.push_str(&format!("<div class=\"err\">{}</div>", esc(e)));
    }
    out
}

/// Renders the page. `sources` are the configured sources' rows (in config order);
/// `stories` the newest stories across all sources.
pub fn render_status(
    config: &Config,
    sources: &[SourceOverview],
    stories: &[StoredStory],
    now: DateTime<Utc>,
) -> String {
    let base = &config.server.base_url;
    // Whoever may see this page holds the reader token, or the admin token that makes the
    // reader's no secret: subscribe links carry it, so that they work when followed.
    let subscribe = |feed: &str, format: Format| {
        let url = feed_url(base, feed, format.ext());
        match &config.server.token {
            Some(t) => format!(
                "{url}?token={}",
                url::form_urlencoded::byte_serialize(t.expose().as_bytes()).collect::<String>()
            ),
            None => url,
        }
    };
    let mut head = String::new();
    for f in &config.feeds {
        for format in Format::ALL {
            head.push_str(&format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                format.media_type(),
                esc(&f.title),
                format.label(),
                esc(&subscribe(&f.name, format))
            ));
        }
    }
    let failing = sources.iter().filter(|s| s.consecutive_errors > 0).count();
    let entries: u64 = sources.iter().map(|s| s.entries).sum();
    let mut body = format!(
        "<h1>wirefeed</h1>\n<p class=\"lead\">{} source{}, {} entr{}, {} feed{}{}. \
         As of {}.</p>\n",
        sources.len(),
        if sources.len() == 1 { "" } else { "s" },
        entries,
        if entries == 1 { "y" } else { "ies" },
        config.feeds.len(),
        if config.feeds.len() == 1 { "" } else { "s" },
        if failing > 0 {
            format!(" — <span class=\"bad\">{failing} failing</span>")
        } else {
            String::new()
        },
        time(Some(now)),
    );

    body.push_str("<h2 id=\"feeds\">Feeds</h2>\n");
    if config.feeds.is_empty() {
        body.push_str("<p class=\"muted\">No [[feeds]] in the config yet.</p>\n");
    } else {
        body.push_str(
            "<div class=\"scroll\"><table><thead><tr><th>Feed</th><th>Sources</th>\
             <th>Subscribe</th></tr></thead><tbody>\n",
        );
        for f in &config.feeds {
            let formats: String = Format::ALL
                .iter()
                .map(|fmt| {
                    format!(
                        "<a href=\"{}\" type=\"{}\">{}</a>",
                        esc(&subscribe(&f.name, *fmt)),
                        fmt.media_type(),
                        fmt.label()
                    )
                })
                .collect();
            let mut notes = Vec::new();
            if !f.dedup {
                notes.push("every entry".to_string());
            }
            if f.min_outlets > 1 {
                notes.push(format!("stories from ≥ {} outlets", f.min_outlets));
            }
            if !f.include.is_empty() || !f.exclude.is_empty() {
                notes.push("keyword filter".into());
            }
            if let Some(l) = &f.language {
                notes.push(format!("language {l}"));
            }
            body.push_str(&format!(
                "<tr><td><strong>{}</strong> <span class=\"muted\">{}</span>{}</td>\
                 <td class=\"num\">{}</td><td class=\"formats\">{formats}</td></tr>\n",
                esc(&f.title),
                esc(&f.name),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!("<div class=\"muted\">{}</div>", esc(&notes.join(", ")))
                },
                f.sources.len()
            ));
        }
        body.push_str("</tbody></table></div>\n");
    }

    body.push_str("<h2 id=\"stories\">Recent stories</h2>\n");
    if stories.is_empty() {
        body.push_str("<p class=\"muted\">No stories yet.</p>\n");
    } else {
        body.push_str("<ul class=\"stories\">\n");
        for s in stories {
            let e = &s.entry;
            let title = match e.link.as_deref() {
                Some(l) => format!("<a href=\"{}\">{}</a>", esc(l), esc(&e.title)),
                None => esc(&e.title),
            };
            let outlets = s.outlets();
            body.push_str(&format!(
                "<li>{title}<br><span class=\"muted\">{} · {} outlet{}{}</span></li>\n",
                time(Some(e.published)),
                outlets,
                if outlets == 1 { "" } else { "s" },
                match s.revisions {
                    0 | 1 => String::new(),
                    2 => " · updated once".into(),
                    n => format!(" · updated {} times", n - 1),
                }
            ));
        }
        body.push_str("</ul>\n");
    }

    body.push_str(
        "<h2 id=\"sources\">Sources</h2>\n<div class=\"scroll\"><table><thead><tr>\
         <th>Source</th><th>Last fetch</th><th>Result</th><th>Next run</th>\
         <th>Entries</th></tr></thead><tbody>\n",
    );
    for s in sources {
        let site = s
            .feed_link
            .as_deref()
            .filter(|l| super::atom::is_web_url(l));
        let name = match site {
            Some(l) => format!("<a href=\"{}\">{}</a>", esc(l), esc(&s.name)),
            None => esc(&s.name),
        };
        body.push_str(&format!(
            "<tr id=\"source-{}\"><td><strong>{name}</strong>{}<div class=\"muted\">{}</div></td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&s.name),
            s.feed_title
                .as_deref()
                .map(|t| format!(" <span class=\"muted\">{}</span>", esc(t)))
                .unwrap_or_default(),
            // `url` is the address as it may be shown; empty for a local file.
            if s.url.is_empty() {
                "local file".to_string()
            } else {
                esc(&s.url)
            },
            time(s.last_fetch_at),
            outcome(s),
            time(s.next_run_at),
            s.entries
        ));
    }
    body.push_str("</tbody></table></div>\n");
    let admin = config
        .server
        .admin_token
        .as_ref()
        .or(config.server.token.as_ref());
    body.push_str(&format!(
        "<p class=\"muted\"><a href=\"{}opml{}\">Sources as OPML</a> · wirefeed {}</p>\n",
        esc(base.as_str()),
        admin
            .map(|t| format!(
                "?token={}",
                url::form_urlencoded::byte_serialize(t.expose().as_bytes()).collect::<String>()
            ))
            .unwrap_or_default(),
        env!("CARGO_PKG_VERSION")
    ));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>wirefeed</title>\n{head}<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}
