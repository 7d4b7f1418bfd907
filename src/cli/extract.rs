//! `wirefeed extract`: one page's article, as text or JSON. Needs no config, unless asked to
//! learn the site's page clutter (`--learn`), which it then keeps in the config's database
//! exactly as full-text sources do.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use wirefeed::clean::clutter::learned::{self, LearnedBlocks};
use wirefeed::config::Config;
use wirefeed::store::Store;

/// Extracts the article of `file` (`-`: standard input). With `learn` (the config's path),
/// the page's paragraphs count towards its site's learned clutter, and paragraphs already
/// learned as that clutter are left out.
pub fn run(
    url: Option<&str>,
    json: bool,
    file: &str,
    learn: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    // The extractor reads a page's beginning only (`MAX_PAGE_BYTES` once scripts and styles
    // are gone); reading four times that bounds memory on any input.
    let limit = 4 * wirefeed::clean::extract::MAX_PAGE_BYTES as u64;
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .with_context(|| format!("reading {file}"))?;
    }
    let shown = if file == "-" { "standard input" } else { file };
    if let Err(why) = wirefeed::parse::encoding::sniff_html(&bytes) {
        eprintln!("wirefeed: {shown} is not an HTML page ({why})");
        return Ok(ExitCode::FAILURE);
    }
    let html = wirefeed::parse::encoding::decode_html(&bytes, None);
    let mut article = wirefeed::clean::extract::extract(&html, url);
    if let Some(config) = learn {
        let url = url.context("--learn needs --url: clutter is learned per site")?;
        article.text = learn_site(&config, url, &article.text)?;
    }
    if article.text.trim().is_empty() {
        eprintln!("wirefeed: no article text found in {shown}");
        return Ok(ExitCode::FAILURE);
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", article.to_json())?;
    } else {
        writeln!(out, "{}", article.text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts the page's paragraphs towards its site's learned clutter (scope `page:HOST`) in
/// the config's database and returns its text without the paragraphs learned so far.
fn learn_site(config: &std::path::Path, url: &str, text: &str) -> anyhow::Result<String> {
    let config = Config::load(config)?;
    let scope = learned::site_scope(url).with_context(|| format!("{url} names no host"))?;
    let mut store = Store::open(&config.storage.database)?;
    let mut site = LearnedBlocks::from_stats(store.learned_blocks(&scope)?);
    let now = chrono::Utc::now().timestamp();
    let window = config.clean.learn_window.as_secs() as i64;
    let after = u32::try_from(config.clean.learn_after).unwrap_or(u32::MAX);
    site.observe(url, text.split("\n\n").map(str::trim), now, window);
    let changed: Vec<_> = site.changed().into_iter().cloned().collect();
    store.save_learned(&scope, &changed)?;
    let hashes = site.learned_hashes(after, now, window);
    Ok(text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty() && !learned::is_learned(p, &hashes))
        .collect::<Vec<_>>()
        .join("\n\n"))
}
