//! Moving WAL pages into the database file off the writer's path.
//!
//! SQLite checkpoints automatically from inside the writing transaction's commit, which stalls
//! the single writer — under a heavy ingest, every few megabytes. A background thread with its
//! own connection runs passive checkpoints instead (they never block the writer), so the
//! writer's own automatic checkpoint, kept as a backstop, rarely fires.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running checkpointer; stops (after one last checkpoint) when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing `db` every `every`.
    pub fn start(db: &Path, every: Duration) -> Checkpointer {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, path): (Arc<AtomicBool>, PathBuf) = (stop.clone(), db.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let Ok(conn) = rusqlite::Connection::open(&path) else {
                    return;
                };
                let _ = conn.busy_timeout(Duration::from_secs(1));
                let step = Duration::from_millis(100);
                let mut waited = Duration::ZERO;
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(step);
                    waited += step;
                    if waited >= every {
                        waited = Duration::ZERO;
                        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                }
            })
            .ok();
        Checkpointer { stop, thread }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
