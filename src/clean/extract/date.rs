//! Date parsing for publication times: ISO strings from markup and English text dates.
//!
//! News pages state the time in many shapes ("2023-06-13T02:03:00Z", "Tuesday 13 June 2023
//! 03:03 BST", "June 13, 2023 at 3:03 a.m. EDT"); the article's own offset is kept so the
//! published time reads as the page wrote it. Zone abbreviations come from `timezones.txt`.

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use regex::Regex;

use super::rules::Rules;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_num(name: &str) -> Option<u32> {
    let l = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| l.starts_with(m))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Parses machine-readable timestamps: RFC 3339 and its common loose variants.
pub fn parse_iso(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return utc.from_local_datetime(&n).single();
        }
    }
    let day = s.get(..10)?;
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    utc.from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
}

struct TextPatterns {
    day_first: Regex,
    month_first: Regex,
}

fn patterns() -> &'static TextPatterns {
    static P: OnceLock<TextPatterns> = OnceLock::new();
    P.get_or_init(|| {
        let time = r"(?:,?\s*(?:at\s+)?(\d{1,2})[:.](\d{2})(?::\d{2})?\s*([ap]\.?m\.?)?)?(?:\s*\(?([A-Z]{1,5})\b\)?)?";
        let month = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
        TextPatterns {
            // The literal patterns are fixed at build time and covered by unit tests.
            day_first: Regex::new(&super::rules::ascii_boundaries(&format!(r"(?i:\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{month},?\s+(\d{{4}})){time}")))
                .expect("static regex"),
            month_first: Regex::new(&super::rules::ascii_boundaries(&format!(r"(?i:\b{month}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})){time}")))
                .expect("static regex"),
        }
    })
}

/// A date found in running text, with the byte span it covered.
#[derive(Debug, Clone)]
pub struct TextDate {
    /// The parsed time (midnight when the text gave only a day).
    pub when: DateTime<FixedOffset>,
    /// Whether the text included a clock time.
    pub has_time: bool,
    /// Byte range of the match in the input.
    pub span: (usize, usize),
}

/// Finds the first English-language date (with optional time and zone) in `text`.
pub fn parse_text(text: &str, rules: &Rules) -> Option<TextDate> {
    let p = patterns();
    let (caps, day_i, mon_i) = if let Some(c) = p.day_first.captures(text) {
        (c, 1, 2)
    } else {
        (p.month_first.captures(text)?, 2, 1)
    };
    let whole = caps.get(0)?;
    let day: u32 = caps.get(day_i)?.as_str().parse().ok()?;
    let month = month_num(caps.get(mon_i)?.as_str())?;
    let year: i32 = caps.get(3)?.as_str().parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut has_time = false;
    let mut time = NaiveTime::MIN;
    if let (Some(h), Some(m)) = (caps.get(4), caps.get(5)) {
        let mut hour: u32 = h.as_str().parse().ok()?;
        let min: u32 = m.as_str().parse().ok()?;
        if let Some(ap) = caps.get(6) {
            let pm = ap.as_str().to_ascii_lowercase().starts_with('p');
            hour %= 12;
            if pm {
                hour += 12;
            }
        }
        time = NaiveTime::from_hms_opt(hour, min, 0)?;
        has_time = true;
    }
    let mut end = whole.end();
    let offset = match caps.get(7) {
        Some(z) => match rules.tz_offset(z.as_str()) {
            Some(o) => o,
            None => {
                end = z.start();
                0
            }
        },
        None => 0,
    };
    let tz = FixedOffset::east_opt(offset)?;
    let when = tz.from_local_datetime(&date.and_time(time)).single()?;
    Some(TextDate {
        when,
        has_time,
        span: (whole.start(), end),
    })
}

/// Whether a short line is only a date stamp ("Updated: Tuesday 13 June 2023 03:03 BST").
pub fn is_date_line(text: &str, rules: &Rules) -> bool {
    let Some(d) = parse_text(text, rules) else {
        return parse_iso(text).is_some();
    };
    let rest = format!("{} {}", &text[..d.span.0], &text[d.span.1..]);
    let filler = [
        "updated",
        "published",
        "posted",
        "last",
        "on",
        "at",
        "first",
        "modified",
        "edited",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "|",
        "-",
        "•",
        "·",
        "and",
    ];
    rest.split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .filter(|w| !w.is_empty())
        .all(|w| filler.contains(&w.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_date_with_bst() {
        let r = Rules::builtin();
        let d = parse_text("Tuesday 13 June 2023 03:03 BST", r).unwrap();
        assert_eq!(d.when.to_rfc3339(), "2023-06-13T03:03:00+01:00");
        assert!(is_date_line("Tuesday 13 June 2023 03:03 BST", r));
        assert!(!is_date_line(
            "On 13 June 2023 the president met his counterpart",
            r
        ));
    }

    #[test]
    fn month_first_with_pm() {
        let r = Rules::builtin();
        let d = parse_text("Updated June 13, 2023 at 3:05 p.m. EDT", r).unwrap();
        assert_eq!(d.when.to_rfc3339(), "2023-06-13T15:05:00-04:00");
    }

    #[test]
    fn iso_variants() {
        assert_eq!(
            parse_iso("2019-11-19T05:00:00.000Z").unwrap().to_rfc3339(),
            "2019-11-19T05:00:00+00:00"
        );
        assert_eq!(
            parse_iso("2019-11-19T05:00:00-0500").unwrap().to_rfc3339(),
            "2019-11-19T05:00:00-05:00"
        );
        assert!(parse_iso("2019-11-19").is_some());
        assert!(parse_iso("yesterday").is_none());
    }
}
