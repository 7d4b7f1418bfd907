//! Turning byte spans into `file:line:col: message` lines a user can jump to.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render(.0))]
    Invalid(Vec<Diagnostic>),
}

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// Every located problem (empty for I/O errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Invalid(d) => d,
            ConfigError::Io { .. } => &[],
        }
    }
}

/// Maps byte offsets of one file's text to line and column.
pub(super) struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(super) fn new(file: &'a Path, text: &'a str) -> Self {
        Locator { file, text }
    }

    /// A diagnostic at a span's start; `None` (a default value) points at line 1.
    pub(super) fn at(&self, span: Option<Range<usize>>, message: String) -> Diagnostic {
        let offset = span.map(|s| s.start).unwrap_or(0).min(self.text.len());
        let before = &self.text[..self.text.floor_char_boundary(offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        Diagnostic {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    pub(super) fn toml_error(&self, e: &toml::de::Error) -> Diagnostic {
        let msg = e.message().trim().to_string();
        self.at(e.span(), msg)
    }
}

/// Finds the span of the key at a serde_ignored path like `sources.2.colour`.
pub(super) fn span_of_key(table: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut parts = path.split('.').peekable();
    let mut current: Option<&DeTable<'_>> = Some(table);
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    let mut last = None;
    while let Some(part) = parts.next() {
        if let Some(arr) = array.take() {
            let idx: usize = part.parse().ok()?;
            match arr.get(idx)?.get_ref() {
                DeValue::Table(t) => current = Some(t),
                _ => return last,
            }
            continue;
        }
        let t = current.take()?;
        let (key, value) = t.get_key_value(part)?;
        last = Some(key.span());
        if parts.peek().is_none() {
            return last;
        }
        match value.get_ref() {
            DeValue::Table(t) => current = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => return last,
        }
    }
    last
}
