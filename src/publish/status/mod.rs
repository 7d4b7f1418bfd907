//! The status page (`GET /`): what wirefeed fetches, how that went, what it publishes and
//! the stories it merged. Plain HTML with its style inline: no script, nothing to load
//! from elsewhere, readable on a phone and in a text browser.
//!
//! Failing sources come first. A long list is paged ([`PAGE_SIZE`] a page) and can be
//! narrowed by links (`?show=failing`, `?show=disabled`) or by name (`?q=bbc`): links,
//! not a form, since the page's CSP allows no form submission.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::atom::feed_url;
use super::{Format, Publisher, Turn};
use crate::clean::escape_html as esc;
use crate::config::Config;
use crate::model::{SourceOverview, StoredStory};
use crate::store::{StoreError, StoryQuery};

mod view;

pub use view::{Show, StatusView};
use view::{failing, listed};

/// Sources listed on one page of the status page.
pub const PAGE_SIZE: usize = 50;

/// How long a rendered status page is reused when nothing was ingested: its fetch times
/// move even when no entry does, but not so fast that every request must read the store.
const STATUS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The status page as last rendered (its default view), and when.
pub(super) struct StatusPage {
    html: Arc<String>,
    generation: u64,
    made: std::time::Instant,
}

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
p.pager { font-size: .92rem; }
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
/// `stories` the newest stories across all sources; `view` which sources to list.
pub fn render_status(
    config: &Config,
    sources: &[SourceOverview],
    stories: &[StoredStory],
    now: DateTime<Utc>,
    view: &StatusView,
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
    let failing_count = sources.iter().filter(|s| failing(s)).count();
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
        if failing_count > 0 {
            format!(" — <span class=\"bad\">{failing_count} failing</span>")
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
            // A feed without a title is called by its name: shown once.
            let name = if f.title == f.name {
                String::new()
            } else {
                format!(" <span class=\"muted\">{}</span>", esc(&f.name))
            };
            body.push_str(&format!(
                "<tr><td><strong>{}</strong>{name}{}</td>\
                 <td class=\"num\">{}</td><td class=\"formats\">{formats}</td></tr>\n",
                esc(&f.title),
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

    let admin = config
        .server
        .admin_token
        .as_ref()
        .or(config.server.token.as_ref());
    let token = admin
        .map(|t| url::form_urlencoded::byte_serialize(t.expose().as_bytes()).collect::<String>());
    // A link to another view of this page, keeping the token the viewer came with.
    let view_link = |show: Show, page: usize, label: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        match show {
            Show::Failing => {
                q.append_pair("show", "failing");
            }
            Show::Disabled => {
                q.append_pair("show", "disabled");
            }
            Show::All => {}
        }
        if let Some(text) = &view.query {
            q.append_pair("q", text);
        }
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        let mut query = q.finish();
        if let Some(t) = &token {
            query.push_str(if query.is_empty() {
                "token="
            } else {
                "&token="
            });
            query.push_str(t);
        }
        let href = if query.is_empty() {
            format!("{}#sources", base)
        } else {
            format!("{}?{query}#sources", base)
        };
        format!("<a href=\"{}\">{}</a>", esc(&href), esc(label))
    };
    let (rows, matching) = listed(config, sources, view);
    let disabled = sources
        .iter()
        .filter(|s| config.source(&s.name).is_some_and(|c| !c.enabled))
        .count();
    body.push_str("<h2 id=\"sources\">Sources</h2>\n<p class=\"pager\">Show: ");
    let mut shows = vec![(Show::All, format!("all ({})", sources.len()))];
    if failing_count > 0 {
        shows.push((Show::Failing, format!("failing ({failing_count})")));
    }
    if disabled > 0 {
        shows.push((Show::Disabled, format!("disabled ({disabled})")));
    }
    let shows: Vec<String> = shows
        .into_iter()
        .map(|(show, label)| {
            if show == view.show {
                format!("<strong>{}</strong>", esc(&label))
            } else {
                view_link(show, 1, &label)
            }
        })
        .collect();
    body.push_str(&shows.join(" · "));
    if let Some(q) = &view.query {
        body.push_str(&format!(
            " · names containing “{}” ({matching}) · {}",
            esc(q),
            view_link(view.show, 1, "clear")
        ));
    }
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    if pages > 1 {
        let page = view.page.min(pages);
        body.push_str(&format!(" · page {page} of {pages}"));
        if page > 1 {
            body.push_str(&format!(
                " {}",
                view_link(view.show, page - 1, "« previous")
            ));
        }
        if page < pages {
            body.push_str(&format!(" {}", view_link(view.show, page + 1, "next »")));
        }
    }
    body.push_str(
        " <span class=\"muted\">(add <code>?q=</code>name to the address to find one)</span></p>\n\
         <div class=\"scroll\"><table><thead><tr>\
         <th>Source</th><th>Last fetch</th><th>Result</th><th>Next run</th>\
         <th>Entries</th></tr></thead><tbody>\n",
    );
    if rows.is_empty() {
        body.push_str("<tr><td colspan=\"5\" class=\"muted\">No source here.</td></tr>\n");
    }
    for s in rows {
        let site = s
            .feed_link
            .as_deref()
            .filter(|l| super::atom::is_web_url(l));
        let name = match site {
            Some(l) => format!("<a href=\"{}\">{}</a>", esc(l), esc(&s.name)),
            None => esc(&s.name),
        };
        let enabled = config.source(&s.name).is_none_or(|c| c.enabled);
        let result = if enabled {
            outcome(s)
        } else {
            "<span class=\"badge muted\">disabled</span>".to_string()
        };
        body.push_str(&format!(
            "<tr id=\"source-{}\"><td><strong>{name}</strong>{}<div class=\"muted\">{}</div></td>\
             <td>{}</td><td>{result}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&s.name),
            // The feed's own title, when it says more than the source's name.
            s.feed_title
                .as_deref()
                .filter(|t| !t.trim().is_empty() && *t != s.name)
                .map(|t| format!(" <span class=\"muted\">{}</span>", esc(t)))
                .unwrap_or_default(),
            // `url` is the address as it may be shown; empty for a local file.
            if s.url.is_empty() {
                "local file".to_string()
            } else {
                esc(&s.url)
            },
            time(s.last_fetch_at),
            if enabled {
                time(s.next_run_at)
            } else {
                "<span class=\"muted\">—</span>".into()
            },
            s.entries
        ));
    }
    body.push_str("</tbody></table></div>\n");
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

impl Publisher {
    /// The status page's default view without touching the store: the current snapshot, or
    /// under the daemon the last one while the refresher makes the next (a busy ingest must
    /// not make someone reading it wait). `None`: the caller renders ([`Self::status_page`]).
    pub fn status_snapshot(&self, view: &StatusView) -> Option<Arc<String>> {
        if !view.is_default() {
            return None;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let status = self.status.lock().expect("status lock");
        let p = status.as_ref()?;
        if p.generation == generation && p.made.elapsed() < STATUS_TTL {
            return Some(p.html.clone());
        }
        if self.refreshes_in_background() {
            self.status_wanted.store(true, Ordering::SeqCst);
            self.refresh.notify_one();
            return Some(p.html.clone());
        }
        None
    }

    /// The status page (`GET /`), re-rendered after an ingest or every few seconds.
    /// Blocking: call from a blocking context.
    pub fn status_page(&self, view: &StatusView) -> Result<Arc<String>, StoreError> {
        if !view.is_default() {
            // Other views are asked for by someone reading the page: rendered as asked.
            return self.render_status_page(view).map(Arc::new);
        }
        if let Some(html) = self.status_snapshot(view) {
            return Ok(html);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let fresh = || {
            let status = self.status.lock().expect("status lock");
            status
                .as_ref()
                .filter(|p| p.generation >= generation && p.made.elapsed() < STATUS_TTL)
                .map(|p| p.html.clone())
        };
        let _flight = match self.rendering.turn(None, fresh) {
            Turn::Ready(html) => return Ok(html),
            Turn::Render(f) => f,
        };
        self.refresh_status()
    }

    /// Renders the status page's default view into its snapshot. Blocking.
    pub(in crate::publish) fn refresh_status(&self) -> Result<Arc<String>, StoreError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let html = Arc::new(self.render_status_page(&StatusView::from_query(None))?);
        *self.status.lock().expect("status lock") = Some(StatusPage {
            html: html.clone(),
            generation,
            made: std::time::Instant::now(),
        });
        Ok(html)
    }

    fn render_status_page(&self, view: &StatusView) -> Result<String, StoreError> {
        let config = self.config();
        let (rows, stories) = self.with_reader(|store| {
            let rows = store.source_overview()?;
            let names: Vec<String> = config.sources.iter().map(|s| s.name.clone()).collect();
            let stories = store.stories(&StoryQuery {
                sources: &names,
                limit: 20,
                keep: &|_| true,
            })?;
            Ok((rows, stories))
        })?;
        let mut stories = stories;
        self.provenance().apply(&mut stories);
        // Configured sources in config order; one not stored yet shows as never fetched.
        // Each as it may be shown: no credentials, a local one by name only.
        let rows: HashMap<&str, &SourceOverview> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let sources: Vec<SourceOverview> = config
            .sources
            .iter()
            .map(|s| {
                let mut row = rows
                    .get(s.name.as_str())
                    .map(|r| (*r).clone())
                    .unwrap_or_else(|| SourceOverview {
                        name: s.name.clone(),
                        ..Default::default()
                    });
                row.url = s.public_url().map(String::from).unwrap_or_default();
                row.feed_link = row.feed_link.and_then(|l| s.redactor.public_link(&l));
                row.last_error = row.last_error.map(|e| s.redactor.scrub(&e).into_owned());
                row
            })
            .collect();
        Ok(render_status(&config, &sources, &stories, Utc::now(), view))
    }
}

#[cfg(test)]
mod tests;
