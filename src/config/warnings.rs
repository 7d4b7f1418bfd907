//! Configurations that work but are probably not what the user wants (nothing to fetch or
//! publish; secrets exposed): `check` prints these (exit 0, on stderr) and the daemon logs
//! them at start and on every reload.

use std::ops::Range;
use std::path::Path;

use super::Config;
use super::diagnostics::{Diagnostic, Locator};

/// Shorter tokens can be guessed or read over a shoulder.
const MIN_TOKEN_LEN: usize = 16;

/// Warnings that follow from the config alone. `listen` is the span of `[server] listen`,
/// `tokens` those of `token` and `admin_token` where written.
pub(super) fn of_config(
    cfg: &Config,
    listen: Option<Range<usize>>,
    base_url: Option<Range<usize>>,
    tokens: [Option<Range<usize>>; 2],
    loc: &Locator,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if cfg.sources.is_empty() {
        out.push(loc.at(
            None,
            "warning: no [[sources]]: nothing will be fetched (add one with `wirefeed add URL`)"
                .into(),
        ));
    } else if cfg.sources.iter().all(|s| !s.enabled) {
        out.push(loc.at(
            None,
            "warning: every source has enabled = false: nothing will be fetched".into(),
        ));
    }
    if cfg.feeds.is_empty() {
        out.push(
            loc.at(
                None,
                "warning: no [[feeds]]: nothing will be published (add a [[feeds]] table with a \
             name; it carries every source unless it names some)"
                    .into(),
            ),
        );
    }
    let private: Vec<&str> = cfg
        .sources
        .iter()
        .filter(|s| s.has_credentials())
        .map(|s| s.name.as_str())
        .collect();
    // Reachable from other machines: bound to a public address, or published under one
    // (a reverse proxy in front of a loopback listener).
    let base_host = cfg.server.base_url.host_str().unwrap_or_default();
    let base_local = base_host.eq_ignore_ascii_case("localhost")
        || base_host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let exposed = if !cfg.server.listen.ip().is_loopback() {
        Some((
            listen,
            format!(
                "listen {} is reachable from other machines",
                cfg.server.listen
            ),
        ))
    } else if !base_local {
        Some((
            base_url,
            format!(
                "base_url {} says other machines reach this server (through a proxy)",
                cfg.server.base_url
            ),
        ))
    } else {
        None
    };
    if let Some((at, how)) = exposed
        && !private.is_empty()
        && cfg.server.token.is_none()
    {
        out.push(loc.at(
            at,
            format!(
                "warning: {how} and source{} {} {} credentials, but [server] token is not set: \
                 anyone who reaches it reads {} feeds (set token, or keep the server on \
                 127.0.0.1)",
                if private.len() == 1 { "" } else { "s" },
                private.join(", "),
                if private.len() == 1 { "uses" } else { "use" },
                if private.len() == 1 { "its" } else { "their" },
            ),
        ));
    }
    let named = [
        ("token", &cfg.server.token, &tokens[0]),
        ("admin_token", &cfg.server.admin_token, &tokens[1]),
    ];
    for (key, token, at) in named {
        if let Some(t) = token
            && t.expose().len() < MIN_TOKEN_LEN
        {
            out.push(loc.at(
                at.clone(),
                format!(
                    "warning: {key} has {} characters; use at least {MIN_TOKEN_LEN} random ones \
                     (e.g. `openssl rand -hex 32`)",
                    t.expose().len()
                ),
            ));
        }
    }
    out
}

/// A warning when the file holds credentials as written (not through `_file` keys or
/// `${ENV}`) and its mode lets the group or others read it.
pub(super) fn readable_secrets(
    cfg: &Config,
    text: &str,
    path: &Path,
    mode: u32,
) -> Option<Diagnostic> {
    if mode & 0o044 == 0 {
        return None;
    }
    let held: Vec<String> = held_secrets(cfg)
        .into_iter()
        .filter(|(_, v)| !v.is_empty() && text.contains(v.as_str()))
        .map(|(what, _)| what)
        .collect();
    if held.is_empty() {
        return None;
    }
    Some(Diagnostic {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message: format!(
            "warning: this file holds credentials ({}) and is readable by {} (mode {:04o}): \
             `chmod 600` it, or move them to password_file, headers_file, token_file or ${{ENV}} \
             variables",
            held.join(", "),
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (true, true) => "group and others",
                (true, false) => "its group",
                _ => "others",
            },
            mode & 0o7777
        ),
    })
}

/// (where, value) of every credential the validated config holds.
fn held_secrets(cfg: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, t) in [
        ("[server] token", &cfg.server.token),
        ("[server] admin_token", &cfg.server.admin_token),
    ] {
        if let Some(t) = t {
            out.push((key.to_string(), t.expose().to_string()));
        }
    }
    if let Some(p) = cfg.fetch.proxy.as_ref().and_then(|p| p.password()) {
        out.push(("[fetch] proxy".into(), p.to_string()));
    }
    for s in &cfg.sources {
        let at = |what: &str| format!("{} of source {}", what, s.name);
        if let Some(p) = &s.access.password {
            out.push((at("password"), p.expose().to_string()));
        }
        for (name, v) in &s.access.headers {
            out.push((at(&format!("header {name}")), v.expose().to_string()));
        }
        if let Some(c) = &s.access.cookie {
            out.push((at("cookie"), c.expose().to_string()));
        }
        if let Some(p) = s.access.proxy.as_ref().and_then(|p| p.password()) {
            out.push((at("proxy password"), p.to_string()));
        }
        for (k, v) in s.url.query_pairs() {
            if s.redactor.is_secret_param(&k) {
                out.push((at(&format!("URL parameter {k}")), v.into_owned()));
            }
        }
    }
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
