//! Noticing that the config file was saved, so the daemon reloads it without a signal.
//!
//! Why the folder is watched, not the file: editors save through a temporary file renamed
//! over the old one (vim, emacs, VS Code; `wirefeed add` too), which replaces the file's
//! inode, and a watch on the old inode would go quiet after the first save. The folder's
//! events are filtered down to the config's own name (and, for a symlinked config, its
//! target's). Uses the `notify` crate (inotify on Linux): kept, cross-platform, and the
//! same one editors' tooling uses.
//!
//! Events only say "something happened"; the daemon waits for them to stop for a moment
//! ([`SETTLE`]) and reloads only if the file's bytes changed (an editor's backup dance or a
//! `touch` costs nothing).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// How long the file must be quiet before it is read: a save is several writes and a
/// rename, and a half-written file must not be parsed (it would only be refused).
pub const SETTLE: Duration = Duration::from_millis(300);

/// A watch on the config file; dropping it stops watching.
pub struct ConfigWatch {
    _watcher: RecommendedWatcher,
    /// One message per batch of file-system events that touched the config file.
    pub touched: mpsc::UnboundedReceiver<()>,
}

/// The folders to watch and the file names in them that are the config: the path as
/// given, and where a symlink leads.
fn targets(path: &Path) -> Vec<(PathBuf, OsString)> {
    let mut out = Vec::new();
    let mut add = |p: &Path| {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) {
            let t = (dir.to_path_buf(), name.to_os_string());
            if !out.contains(&t) {
                out.push(t);
            }
        }
    };
    add(path);
    if let Ok(real) = std::fs::canonicalize(path) {
        add(&real);
    }
    out
}

/// Starts watching the config file at `path`.
pub fn watch(path: &Path) -> notify::Result<ConfigWatch> {
    let targets = targets(path);
    let names: Vec<(PathBuf, OsString)> = targets.clone();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        let ours = event.paths.iter().any(|p| {
            names
                .iter()
                .any(|(dir, name)| p.parent() == Some(dir) && p.file_name() == Some(name))
        });
        if ours {
            let _ = tx.send(());
        }
    })?;
    for (dir, _) in &targets {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    Ok(ConfigWatch {
        _watcher: watcher,
        touched: rx,
    })
}

/// A fingerprint of the file's bytes, to tell a real change from a touch; `None` when it
/// cannot be read (mid-rename).
pub fn fingerprint(path: &Path) -> Option<blake3::Hash> {
    std::fs::read(path).ok().map(|b| blake3::hash(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_save_through_a_temporary_file_is_seen_and_other_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wirefeed.toml");
        std::fs::write(&path, "# one\n").unwrap();
        let mut w = watch(&path).unwrap();
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(300), w.touched.recv()).await;
        assert!(
            quiet.is_err(),
            "another file in the folder is not the config"
        );
        let tmp = dir.path().join(".wirefeed.toml.swp");
        std::fs::write(&tmp, "# two\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(5), w.touched.recv()).await;
        assert!(seen.is_ok(), "the rename over the config is seen");
        // And the next save too: the watch follows the name, not the replaced inode.
        std::fs::write(&tmp, "# three\n").unwrap();
        while tokio::time::timeout(Duration::from_millis(200), w.touched.recv())
            .await
            .is_ok()
        {}
        std::fs::rename(&tmp, &path).unwrap();
        let again = tokio::time::timeout(Duration::from_secs(5), w.touched.recv()).await;
        assert!(again.is_ok());
    }
}
