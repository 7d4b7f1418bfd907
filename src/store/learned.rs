//! Learned boilerplate blocks, per source, and per site for article pages (scope
//! `page:HOST`, which no source name can take: names have no colon).

use rusqlite::params;

use super::{Store, StoreError};
use crate::model::BlockStats;

/// A learned block as `wirefeed boilerplate` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedRow {
    pub source: String,
    pub stats: BlockStats,
}

impl Store {
    /// Everything known about a source's blocks.
    pub fn learned_blocks(&self, source: &str) -> Result<Vec<BlockStats>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT hash, entries, recent, first_seen, last_seen, sample
                 FROM learned_blocks WHERE source = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], row_to_stats)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Writes changed block stats of one scope (a source, or a site's pages: `page:HOST`) in
    /// a transaction of its own.
    pub fn save_learned(&mut self, scope: &str, blocks: &[BlockStats]) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self.begin()?;
        write_blocks(&tx, scope, blocks).map_err(|e| StoreError::Sqlite {
            path: path.clone(),
            source: e,
        })?;
        tx.commit()
            .map_err(|e| StoreError::Sqlite { path, source: e })
    }

    /// Blocks seen in at least `min_entries` distinct entries, for every source or one.
    pub fn learned_list(
        &self,
        source: Option<&str>,
        min_entries: u32,
    ) -> Result<Vec<LearnedRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT hash, entries, recent, first_seen, last_seen, sample, source
                 FROM learned_blocks WHERE entries >= ?1 AND (?2 IS NULL OR source = ?2)
                 ORDER BY source, entries DESC, sample",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![min_entries, source], |r| {
                Ok(LearnedRow {
                    stats: row_to_stats(r)?,
                    source: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn row_to_stats(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlockStats> {
    let recent: String = r.get(2)?;
    Ok(BlockStats {
        hash: r.get::<_, i64>(0)? as u64,
        entries: r.get(1)?,
        recent: serde_json::from_str(&recent).unwrap_or_default(),
        first_seen: r.get(3)?,
        last_seen: r.get(4)?,
        sample: r.get(5)?,
    })
}

/// Writes changed block stats inside the caller's transaction.
pub(super) fn write_blocks(
    tx: &rusqlite::Connection,
    source: &str,
    blocks: &[BlockStats],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO learned_blocks (source, hash, entries, recent, first_seen, last_seen, sample)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(source, hash) DO UPDATE SET entries = excluded.entries,
             recent = excluded.recent, first_seen = excluded.first_seen,
             last_seen = excluded.last_seen",
    )?;
    for b in blocks {
        stmt.execute(params![
            source,
            b.hash as i64,
            b.entries,
            serde_json::to_string(&b.recent).expect("numbers serialise"),
            b.first_seen,
            b.last_seen,
            b.sample,
        ])?;
    }
    Ok(())
}
