//! Keeping a huge feed from costing huge memory: a document with more entries than the cap is
//! cut after the last entry kept (and its open elements closed) before feed-rs builds its
//! model, whose per-entry structures are far larger than the XML they came from.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Returns `text` with every `<item>`/`<entry>` after the first `max` removed. Documents with
/// at most `max` entries are returned untouched (checked by a cheap substring count first).
pub fn truncate_entries(text: &str, max: usize) -> Cow<'_, str> {
    let count = |pat: &str| memchr::memmem::find_iter(text.as_bytes(), pat).count();
    let rough = count("<item") + count("<entry");
    if rough <= max {
        return Cow::Borrowed(text);
    }
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.allow_dangling_amp = true;
    let mut open: Vec<String> = Vec::new();
    let mut seen = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name().as_ref().to_string();
                let local = e.local_name().as_ref().to_string();
                if local == "item" || local == "entry" {
                    seen += 1;
                    if seen > max {
                        let mut out = String::with_capacity(before + 64);
                        out.push_str(&text[..before]);
                        for tag in open.iter().rev() {
                            out.push_str("</");
                            out.push_str(tag);
                            out.push('>');
                        }
                        return Cow::Owned(out);
                    }
                }
                open.push(name);
            }
            Ok(Event::End(_)) => {
                open.pop();
            }
            Ok(Event::Eof) | Err(_) => return Cow::Borrowed(text),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_past_the_cap_are_cut_and_the_document_stays_well_formed() {
        let items: String = (0..5)
            .map(|i| format!("<item><title>{i}</title></item>"))
            .collect();
        let doc = format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>");
        let cut = truncate_entries(&doc, 2);
        assert_eq!(
            cut,
            "<rss version=\"2.0\"><channel><title>t</title><item><title>0</title></item><item><title>1</title></item></channel></rss>"
        );
        assert!(matches!(truncate_entries(&doc, 5), Cow::Borrowed(_)));
    }

    #[test]
    fn rss_1_0_items_outside_the_channel_and_atom_entries_are_counted() {
        let doc = "<rdf:RDF><channel/><item/><item></item><item><title>x</title></item></rdf:RDF>";
        assert_eq!(
            truncate_entries(doc, 1),
            "<rdf:RDF><channel/><item/><item></item></rdf:RDF>"
        );
        let atom = "<feed><entry><id>1</id></entry><entry><id>2</id></entry></feed>";
        assert_eq!(
            truncate_entries(atom, 1),
            "<feed><entry><id>1</id></entry></feed>"
        );
    }
}
