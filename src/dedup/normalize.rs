//! Text and URL normalisation for duplicate detection.
//!
//! Copies of one wire story differ in typography (curly vs straight quotes,
//! en/em dashes, ligatures, non-breaking spaces) and in case, and their URLs
//! carry per-click tracking parameters. Everything here maps those surface
//! differences away so that hashing and shingling see only the words.

use unicode_normalization::{IsNormalized, UnicodeNormalization};
use url::Url;

/// Maps one character to its dedup-normal form (after NFKC), or `None` to drop it.
///
/// Why: NFKC folds compatibility forms (ligatures, full-width letters, NBSP)
/// but leaves typographic quotes and dashes alone; outlets' CMSs differ exactly there.
fn fold_char(c: char) -> Option<char> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => {
            Some('\'')
        }
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Some('"'),
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => Some('-'),
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' => None,
        c if c.is_whitespace() => Some(' '),
        c => Some(c),
    }
}

/// Returns `text` NFKC-normalised, lowercased, with quotes/dashes/spaces unified.
///
/// Why: a stable normal form, so that quote style, dashes and ligatures, which outlets
/// edit freely, never change a shingle.
pub fn normalize_text(text: &str) -> String {
    if text.is_ascii() {
        // ASCII is its own NFKC form: the same result without the normaliser, which was
        // most of fingerprinting's cost on English copy.
        return text
            .bytes()
            .map(|b| match b {
                b'`' => '\'',
                b if b.is_ascii_whitespace() || b == 0x0B => ' ',
                b => char::from(b.to_ascii_lowercase()),
            })
            .collect();
    }
    let mut out = String::with_capacity(text.len());
    let fold = |out: &mut String, c: char| {
        if let Some(c) = fold_char(c) {
            out.extend(c.to_lowercase());
        }
    };
    // Most news text is already in NFKC (curly quotes and dashes are): the quick check
    // then spares the normaliser's buffering.
    if unicode_normalization::is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().for_each(|c| fold(&mut out, c));
    } else {
        text.nfkc().for_each(|c| fold(&mut out, c));
    }
    out
}

/// Splits already-normalised text into word tokens.
///
/// Why: shingles must not depend on punctuation or spacing, which outlets edit
/// freely. Apostrophes inside a word are removed (`don't` → `dont`) so that a
/// quote-style change never splits a word; every other non-alphanumeric
/// character separates tokens.
pub fn tokenize(normalized: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in normalized.chars() {
        if unspaced_script(c) {
            // Scripts written without spaces: one character is one token, so that
            // shingles are character 5-grams, the usual unit for Chinese and Japanese.
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            tokens.push(c.to_string());
        } else if c.is_alphanumeric() {
            cur.push(c);
        } else if c == '\'' && !cur.is_empty() {
            // joiner: skip it, keep building the current word
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// Letters of scripts that do not separate words by spaces (Han, kana, Thai, Lao,
/// Khmer, Myanmar).
fn unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'   // Katakana extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'   // half-width Katakana
        | '\u{20000}'..='\u{2FA1F}' // CJK extensions B–F, supplement
        | '\u{0E00}'..='\u{0EFF}'   // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
    ) && c.is_alphanumeric()
}

/// Normalises then tokenises in one step.
///
/// Why: the common path for paragraphs and titles.
pub fn words(text: &str) -> Vec<String> {
    tokenize(&normalize_text(text))
}

/// Canonicalises a URL for exact-duplicate detection.
///
/// Why: the same article reaches a feed under several URLs that differ only in
/// tracking parameters (`utm_*`, `fbclid`, `gclid`…), fragment, scheme, a
/// leading `www.`/`m.`/`amp.` host label, an `/amp` suffix or a trailing slash.
/// Unparseable input is returned trimmed, so the caller still gets a stable key.
pub fn canonical_url(raw: &str) -> String {
    let raw = raw.trim();
    match Url::parse(raw) {
        Ok(url) => crate::clean::urls::canonical_key(&url),
        Err(_) => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_dashes_case_and_ligatures_fold() {
        assert_eq!(
            words("\u{201C}Don\u{2019}t\u{201D} \u{2014} the O\u{FB03}ce"),
            vec!["dont", "the", "office"]
        );
        assert_eq!(words("Don't"), words("DON\u{2019}T"));
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_the_normaliser() {
        // Every ASCII character, through the shortcut and (with a non-ASCII letter that
        // NFKC leaves alone appended) through the full path.
        let ascii: String = (0u8..128).map(char::from).collect();
        let text = format!("{ascii} Quick `Brown` Fox\t\x0b\x0cJumps");
        assert_eq!(
            format!("{}\u{e9}", normalize_text(&text)),
            normalize_text(&format!("{text}\u{e9}"))
        );
        // Already-normal text skips the normaliser; text that is not still goes through it.
        let full = |t: &str| -> String {
            t.nfkc()
                .filter_map(fold_char)
                .flat_map(char::to_lowercase)
                .collect()
        };
        for t in [
            "\u{201C}Caf\u{e9}\u{201D} \u{2014} na\u{ef}ve",
            "Cafe\u{301} \u{FB01}le \u{FF21} x\u{A0}y \u{212B}",
        ] {
            assert_eq!(normalize_text(t), full(t), "{t}");
        }
    }

    #[test]
    fn unspaced_scripts_split_per_character_and_latin_runs_stay_words() {
        assert_eq!(
            words("Kindle書籍を読む PC"),
            vec!["kindle", "書", "籍", "を", "読", "む", "pc"]
        );
        assert_eq!(words("ภาษาไทย").len(), 7);
    }

    #[test]
    fn tracking_params_and_cosmetics_are_stripped() {
        let a = canonical_url("https://www.ex.example/a/b/?utm_source=x&id=3&fbclid=abc#top");
        let b = canonical_url("http://ex.example/a/b?id=3&gclid=zz");
        assert_eq!(a, b);
        assert_eq!(a, "ex.example/a/b?id=3");
        assert_ne!(
            canonical_url("https://ex.example/a?id=3"),
            canonical_url("https://ex.example/a?id=4")
        );
    }
}
