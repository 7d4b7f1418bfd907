//! `wirefeed story ID`: one story's outlets and revision history, each revision with the
//! paragraphs it added, changed and removed.
//!
//! Why a command of its own: `wirefeed stories` lists everything briefly; when a reader asks
//! "what changed in this item?", this answers it with the texts. An id of a story another
//! absorbed answers as the survivor (and says so).

use std::io::Write;
use std::process::ExitCode;

use wirefeed::config::Config;
use wirefeed::store::Store;

pub fn story(config: Config, id: &str) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.storage.database)?;
    let Some((live, revisions)) = store.story_revisions(id)? else {
        eprintln!("no story has the id {id:?} (see `wirefeed stories`)");
        return Ok(ExitCode::FAILURE);
    };
    let mut list = store.story_listing()?;
    wirefeed::publish::provenance::Provenance::of(&config).apply_listing(&mut list);
    let mut out = std::io::stdout().lock();
    let Some(s) = list.iter().find(|s| s.id == live) else {
        eprintln!("no story has the id {id:?} (see `wirefeed stories`)");
        return Ok(ExitCode::FAILURE);
    };
    if live != id {
        writeln!(out, "{id} was merged into {live}")?;
    }
    writeln!(out, "{}\t{}", s.id, s.title)?;
    writeln!(out, "published {}\tupdated {}", s.published, s.updated)?;
    for absorbed in store.absorbed_ids(&live)? {
        writeln!(out, "also answers as {absorbed}")?;
    }
    writeln!(out, "outlets:")?;
    for e in &s.entries {
        writeln!(
            out,
            "    {}\t{}",
            e.source,
            e.url.as_deref().unwrap_or(&e.guid)
        )?;
    }
    writeln!(out, "revision 1\t{}\tfirst version", s.published)?;
    for r in &revisions {
        writeln!(
            out,
            "revision {}\t{}\t{}",
            r.revision,
            r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            r.source
                .as_deref()
                .map_or(String::new(), |s| format!("from {s}"))
        )?;
        for (mark, list) in [("+", &r.added), ("~", &r.changed), ("-", &r.removed)] {
            for p in list {
                writeln!(out, "    {mark} {p}")?;
            }
        }
        if r.added.is_empty() && r.changed.is_empty() && r.removed.is_empty() {
            writeln!(out, "    (the words changed within paragraphs)")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
