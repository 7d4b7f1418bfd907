//! Text repair: mojibake undone where the repair is unambiguous, and code points that XML
//! and HTML forbid taken out.
//!
//! A feed that was UTF-8, decoded once upstream as Windows-1252 (or Latin-1) and re-encoded,
//! arrives reading "isnâ€™t" or "isnâ\u{80}\u{99}t". Each such run is the image of UTF-8 bytes
//! under a single-byte code page, so mapping its characters back to those bytes and decoding
//! them as UTF-8 gives the text the author wrote. A run is repaired only when that decode is
//! valid UTF-8 and contains a character beyond Latin-1, which a genuine Latin-1 run such as
//! "café" or "Ã la carte" (no valid multi-byte sequence) never does.
//!
//! C1 controls (U+0080–U+009F) and the other code points invalid in XML 1.0 are never
//! published: the W3C feed validator reports them, and readers show them as boxes.

use std::borrow::Cow;

/// Windows-1252's characters for bytes 0x80–0x9F (0 where the code page leaves it undefined).
const CP1252_HIGH: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

/// The byte a character stands for in Windows-1252 or Latin-1 read as text, if any.
fn single_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if (0xA0..=0xFF).contains(&u) || (0x80..=0x9F).contains(&u) {
        return Some(u as u8);
    }
    CP1252_HIGH
        .iter()
        .position(|&h| h == c && h != '\0')
        .map(|i| 0x80 + i as u8)
}

/// Whether a code point may appear in XML 1.0 text (and is not a C1 control, which HTML and
/// the feed validator reject too).
pub fn is_publishable(c: char) -> bool {
    match c as u32 {
        0x9 | 0xA | 0xD => true,
        0x20..=0x7E => true,
        0x7F..=0x9F => false,
        0xFDD0..=0xFDEF | 0xFFFE | 0xFFFF => false,
        0xD800..=0xDFFF => false,
        u => u >= 0xA0,
    }
}

/// Repairs mojibake and double-escaped character references, and drops unpublishable code
/// points; borrowed when nothing changes, which is almost always.
pub fn repair_text(s: &str) -> Cow<'_, str> {
    if s.contains("&#") || s.contains("&amp;") {
        return Cow::Owned(repair_chars(&unescape_twice_escaped(s)).into_owned());
    }
    repair_chars(s)
}

/// Mojibake and unpublishable code points only.
fn repair_chars(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return if s
            .bytes()
            .all(|b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
        {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(s.chars().filter(|&c| is_publishable(c)).collect())
        };
    }
    let repaired = undo_mojibake(s);
    if repaired.chars().all(is_publishable) {
        return repaired;
    }
    Cow::Owned(repaired.chars().filter(|&c| is_publishable(c)).collect())
}

/// Text that still holds `&#769;` or `&amp;` after HTML decoding was escaped twice by its
/// publisher: a reader would see the reference, not the character.
fn unescape_twice_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("&amp;") {
            out.push('&');
            rest = after;
            continue;
        }
        let num = rest.strip_prefix("&#").and_then(|r| {
            let end = r.find(';').filter(|&e| (1..=8).contains(&e))?;
            let code = match r[..end].strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => r[..end].parse().ok()?,
            };
            Some((char::from_u32(code)?, 2 + end + 1))
        });
        match num {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces each run of single-byte-mappable characters that decodes as UTF-8 with a
/// character beyond Latin-1 by that decode.
fn undo_mojibake(s: &str) -> Cow<'_, str> {
    // Cheap exit: mojibake of UTF-8 always starts with a lead byte 0xC2–0xF4 read as a
    // character in U+00C2–U+00F4.
    if !s.chars().any(|c| ('\u{c2}'..='\u{f4}').contains(&c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut changed = false;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if single_byte(chars[i]).is_none() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        let mut bytes = Vec::new();
        while i < chars.len() {
            match single_byte(chars[i]) {
                Some(b) => bytes.push(b),
                None => break,
            }
            i += 1;
        }
        match std::str::from_utf8(&bytes) {
            Ok(decoded) if decoded.chars().any(|c| c as u32 > 0xFF) || mixed(decoded, &bytes) => {
                out.push_str(decoded);
                changed = true;
            }
            _ => out.extend(&chars[start..i]),
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// A valid decode that only yields Latin-1 letters ("Ã©" → "é") is still a repair when the
/// run held a multi-byte sequence: one character came from two.
fn mixed(decoded: &str, bytes: &[u8]) -> bool {
    decoded.chars().count() < bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_and_latin_1_mojibake_is_repaired() {
        assert_eq!(repair_text("isnâ€™t"), "isn’t");
        assert_eq!(repair_text("isnâ\u{80}\u{99}t"), "isn’t");
        assert_eq!(repair_text("CafÃ© â€œquotedâ€\u{9d}"), "Café “quoted”");
        assert_eq!(repair_text("SÃ£o Paulo â€” Brasil"), "São Paulo — Brasil");
    }

    #[test]
    fn genuine_text_is_left_alone() {
        for s in [
            "café",
            "Ã la carte",
            "naïve façade",
            "Москва",
            "東京",
            "Æsop’s “fables” — 50 €",
            "plain ascii",
        ] {
            assert_eq!(repair_text(s), s, "{s}");
            assert!(matches!(repair_text(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn twice_escaped_references_are_read_once() {
        assert_eq!(
            repair_text("Лаба&#769;зник (Filip&#233;ndula)"),
            "Лаба\u{301}зник (Filipéndula)"
        );
        assert_eq!(
            repair_text("AT&amp;T &#x263A; &#bogus; & more"),
            "AT&T ☺ &#bogus; & more"
        );
        assert_eq!(repair_text("&#0; gone"), " gone");
    }

    #[test]
    fn unpublishable_code_points_are_dropped() {
        assert_eq!(repair_text("a\u{0}b\u{1b}c\u{85}d\u{fffe}e"), "abcde");
        assert_eq!(repair_text("tab\tand\nnewline"), "tab\tand\nnewline");
    }
}
