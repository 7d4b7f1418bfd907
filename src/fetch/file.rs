//! `file://` sources: local folders of feeds and the shipped demo.
//!
//! The file's modification time and size stand in for HTTP validators, so an unchanged file is
//! "not modified" exactly like a 304, and the same size cap applies.

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use url::Url;

use super::{Body, FetchError, Fetched, Validators};

pub(super) async fn fetch_file(
    url: &Url,
    v: &Validators,
    max_body: u64,
) -> Result<Fetched, FetchError> {
    let path = url
        .to_file_path()
        .map_err(|_| FetchError::Scheme("file URL without a local path".into()))?;
    let io = |e| FetchError::File {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        source: e,
    };
    let f = tokio::fs::File::open(&path).await.map_err(io)?;
    let meta = f.metadata().await.map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::other("is a folder, not a feed file")));
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let etag = format!("\"{:x}-{:x}\"", mtime, meta.len());
    let validators = Validators {
        etag: Some(etag),
        last_modified: None,
    };
    if v.etag == validators.etag {
        return Ok(Fetched::NotModified {
            validators,
            freshness: None,
            moved_permanently: None,
        });
    }
    if meta.len() > max_body {
        return Err(FetchError::TooLarge { limit: max_body });
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(max_body + 1)
        .read_to_end(&mut buf)
        .await
        .map_err(io)?;
    if buf.len() as u64 > max_body {
        return Err(FetchError::TooLarge { limit: max_body });
    }
    Ok(Fetched::Body(Body {
        bytes: super::gunzip_if_gzipped(Bytes::from(buf), max_body)?,
        status: 200,
        charset: None,
        content_type: None,
        validators,
        final_url: url.clone(),
        freshness: None,
        moved_permanently: None,
    }))
}
