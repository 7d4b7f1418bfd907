//! The running daemon's process id, kept beside its database, so that a command that
//! changes the config (`wirefeed opml import`, `add`, `remove`) can ask that daemon to
//! reload it, and `wirefeed refresh` can ask it to fetch a source ([`crate::control`]).
//!
//! A stale file (left by a crash) is harmless: a reader checks that the process exists and
//! is a wirefeed before signalling it.
//!
//! One daemon per database: `run` first takes an exclusive OS lock (`flock`) on
//! `DATABASE.lock` ([`DaemonLock`]). Why a lock and not the pid file alone: two daemons on
//! one store both polled every source, and the second overwrote the pid file and deleted it
//! on exit, so the first was never reloaded again. The kernel drops the lock when the holder
//! dies, however it dies, so a crash never leaves the database locked. Only the holder writes
//! the pid file ([`DaemonLock::write_pid_file`]); other commands (`fetch`, `render`,
//! `backup`…) take no lock and work beside the daemon.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// Where the daemon using `database` records its pid.
pub fn path_for(database: &Path) -> PathBuf {
    let mut p = database.as_os_str().to_owned();
    p.push(".pid");
    PathBuf::from(p)
}

/// Where the daemon using `database` holds its exclusive lock (the file holds its pid too).
pub fn lock_path_for(database: &Path) -> PathBuf {
    let mut p = database.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Why `run` could not become the daemon of a database.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock: this one must not write to the store nor touch the
    /// pid file (exit 2).
    #[error("another wirefeed (pid {}) is running on {}", pid.map_or_else(|| "unknown".to_string(), |p| p.to_string()), database.display())]
    Held {
        /// The holder's pid, from the lock file (or the pid file) when it could be read.
        pid: Option<u32>,
        /// The database it runs on.
        database: PathBuf,
    },
    /// The lock file could not be opened or locked (permissions, a read-only folder).
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The exclusive lock of the one daemon of a database, held until dropped (or the process
/// ends). The lock file is never deleted: removing a file others may be waiting to lock
/// would let two processes each lock a different file of the same name.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
    database: PathBuf,
}

impl DaemonLock {
    /// Takes the lock of `database` without waiting, and records this process's pid in the
    /// lock file; [`LockError::Held`] when another process holds it.
    pub fn acquire(database: &Path) -> Result<DaemonLock, LockError> {
        let path = lock_path_for(database);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // Not truncated on open: the holder's pid must stay readable by those refused.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    pid: read(&path).or_else(|| read(&path_for(database))),
                    database: database.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())
            .map_err(io)?;
        Ok(DaemonLock {
            _file: file,
            database: database.to_path_buf(),
        })
    }

    /// Records this process as the daemon of the locked database (`DATABASE.pid`), for the
    /// commands that signal it. Only the lock holder can, so a refused `run` never
    /// overwrites or deletes the running daemon's pid file.
    pub fn write_pid_file(&self) -> std::io::Result<PidFile> {
        let path = path_for(&self.database);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile { path })
    }
}

/// Whether a daemon holds the lock of `database` now (a `try_lock` that fails).
pub fn is_locked(database: &Path) -> bool {
    let Ok(file) = OpenOptions::new().read(true).open(lock_path_for(database)) else {
        return false;
    };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

/// The pid file of a running daemon; removed when dropped (a clean stop).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own file: an older version's daemon may have replaced it.
        if read(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn read(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid of the wirefeed daemon running on `database`, if one is: the pid file exists, the
/// process is alive and its executable is named wirefeed.
pub fn running_daemon(database: &Path) -> Option<u32> {
    let pid = read(&path_for(database))?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    // A binary replaced on disk while running shows as "wirefeed (deleted)".
    name.starts_with("wirefeed").then_some(pid)
}

/// Sends SIGHUP (reload) to a process.
pub fn signal_reload(pid: u32) -> std::io::Result<()> {
    signal(pid, "HUP")
}

/// Sends a signal (`HUP`, `USR1`…) to a process, with the system's `kill` so that no unsafe
/// code is needed here.
pub fn signal(pid: u32, name: &str) -> std::io::Result<()> {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "kill -{name} {pid} failed: {status}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let first = DaemonLock::acquire(&db).unwrap();
        let pid_file = first.write_pid_file().unwrap();
        assert!(is_locked(&db));
        // flock locks belong to the open file: a second open in this process conflicts too.
        match DaemonLock::acquire(&db) {
            Err(e @ LockError::Held { pid, .. }) => {
                assert_eq!(pid, Some(std::process::id()));
                assert_eq!(
                    e.to_string(),
                    format!(
                        "another wirefeed (pid {}) is running on {}",
                        std::process::id(),
                        db.display()
                    )
                );
            }
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(read(&path_for(&db)), Some(std::process::id()));
        drop(pid_file);
        drop(first);
        assert!(!is_locked(&db));
        assert!(!path_for(&db).exists());
        assert!(DaemonLock::acquire(&db).is_ok());
    }
}
