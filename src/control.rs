//! Asking the running daemon to act, from another process: fetch one source now
//! (`wirefeed refresh NAME`), or publish what another process stored (`wirefeed fetch` run
//! beside it).
//!
//! Why a request file and a signal, not an HTTP route: the daemon is found through its pid
//! file beside the database ([`crate::pidfile`]), as `opml import` finds it to reload; a
//! file in a folder beside the database plus SIGUSR1 adds no network surface (nothing for a
//! web page to forge, no token to guard it), works whatever address the server listens on,
//! and only someone who may signal the daemon (its user, or root) can ask.
//!
//! The exchange: the command writes `DATABASE.requests/ID.refresh` holding the source's
//! name, then sends SIGUSR1. The daemon takes every request file (deleting it: picked up),
//! fetches those sources at once, and when each fetch ends writes `ID.done` with the
//! outcome line, which the command prints and deletes. `ID.changed` says the store changed
//! under the daemon: it renders its feeds again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The folder beside the database that holds requests and answers.
pub fn folder(database: &Path) -> PathBuf {
    let mut p = database.as_os_str().to_owned();
    p.push(".requests");
    PathBuf::from(p)
}

/// Makes the request folder (the daemon does, at start): owned by the daemon's user, so it
/// can delete the requests an administrator leaves there.
pub fn prepare(database: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder(database))
}

/// One request to fetch a source, as the daemon reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    /// Names the answer file.
    pub id: String,
    /// The source to fetch.
    pub source: String,
}

/// What another process asks of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Fetch a source now.
    Refresh(RefreshRequest),
    /// The store changed (another process fetched): publish what it holds now.
    Changed,
}

/// Tells the daemon `pid` that this process changed its store (`wirefeed fetch` beside
/// it), so that its feeds show the change at once.
pub fn announce_change(database: &Path, pid: u32) -> std::io::Result<()> {
    let dir = folder(database);
    std::fs::create_dir_all(&dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    write_whole(
        &dir.join(format!("{}-{nanos}.changed", std::process::id())),
        b"",
    )?;
    crate::pidfile::signal(pid, "USR1")
}

/// A request sent, whose answer can be waited for.
#[derive(Debug)]
pub struct Pending {
    dir: PathBuf,
    id: String,
}

/// Writes `bytes` to `path` through a temporary file, so a reader never sees half of it.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Asks the daemon `pid` (running on `database`) to fetch `source` now.
pub fn request_refresh(database: &Path, pid: u32, source: &str) -> std::io::Result<Pending> {
    let dir = folder(database);
    std::fs::create_dir_all(&dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let id = format!("{}-{nanos}", std::process::id());
    write_whole(&dir.join(format!("{id}.refresh")), source.as_bytes())?;
    crate::pidfile::signal(pid, "USR1")?;
    Ok(Pending { dir, id })
}

impl Pending {
    /// Waits until the daemon has picked the request up; false when it did not within
    /// `limit` (the request is then withdrawn).
    pub fn wait_picked_up(&self, limit: Duration) -> bool {
        let file = self.dir.join(format!("{}.refresh", self.id));
        let deadline = Instant::now() + limit;
        while file.exists() {
            if Instant::now() > deadline {
                let _ = std::fs::remove_file(&file);
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    /// Waits for the daemon's answer (the fetch's outcome line), at most `limit`.
    pub fn wait_done(&self, limit: Duration) -> Option<String> {
        let file = self.dir.join(format!("{}.done", self.id));
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let _ = std::fs::remove_file(&file);
                return Some(text.trim_end().to_string());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Answers older than this were never collected (the command gave up): removed.
const STALE: Duration = Duration::from_secs(3600);

/// The daemon's side: takes every waiting request (each file is deleted as it is read) and
/// clears answers nobody collected. Announced changes come first, as one.
pub fn take_requests(database: &Path) -> Vec<Request> {
    let dir = folder(database);
    let Ok(list) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut changed = false;
    for entry in list.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".changed") {
            changed |= std::fs::remove_file(&path).is_ok();
        } else if let Some(id) = name.strip_suffix(".refresh") {
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            if std::fs::remove_file(&path).is_ok() && !source.trim().is_empty() {
                out.push(RefreshRequest {
                    id: id.to_string(),
                    source: source.trim().to_string(),
                });
            }
        } else if name.ends_with(".done")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > STALE)
        {
            let _ = std::fs::remove_file(&path);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let mut requests: Vec<Request> = Vec::with_capacity(out.len() + 1);
    if changed {
        requests.push(Request::Changed);
    }
    requests.extend(out.into_iter().map(Request::Refresh));
    requests
}

/// The daemon's side: answers a request with the fetch's outcome line.
pub fn answer(database: &Path, id: &str, line: &str) {
    let path = folder(database).join(format!("{id}.done"));
    if let Err(e) = write_whole(&path, format!("{line}\n").as_bytes()) {
        tracing::warn!(error = %e, path = %path.display(), "cannot answer a refresh request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_taken_once_and_answers_collected_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        std::fs::create_dir_all(folder(&db)).unwrap();
        write_whole(&folder(&db).join("7-1.refresh"), b"bbc\n").unwrap();
        write_whole(&folder(&db).join("7-2.refresh"), b"").unwrap();
        write_whole(&folder(&db).join("8-1.changed"), b"").unwrap();
        write_whole(&folder(&db).join("8-2.changed"), b"").unwrap();
        assert_eq!(
            take_requests(&db),
            [
                Request::Changed,
                Request::Refresh(RefreshRequest {
                    id: "7-1".into(),
                    source: "bbc".into()
                })
            ]
        );
        assert!(take_requests(&db).is_empty(), "taken once");
        answer(&db, "7-1", "bbc\tnew\tnew=1");
        let pending = Pending {
            dir: folder(&db),
            id: "7-1".into(),
        };
        assert!(pending.wait_picked_up(Duration::from_millis(10)));
        assert_eq!(
            pending.wait_done(Duration::from_millis(10)).as_deref(),
            Some("bbc\tnew\tnew=1")
        );
        assert_eq!(pending.wait_done(Duration::from_millis(10)), None);
    }
}
