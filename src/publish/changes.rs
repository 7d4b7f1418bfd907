//! What happens after an ingest changed something: full archive pages are frozen, and
//! every live document that now reads differently is written to the static folder and
//! announced to the WebSub hub. Runs as one background task, so a burst of ingests costs
//! one pass.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Format, Publisher};
use crate::config::Config;
use crate::store::{Store, StoreError};

/// How long the task waits after a change for more before it works: ingests come in bursts.
const SETTLE: Duration = Duration::from_millis(500);

/// Why a static file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes `bytes` to `path` so that no reader ever sees a partial file: a temporary file in
/// the same folder, then a rename over the old one. Unchanged content is not rewritten.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<bool, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path.parent().expect("export paths have a folder");
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .expect("export paths name a file")
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(true)
}

impl Publisher {
    /// Tells the publisher that an ingest changed something: cached feeds are stale now, and
    /// the after-change task ([`Publisher::run_after_changes`]) is woken.
    pub fn changed(&self) {
        self.invalidate();
        self.changed.notify_one();
    }

    /// The after-change task: runs until the process ends. The daemon spawns it once, and
    /// calls [`Publisher::changed`] once at start so that static files are written.
    pub async fn run_after_changes(self: Arc<Self>, writer: Arc<Mutex<Store>>) {
        let client = super::websub::client();
        loop {
            self.changed.notified().await;
            tokio::time::sleep(SETTLE).await;
            let (p, w) = (self.clone(), writer.clone());
            let settled = tokio::task::spawn_blocking(move || p.settle(&w)).await;
            let changed = match settled {
                Ok(Ok(changed)) => changed,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "publishing after a change failed");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "publishing task failed");
                    continue;
                }
            };
            let config = self.config();
            if let (Some(hub), Some(client)) = (&config.publish.websub_hub, &client)
                && !changed.is_empty()
            {
                super::websub::ping(client, hub, &changed).await;
            }
        }
    }

    /// Freezes full archive pages, then writes every changed live document (and any archive
    /// page missing) to the static folder. Returns the URLs of live documents that changed
    /// since the last pass. Blocking.
    fn settle(&self, writer: &Mutex<Store>) -> Result<Vec<String>, ExportError> {
        let config = self.config();
        let frozen = self.freeze_full_pages(writer)?;
        if !frozen.is_empty() {
            // The live documents now link the new pages.
            self.invalidate();
        }
        // Archive pages reach the folder before the live documents that link them: a web
        // server never serves a prev-archive link to a missing file.
        if let Some(dir) = &config.publish.dir {
            self.export_archives(&config, dir)?;
        }
        let mut changed = Vec::new();
        for feed in &config.feeds {
            for format in Format::ALL {
                // Under the daemon the refresher renders (once a second at most) and wakes
                // this task when it has: what is served now is what gets exported.
                let served = self.serve(&feed.name, format);
                let Some(r) =
                    served.map_or_else(|| self.render(&feed.name, format), |r| Ok(Some(r)))?
                else {
                    continue;
                };
                let key = (feed.name.clone(), format);
                let before = self
                    .published
                    .lock()
                    .expect("published lock")
                    .get(&key)
                    .cloned();
                if before.as_deref() == Some(r.etag.as_str()) {
                    continue;
                }
                if let Some(dir) = &config.publish.dir {
                    let path = dir.join(format!("feeds/{}.{}", feed.name, format.ext()));
                    write_atomically(&path, &r.body)?;
                    if format == Format::Atom
                        && let Some(page) = self.html_view(&feed.name, Format::Atom)?
                    {
                        // The feed's web page, for browsers (a static server does not
                        // negotiate: it is linked as NAME.html).
                        let path = dir.join(format!("feeds/{}.html", feed.name));
                        write_atomically(&path, &page.body)?;
                    }
                }
                changed.push(super::atom::feed_url(
                    &config.server.base_url,
                    &feed.name,
                    format.ext(),
                ));
                self.published
                    .lock()
                    .expect("published lock")
                    .insert(key, r.etag.clone());
            }
        }
        Ok(changed)
    }

    /// Writes every frozen archive page that the folder does not have yet (they never
    /// change, so an existing file is final). Once per start, a page frozen by an older
    /// version with a source's credentials in it, or naming the XSLT stylesheet browsers
    /// no longer get, is written again, scrubbed (see [`super::provenance`]).
    fn export_archives(&self, config: &Config, dir: &Path) -> Result<(), ExportError> {
        let recheck = !self
            .legacy_checked
            .swap(true, std::sync::atomic::Ordering::SeqCst);
        let provenance = self.provenance();
        for feed in &config.feeds {
            let pages = self.with_reader(|s| s.archive_state(&feed.name))?.pages;
            for n in 1..=pages {
                for format in Format::ALL {
                    let path =
                        dir.join(format!("feeds/{}/archive/{n}.{}", feed.name, format.ext()));
                    if path.exists() {
                        let stale = recheck
                            && (std::fs::read(&path).is_ok_and(|b| {
                                memchr::memmem::find(&b, b"<?xml-stylesheet").is_some()
                            }) || self
                                .with_reader(|s| s.archive_page(&feed.name, n, format.ext()))?
                                .is_some_and(|p| {
                                    matches!(
                                        provenance.scrub_frozen(&String::from_utf8_lossy(&p.body)),
                                        std::borrow::Cow::Owned(_)
                                    )
                                }));
                        if !stale {
                            continue;
                        }
                    }
                    if let Some(r) = self.archive_page(&feed.name, n, format)? {
                        write_atomically(&path, &r.body)?;
                    }
                }
            }
        }
        Ok(())
    }
}
