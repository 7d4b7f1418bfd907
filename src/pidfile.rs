//! The running daemon's process id, kept beside its database, so that a command that
//! changes the config (`wirefeed opml import`, `add`, `remove`) can ask that daemon to
//! reload it, and `wirefeed refresh` can ask it to fetch a source ([`crate::control`]).
//!
//! A stale file (left by a crash) is harmless: a reader checks that the process exists and
//! is a wirefeed before signalling it.

use std::path::{Path, PathBuf};

/// Where the daemon using `database` records its pid.
pub fn path_for(database: &Path) -> PathBuf {
    let mut p = database.as_os_str().to_owned();
    p.push(".pid");
    PathBuf::from(p)
}

/// The pid file of a running daemon; removed when dropped (a clean stop).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Records this process as the daemon of `database`.
    pub fn create(database: &Path) -> std::io::Result<PidFile> {
        let path = path_for(database);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile { path })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own file: a second daemon on the same database may have replaced it.
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
