//! Log output: one line per event with key=value fields on stderr. Under systemd (the
//! journal is stderr, `JOURNAL_STREAM` set) lines carry no timestamp or colour — the journal
//! adds its own — and start with a syslog level prefix (`<3>` error … `<7>` debug), so that
//! `journalctl -p warning` filters them.

use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, format};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, fmt};

/// The syslog priority journald reads from a `<N>` line prefix (sd-daemon(3)).
fn syslog_prefix(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        Level::DEBUG | Level::TRACE => "<7>",
    }
}

/// The default line format, without time, after a syslog level prefix.
struct Journald {
    inner: Format<format::Full, ()>,
}

impl<S, N> FormatEvent<S, N> for Journald
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        writer.write_str(syslog_prefix(event.metadata().level()))?;
        self.inner.format_event(ctx, writer, event)
    }
}

/// Installs the global subscriber. The filter is `RUST_LOG` when set, else `configured`
/// (the config file's `[log] level`), else `info`. A filter that does not parse falls back
/// to `info` with a warning, rather than silencing the daemon.
pub fn init(configured: Option<&str>) {
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => (EnvFilter::try_new(&v), Some(v)),
        _ => match configured {
            Some(c) => (EnvFilter::try_new(c), Some(c.to_string())),
            None => (Ok(EnvFilter::new("info")), None),
        },
    };
    let (filter, warning) = match filter {
        Ok(f) => (f, None),
        Err(e) => (
            EnvFilter::new("info"),
            Some(format!(
                "log filter {:?} is invalid ({e}); logging at info",
                bad.unwrap_or_default()
            )),
        ),
    };
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let installed = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder
            .with_ansi(false)
            .event_format(Journald {
                inner: format().without_time().with_target(false).with_ansi(false),
            })
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    if installed.is_ok()
        && let Some(w) = warning
    {
        tracing::warn!("{w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(syslog_prefix(&Level::ERROR), "<3>");
        assert_eq!(syslog_prefix(&Level::WARN), "<4>");
        assert_eq!(syslog_prefix(&Level::INFO), "<6>");
        assert_eq!(syslog_prefix(&Level::TRACE), "<7>");
    }
}
