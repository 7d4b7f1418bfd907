//! Turning feed bytes into UTF-8 text before the XML parser sees them.
//!
//! Order of evidence: a byte-order mark, then the XML declaration, then the HTTP `charset`,
//! then UTF-8. Decoding never fails: one bad byte in a publisher's feed should cost at most
//! one character, not the whole fetch. A byte that is not valid UTF-8 where UTF-8 was
//! declared or assumed is read as windows-1252, the web's fallback, so undeclared Latin-1
//! feeds read correctly. The declaration is removed
//! afterwards so that the parser does not decode the already-decoded text a second time.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// The text of a feed, in UTF-8, with any XML declaration removed, plus what was used.
pub struct Decoded {
    pub text: String,
    /// The encoding the bytes were read as (for diagnostics).
    pub encoding: &'static Encoding,
    /// Whether any invalid byte sequence had to be replaced.
    pub had_errors: bool,
}

/// Decodes feed bytes; `http_charset` is the `charset` parameter of the response, if any.
pub fn decode(bytes: &[u8], http_charset: Option<&str>) -> Decoded {
    let (encoding, skip) = match Encoding::for_bom(bytes) {
        Some((enc, len)) => (enc, len),
        None => (sniff(bytes, http_charset), 0),
    };
    let (mut text, had_errors) = if encoding == UTF_8 {
        utf8_or_windows_1252(&bytes[skip..])
    } else {
        let (t, e) = encoding.decode_without_bom_handling(&bytes[skip..]);
        (t.into_owned(), e)
    };
    strip_declaration(&mut text);
    Decoded {
        text,
        encoding,
        had_errors,
    }
}

/// UTF-8, except that a byte that is not part of a valid UTF-8 sequence is read as
/// windows-1252: an undeclared Latin-1 feed reads right instead of as U+FFFD, and a UTF-8
/// feed with a few Latin-1 bytes pasted in loses nothing. `true` when any byte needed it.
fn utf8_or_windows_1252(bytes: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    let mut fell_back = false;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return (out, fell_back);
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // `valid_up_to` marks a prefix that is valid UTF-8.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len()).max(1);
                let (chars, _) =
                    encoding_rs::WINDOWS_1252.decode_without_bom_handling(&after[..bad]);
                out.push_str(&chars);
                fell_back = true;
                rest = &after[bad..];
            }
        }
    }
}

/// Decodes an HTML page: BOM, then `<meta charset>` (or `http-equiv` Content-Type) in the
/// first 2 KB, then the HTTP charset, then UTF-8 — or windows-1252 when the bytes are not
/// UTF-8 and nothing was declared, as browsers do for legacy pages.
/// Whether bytes can be an HTML page: not empty, no NUL bytes or other binary control
/// characters in their first kilobytes (UTF-16 with a BOM aside), some markup. `Err` says
/// why not, for the user.
pub fn sniff_html(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("it is empty");
    }
    let text = if Encoding::for_bom(bytes).is_some() {
        decode_html(&bytes[..bytes.len().min(64 * 1024)], None)
    } else {
        let head = &bytes[..bytes.len().min(8 * 1024)];
        let controls = head
            .iter()
            .filter(|b| matches!(b, 0..=8 | 14..=31 | 127))
            .count();
        if head.contains(&0) || controls * 100 > head.len() {
            return Err("it is binary data");
        }
        String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned()
    };
    let markup = text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'!' || w[1] == b'/'));
    if markup {
        Ok(())
    } else {
        Err("it has no HTML markup")
    }
}

pub fn decode_html(bytes: &[u8], http_charset: Option<&str>) -> String {
    if let Some((enc, skip)) = Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[skip..])
            .0
            .into_owned();
    }
    let declared = meta_charset(&bytes[..bytes.len().min(2048)])
        .or_else(|| http_charset.map(str::to_string))
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        // A page cannot really be UTF-16 without a BOM; the declaration is wrong.
        .filter(|e| *e != UTF_16LE && *e != UTF_16BE);
    let enc = match declared {
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => UTF_8,
        None => encoding_rs::WINDOWS_1252,
    };
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

/// The charset named by a `<meta>` tag in the head of an HTML page.
fn meta_charset(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("<meta") {
        rest = &rest[i + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(j) = tag.find("charset") {
            let v = tag[j + 7..].trim_start().strip_prefix('=')?.trim_start();
            let v = v.trim_start_matches(['"', '\'']);
            let end = v
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace() || c == '/')
                .unwrap_or(v.len());
            if end > 0 {
                return Some(v[..end].to_string());
            }
        }
    }
    None
}

fn sniff(bytes: &[u8], http_charset: Option<&str>) -> &'static Encoding {
    // UTF-16 without a BOM still starts with '<' as a 16-bit unit.
    if bytes.starts_with(&[0, b'<', 0]) {
        return UTF_16BE;
    }
    if bytes.starts_with(&[b'<', 0, b'?', 0]) || bytes.starts_with(&[b'<', 0, b'r', 0]) {
        return UTF_16LE;
    }
    if let Some(label) = declared_encoding(bytes)
        && let Some(enc) = Encoding::for_label(label.as_bytes())
    {
        // A document that declares UTF-16 but has no BOM and reads as ASCII was re-encoded by
        // someone who forgot the declaration; the bytes are the truth.
        if enc == UTF_16LE || enc == UTF_16BE {
            return UTF_8;
        }
        return enc;
    }
    if let Some(enc) = http_charset.and_then(|c| Encoding::for_label(c.trim().as_bytes())) {
        if enc == UTF_16LE || enc == UTF_16BE {
            return UTF_8;
        }
        return enc;
    }
    UTF_8
}

/// The `encoding="…"` of an XML declaration at the start of the document, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].to_string())
}

/// Removes leading whitespace and the XML declaration: the text is UTF-8 now, whatever it said.
fn strip_declaration(text: &mut String) {
    let start = text.len() - text.trim_start().len();
    if text[start..].starts_with("<?xml")
        && let Some(end) = text[start..].find("?>")
    {
        text.replace_range(..start + end + 2, "");
    } else if start > 0 {
        text.replace_range(..start, "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_told_from_binary_and_plain_text() {
        assert!(sniff_html(b"<!doctype html><p>hi</p>").is_ok());
        assert!(sniff_html(b"\xef\xbb\xbf<html>").is_ok());
        assert_eq!(
            sniff_html(b"\x7fELF\x02\x01\x01\0\0\0"),
            Err("it is binary data")
        );
        assert_eq!(sniff_html(b"just some words"), Err("it has no HTML markup"));
        assert_eq!(sniff_html(b"  \n"), Err("it is empty"));
    }

    #[test]
    fn declared_latin1_is_transcoded() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>caf\xe9</rss>";
        let d = decode(bytes, None);
        assert_eq!(d.text, "<rss>café</rss>");
        assert!(!d.had_errors);
    }

    #[test]
    fn http_charset_is_used_when_the_document_is_silent() {
        let d = decode(b"<rss>caf\xe9</rss>", Some("iso-8859-1"));
        assert_eq!(d.text, "<rss>café</rss>");
    }

    #[test]
    fn the_declaration_wins_over_http_charset() {
        let d = decode(
            "<?xml version='1.0' encoding='utf-8'?><rss>café</rss>".as_bytes(),
            Some("iso-8859-1"),
        );
        assert_eq!(d.text, "<rss>café</rss>");
    }

    #[test]
    fn koi8r_and_windows1252_decode() {
        let d = decode(
            b"<?xml version=\"1.0\" encoding=\"KOI8-R\"?><t>\xf0\xd2\xc9\xd7\xc5\xd4</t>",
            None,
        );
        assert_eq!(d.text, "<t>Привет</t>");
        let d = decode(
            b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><t>\x93hi\x94</t>",
            None,
        );
        assert_eq!(d.text, "<t>\u{201c}hi\u{201d}</t>");
    }

    #[test]
    fn utf16_with_bom_decodes() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>ü</t>".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes, None).text, "<t>ü</t>");
    }

    #[test]
    fn bytes_that_are_not_utf8_read_as_windows_1252_not_fatal() {
        let d = decode(b"<t>ok \xff\xfe bad</t>", None);
        assert_eq!(d.text, "<t>ok \u{ff}\u{fe} bad</t>");
        assert!(d.had_errors);
        // Undeclared Latin-1, and UTF-8 with one Latin-1 byte pasted in.
        assert_eq!(
            decode(b"<t>\xc9tat caf\xe9</t>", None).text,
            "<t>\u{c9}tat caf\u{e9}</t>"
        );
        assert_eq!(
            decode(
                "<t>na\u{ef}ve \u{2014} "
                    .as_bytes()
                    .iter()
                    .chain(b"\x93quoted\x94</t>")
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice(),
                None
            )
            .text,
            "<t>na\u{ef}ve \u{2014} \u{201c}quoted\u{201d}</t>"
        );
    }

    #[test]
    fn html_pages_decode_by_meta_charset_http_or_sniffing() {
        let page =
            b"<html><head><meta charset=\"windows-1252\"></head><body>\x93hi\x94</body></html>";
        assert!(decode_html(page, None).contains("\u{201c}hi\u{201d}"));
        let page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>caf\xe9";
        assert!(decode_html(page, None).ends_with("café"));
        assert!(decode_html(b"<p>caf\xe9", Some("latin1")).ends_with("café"));
        assert!(decode_html("<p>café".as_bytes(), None).ends_with("café"));
        assert!(decode_html(b"<p>caf\xe9", None).ends_with("café"));
    }

    #[test]
    fn leading_whitespace_before_the_declaration_is_dropped() {
        let d = decode(b"\n\n  <?xml version=\"1.0\"?>\n<rss/>", None);
        assert_eq!(d.text, "\n<rss/>");
    }
}
