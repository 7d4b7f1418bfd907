//! Which sources the status page lists: all, failing or disabled ones, by name, a page of
//! them at a time; failing ones first.

use crate::config::Config;
use crate::model::SourceOverview;

use super::PAGE_SIZE;

/// Which sources the page lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Show {
    #[default]
    All,
    Failing,
    Disabled,
}

/// One view of the status page: which sources, which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusView {
    pub show: Show,
    /// Only sources whose name, title or address contains this (case-insensitive).
    pub query: Option<String>,
    /// 1-based.
    pub page: usize,
}

impl StatusView {
    /// The view a query string asks for (`show=failing&q=bbc&page=2`); unknown values are
    /// the defaults.
    pub fn from_query(query: Option<&str>) -> StatusView {
        let mut v = StatusView {
            page: 1,
            ..Default::default()
        };
        for (k, val) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match &*k {
                "show" => {
                    v.show = match &*val {
                        "failing" => Show::Failing,
                        "disabled" => Show::Disabled,
                        _ => Show::All,
                    }
                }
                "q" => v.query = Some(val.trim().to_string()).filter(|q| !q.is_empty()),
                "page" => v.page = val.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        v
    }

    pub(super) fn is_default(&self) -> bool {
        self.show == Show::All && self.query.is_none() && self.page <= 1
    }
}

/// A source's row is failing when its last attempts failed.
pub(super) fn failing(s: &SourceOverview) -> bool {
    s.consecutive_errors > 0
}

/// The sources the view lists, failing first (most failures in a row first), then in
/// config order; and how many match in all.
pub(super) fn listed<'a>(
    config: &Config,
    sources: &'a [SourceOverview],
    view: &StatusView,
) -> (Vec<&'a SourceOverview>, usize) {
    let enabled = |s: &SourceOverview| config.source(&s.name).is_none_or(|c| c.enabled);
    let q = view.query.as_deref().map(str::to_lowercase);
    let mut rows: Vec<&SourceOverview> = sources
        .iter()
        .filter(|s| match view.show {
            Show::All => true,
            Show::Failing => failing(s),
            Show::Disabled => !enabled(s),
        })
        .filter(|s| {
            q.as_deref().is_none_or(|q| {
                [
                    Some(s.name.as_str()),
                    s.feed_title.as_deref(),
                    Some(s.url.as_str()),
                ]
                .into_iter()
                .flatten()
                .any(|t| t.to_lowercase().contains(q))
            })
        })
        .collect();
    rows.sort_by_key(|s| std::cmp::Reverse(s.consecutive_errors));
    let total = rows.len();
    let start = (view.page.max(1) - 1) * PAGE_SIZE;
    (
        rows.into_iter().skip(start).take(PAGE_SIZE).collect(),
        total,
    )
}
