//! Article pages fetched for full-text sources.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, from_ts, to_ts};
use crate::model::Page;

impl Store {
    /// The cached page for a URL, if it was ever fetched.
    pub fn page(&self, url: &str) -> Result<Option<Page>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT url, etag, last_modified, fetched_at, error, title, text, author,
                        published, agency, dateline, byline
                 FROM pages WHERE url = ?1",
            )
            .and_then(|mut s| {
                s.query_row([url], |r| {
                    Ok(Page {
                        url: r.get(0)?,
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                        fetched_at: r.get(3)?,
                        error: r.get(4)?,
                        title: r.get(5)?,
                        text: r.get(6)?,
                        author: r.get(7)?,
                        published: r.get::<_, Option<i64>>(8)?.map(from_ts),
                        agency: r.get(9)?,
                        dateline: r.get(10)?,
                        byline: r.get(11)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }
}

/// Stores pages inside the caller's transaction.
pub(super) fn write_pages(tx: &rusqlite::Connection, pages: &[Page]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO pages (url, etag, last_modified, fetched_at, error, title, text,
                                       author, published, agency, dateline, byline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for p in pages {
        stmt.execute(params![
            p.url,
            p.etag,
            p.last_modified,
            p.fetched_at,
            p.error,
            p.title,
            p.text,
            p.author,
            p.published.map(to_ts),
            p.agency,
            p.dateline,
            p.byline,
        ])?;
    }
    Ok(())
}
