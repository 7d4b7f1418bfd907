//! The "what changed" note an updated story's published content starts with.
//!
//! Why: a story's `updated` moving tells a reader's app that something changed, not what.
//! Wire stories are updated by paragraphs (one inserted, one rewritten, the tail dropped),
//! so the note names them: "Updated 14:02 UTC, 4 Dec 2026: 1 paragraph added, 1 changed",
//! then the start of each. Switched per feed with `show_changes` (on by default).

use crate::model::{StoredStory, StoryRevision};

/// Words of a paragraph quoted in the note.
const EXCERPT_WORDS: usize = 14;

/// The note as HTML (text escaped), or `None` when the revision changed no paragraph a
/// reader would see.
pub fn render(rev: &StoryRevision) -> Option<String> {
    let n = |k: usize, what: &str| format!("{k} paragraph{} {what}", if k == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if !rev.added.is_empty() {
        parts.push(n(rev.added.len(), "added"));
    }
    if !rev.changed.is_empty() {
        parts.push(n(rev.changed.len(), "changed"));
    }
    if !rev.removed.is_empty() {
        parts.push(n(rev.removed.len(), "removed"));
    }
    if parts.is_empty() {
        return None;
    }
    let mut html = format!(
        "<p class=\"wirefeed-changes\"><em>Updated {}: {}.</em></p><ul class=\"wirefeed-changes\">",
        rev.at.format("%H:%M UTC, %-d %b %Y"),
        parts.join(", ")
    );
    for (label, list) in [
        ("Added", &rev.added),
        ("Changed", &rev.changed),
        ("Removed", &rev.removed),
    ] {
        for p in list {
            html.push_str(&format!("<li>{label}: “{}”</li>", escape(&excerpt(p))));
        }
    }
    html.push_str("</ul>");
    Some(html)
}

/// Puts the note in front of the story's content (or its summary when it has no content).
pub fn prepend(story: &mut StoredStory, rev: &StoryRevision) {
    let Some(note) = render(rev) else {
        return;
    };
    let e = &mut story.entry;
    match (&mut e.content, &mut e.summary) {
        (Some(c), _) => c.insert_str(0, &note),
        (None, Some(s)) => s.insert_str(0, &note),
        (None, None) => e.content = Some(note),
    }
}

fn excerpt(p: &str) -> String {
    let words: Vec<&str> = p.split_whitespace().collect();
    if words.len() <= EXCERPT_WORDS {
        words.join(" ")
    } else {
        format!("{} …", words[..EXCERPT_WORDS].join(" "))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_and_quotes_paragraphs_escaped() {
        let rev = StoryRevision {
            revision: 2,
            at: chrono::DateTime::from_timestamp(1_764_857_520, 0).unwrap(),
            source: None,
            added: vec!["Officials said <b>two</b> more homes & a barn burned overnight, bringing the total to five across the valley.".into()],
            changed: vec![],
            removed: vec!["Old line.".into(), "Another old line.".into()],
        };
        let html = render(&rev).unwrap();
        assert!(
            html.contains(
                "Updated 14:12 UTC, 4 Dec 2025: 1 paragraph added, 2 paragraphs removed."
            ),
            "{html}"
        );
        assert!(html.contains("<li>Added: “Officials said &lt;b&gt;two&lt;/b&gt; more homes &amp; a barn burned overnight, bringing the total to …”</li>"), "{html}");
        assert!(html.contains("<li>Removed: “Old line.”</li>"));
        assert!(render(&StoryRevision::default()).is_none());
    }
}
