//! Group commit: the saves of several sources share one transaction while more are waiting.
//!
//! Why: a source's save inserts at random keys of several indexes (public ids, URL keys, text
//! hashes), so each commit wrote a hundred-odd scattered pages to the WAL, most of them again
//! at the next commit. In a 2,000-source first poll that was a third of the wall time, half
//! of it in the kernel. When sources arrive faster than the writer stores them, their saves
//! now go into one transaction (each in its own savepoint, so a failing source still rolls
//! back alone), and it commits as soon as no save is waiting for the writer, after
//! [`GROUP_MAX`] saves, or after [`GROUP_AGE`]. An idle writer therefore commits every save
//! at once, as before; a busy one commits a few times a second.
//!
//! What a crash costs: the sources of the open group, whose fetch state rolls back with their
//! entries, so they are fetched again. Nothing committed is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Store, StoreError};

/// Most saves in one group.
pub(super) const GROUP_MAX: usize = 64;

/// Longest a group stays open: what readers of other connections may lag behind a busy
/// writer.
pub(super) const GROUP_AGE: Duration = Duration::from_millis(500);

/// Counts the saves waiting for the writer, from outside its lock.
///
/// Why outside: a save decides whether to commit while it holds the lock, so only a counter
/// that the waiting saves raised before they queued tells it that another one will come.
#[derive(Debug, Clone, Default)]
pub struct SaveQueue(Arc<AtomicUsize>);

/// One save's place in the queue, from before it asks for the writer's lock until it has it.
#[derive(Debug)]
pub struct QueueTicket(Arc<AtomicUsize>);

impl SaveQueue {
    /// Announces a save that is about to wait for the writer: hold the ticket until the lock
    /// is taken, then drop it before calling [`Store::save_fetch`].
    pub fn enter(&self) -> QueueTicket {
        self.0.fetch_add(1, Ordering::SeqCst);
        QueueTicket(self.0.clone())
    }

    fn waiting(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for QueueTicket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The open group transaction.
#[derive(Debug)]
pub(super) struct Group {
    saves: usize,
    opened: Instant,
}

impl Store {
    /// The counter a caller raises (with [`SaveQueue::enter`]) while its save waits for this
    /// writer; saves that find others waiting leave their transaction open for them.
    pub fn save_queue(&self) -> SaveQueue {
        self.queue.clone()
    }

    /// Opens the group transaction for a save, unless one is open.
    pub(super) fn join_group(&mut self) -> Result<(), StoreError> {
        if self.group.is_none() {
            self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
            self.group = Some(Group {
                saves: 0,
                opened: Instant::now(),
            });
        }
        Ok(())
    }

    /// After a save: commits the group unless another save is waiting and the group is still
    /// small and young.
    pub(super) fn after_save(&mut self) -> Result<(), StoreError> {
        let Some(g) = self.group.as_mut() else {
            return Ok(());
        };
        g.saves += 1;
        let keep_open = self.queue.waiting() > 0
            && g.saves < GROUP_MAX
            && g.opened.elapsed() < GROUP_AGE
            && !self.anchors.full();
        if keep_open { Ok(()) } else { self.settle() }
    }

    /// Commits the open group, if any: before any other transaction of this connection, and
    /// before the writer closes.
    ///
    /// When the commit fails, the group is rolled back: the error names the database, and
    /// the group's sources are fetched again (their state rolled back with their entries).
    pub fn settle(&mut self) -> Result<(), StoreError> {
        if self.group.take().is_none() {
            return Ok(());
        }
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                self.anchors.commit();
                Ok(())
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.anchors.rollback();
                Err(self.err(e))
            }
        }
    }

    /// A transaction for a write other than a source's save, after settling the group.
    pub(super) fn begin(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        self.settle()?;
        let path = self.path.clone();
        self.conn
            .transaction()
            .map_err(|e| StoreError::Sqlite { path, source: e })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{STORY, ingest, story_entry, temp_store, try_ingest};

    fn entries_seen_by_readers(store: &Store) -> u64 {
        Store::open_reader(store.path())
            .unwrap()
            .entry_count(None)
            .unwrap()
    }

    #[test]
    fn waiting_saves_share_a_transaction_and_a_failing_one_rolls_back_alone() {
        let (_dir, mut store) = temp_store();
        let copy = |guid: &str, outlet: &str| {
            story_entry(guid, &format!("https://{outlet}/bridge"), &STORY, 0)
        };
        ingest(&mut store, "first", &[copy("f", "first.example")]);
        assert_eq!(
            entries_seen_by_readers(&store),
            1,
            "nobody waiting: committed"
        );

        let queue = store.save_queue();
        let waiting = queue.enter();
        ingest(&mut store, "second", &[copy("s", "second.example")]);
        assert_eq!(
            entries_seen_by_readers(&store),
            1,
            "left open for the waiting save"
        );

        // A real SQLite failure in the middle of a source's save, after its story was placed.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER boom BEFORE INSERT ON entries WHEN NEW.guid = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'boom'); END;",
            )
            .unwrap();
        let other = story_entry("o", "https://third.example/x", &["A different story."], 0);
        let mut failing = story_entry("boom", "https://third.example/y", &STORY[..1], 0);
        failing.title = "Something else".into();
        let err = try_ingest(&mut store, "third", &[other, failing]).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");

        drop(waiting);
        ingest(&mut store, "fourth", &[copy("x", "fourth.example")]);
        assert_eq!(
            entries_seen_by_readers(&store),
            3,
            "the group committed without the failed source"
        );
        assert_eq!(store.entry_count(Some("third")).unwrap(), 0);
        assert_eq!(store.story_count().unwrap(), 1, "all copies in one story");
        assert!(store.group.is_none());
    }

    #[test]
    fn other_writes_and_closing_the_writer_commit_the_open_group() {
        let (_dir, mut store) = temp_store();
        let queue = store.save_queue();
        let _waiting = queue.enter();
        ingest(
            &mut store,
            "a",
            &[story_entry("a", "https://a.example/", &STORY, 0)],
        );
        assert_eq!(entries_seen_by_readers(&store), 0);
        // A write with its own transaction settles the group first instead of failing.
        store
            .save_schedule(&[("a".to_string(), chrono::Utc::now())])
            .unwrap();
        assert_eq!(entries_seen_by_readers(&store), 1);

        ingest(
            &mut store,
            "b",
            &[story_entry("b", "https://b.example/", &["Other text."], 0)],
        );
        let path = store.path().to_path_buf();
        drop(store);
        let reader = Store::open_reader(&path).unwrap();
        assert_eq!(
            reader.entry_count(None).unwrap(),
            2,
            "committed when the writer closed"
        );
    }

    #[test]
    fn a_busy_writer_still_commits_by_size() {
        let (_dir, mut store) = temp_store();
        let queue = store.save_queue();
        let _waiting = queue.enter();
        for i in 0..GROUP_MAX {
            let text = format!("Paragraph number {i} of its own story.");
            ingest(
                &mut store,
                &format!("s{i}"),
                &[story_entry("g", "https://x.example/", &[text.as_str()], 0)],
            );
        }
        assert_eq!(entries_seen_by_readers(&store), GROUP_MAX as u64);
        assert!(store.group.is_none());
    }
}
