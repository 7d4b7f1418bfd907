//! What changed between two versions of a text, paragraph by paragraph: the "what changed"
//! note published with an updated story and `wirefeed story ID`'s history.
//!
//! Why paragraphs: that is how agencies update a story (a paragraph inserted, one
//! rewritten, the tail dropped) and how a reader finds the change on the page. Paragraphs
//! are compared by their normalised words, so markup, case and punctuation edits are no
//! change; a paragraph that keeps at least half of its 5-word runs is "changed", not
//! "removed" and "added".

use std::collections::HashSet;

use super::fingerprint::Paragraph;

/// Paragraphs added, removed and changed between an old and a new version.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParagraphDiff {
    /// Paragraphs of the new version with no counterpart in the old one.
    pub added: Vec<String>,
    /// Paragraphs of the old version with no counterpart in the new one.
    pub removed: Vec<String>,
    /// Paragraphs of the new version that rewrite one of the old one (their new text).
    pub changed: Vec<String>,
}

impl ParagraphDiff {
    /// Whether nothing a reader would see changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// "2 paragraphs added, 1 changed, 1 removed" (empty when nothing changed).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let n =
            |k: usize, what: &str| format!("{k} paragraph{} {what}", if k == 1 { "" } else { "s" });
        if !self.added.is_empty() {
            parts.push(n(self.added.len(), "added"));
        }
        if !self.changed.is_empty() {
            parts.push(n(self.changed.len(), "changed"));
        }
        if !self.removed.is_empty() {
            parts.push(n(self.removed.len(), "removed"));
        }
        parts.join(", ")
    }
}

/// Share of a paragraph's 5-word runs another keeps for it to count as the same, rewritten.
const CHANGED_MATCH: f32 = 0.5;

/// Compares two versions given as paragraph texts.
///
/// Why texts and fingerprints both: the fingerprint's paragraphs (one per text, in order)
/// say what is equal and what is furniture; the texts are what the note quotes.
pub fn diff(old: &[String], new: &[String]) -> ParagraphDiff {
    let old_fp = super::fingerprint("", old);
    let new_fp = super::fingerprint("", new);
    let content = |fp: &super::Fingerprint, texts: &[String]| -> Vec<(Paragraph, String)> {
        fp.paragraphs
            .iter()
            .zip(texts)
            .filter(|(p, _)| !p.builtin_boilerplate && p.tokens > 0)
            .map(|(p, t)| (p.clone(), t.trim().to_string()))
            .collect()
    };
    let (old_c, new_c) = (content(&old_fp, old), content(&new_fp, new));
    let old_h: HashSet<u64> = old_c.iter().map(|p| p.0.hash).collect();
    let new_h: HashSet<u64> = new_c.iter().map(|p| p.0.hash).collect();
    let mut gone: Vec<Option<&(Paragraph, String)>> = old_c
        .iter()
        .filter(|p| !new_h.contains(&p.0.hash))
        .map(Some)
        .collect();
    let mut out = ParagraphDiff::default();
    for (p, text) in new_c.iter().filter(|p| !old_h.contains(&p.0.hash)) {
        let mine: HashSet<u32> = p.shingles.iter().copied().collect();
        let counterpart = gone.iter_mut().find(|o| {
            o.is_some_and(|(q, _)| {
                let theirs: HashSet<u32> = q.shingles.iter().copied().collect();
                let shared = mine.intersection(&theirs).count() as f32;
                let larger = mine.len().max(theirs.len()).max(1) as f32;
                shared / larger >= CHANGED_MATCH
            })
        });
        match counterpart {
            Some(slot) => {
                *slot = None;
                out.changed.push(text.clone());
            }
            None => out.added.push(text.clone()),
        }
    }
    out.removed = gone.into_iter().flatten().map(|p| p.1.clone()).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    const A: &str = "The council voted on Tuesday to close the old river bridge to heavy trucks after engineers found cracks in two of its supports.";
    const B: &str = "Repairs are expected to take at least six months and cost about four million dollars, the city's public works director said.";
    const C: &str = "Drivers of trucks over ten tonnes will be sent along the eastern ring road, which adds about fifteen minutes to the trip.";

    #[test]
    fn added_removed_and_changed_paragraphs_are_told_apart() {
        let old = v(&[A, B]);
        let b2 = B.replace("six months", "eight months");
        let new = v(&[A, &b2, C]);
        let d = diff(&old, &new);
        assert_eq!(d.added, v(&[C]));
        assert_eq!(d.changed, v(&[&b2]));
        assert!(d.removed.is_empty());
        assert_eq!(d.summary(), "1 paragraph added, 1 paragraph changed");
        let d = diff(&new, &v(&[A]));
        assert_eq!(d.removed.len(), 2);
        assert_eq!(d.summary(), "2 paragraphs removed");
    }

    #[test]
    fn markup_case_and_punctuation_are_no_change() {
        let d = diff(&v(&[A, B]), &v(&[&A.to_uppercase(), &B.replace(',', "")]));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.summary(), "");
    }
}
