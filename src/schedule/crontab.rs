//! Cron expressions as users write them (crontab(5): five fields, weekdays 0–7 with Sunday
//! 0 or 7), translated for the `cron` crate (seconds first, weekdays 1–7 from Sunday = 1).
//! Every field is checked against its own range first, so that a mistake is reported in the
//! user's terms ("minute 61 is out of range 0-59"), never in the crate's internal form.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Why an expression was refused; shown to the user next to the config line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {expr:?}: {reason}")]
pub struct ScheduleError {
    pub expr: String,
    pub reason: String,
}

/// A parsed cron schedule that remembers what the user wrote.
///
/// Weekday numbers always mean what crontab(5) says (0–7, Sunday = 0 or 7), in the 5-field
/// form and in the 6-field form with seconds first alike. When both day-of-month and weekday
/// are restricted, crontab fires when *either* matches; that is kept by holding two schedules.
#[derive(Clone)]
pub struct CronSchedule {
    written: String,
    /// One schedule, or two whose union is meant (day-of-month OR weekday).
    inner: Vec<cron::Schedule>,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({:?})", self.written)
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}

fn restricted(field: &str) -> bool {
    field != "*" && field != "?"
}

impl CronSchedule {
    /// Parses a 5-field crontab line, a `@macro`, or a 6/7-field line with seconds first
    /// (and an optional year last).
    pub fn parse(expr: &str) -> Result<Self, ScheduleError> {
        let err = |reason: String| ScheduleError {
            expr: expr.to_string(),
            reason,
        };
        let trimmed = expr.trim();
        let mut fields: Vec<String> = match trimmed {
            "@yearly" | "@annually" => vec!["0", "0", "0", "1", "1", "*"],
            "@monthly" => vec!["0", "0", "0", "1", "*", "*"],
            "@weekly" => vec!["0", "0", "0", "*", "*", "0"],
            "@daily" | "@midnight" => vec!["0", "0", "0", "*", "*", "*"],
            "@hourly" => vec!["0", "0", "*", "*", "*", "*"],
            other if other.starts_with('@') => return Err(err("unknown @macro".into())),
            other => {
                let f: Vec<&str> = other.split_whitespace().collect();
                // Each field is checked in the user's own terms before the crate sees it.
                let layout: &[Field] = match f.len() {
                    5 => &FIELDS[1..6],
                    6 => &FIELDS[..6],
                    7 => &FIELDS,
                    n => {
                        return Err(err(format!(
                            "expected 5 fields (minute hour day month weekday) or 6 with seconds first, found {n}"
                        )));
                    }
                };
                for (text, field) in f.iter().zip(layout) {
                    field.check(text).map_err(err)?;
                }
                match f.len() {
                    5 => std::iter::once("0").chain(f).collect(),
                    _ => f,
                }
            }
        }
        .into_iter()
        .map(str::to_string)
        .collect();
        fields[5] = crontab_weekdays(&fields[5]).map_err(err)?;
        // The crate's message quotes its own 6-field form; only its last line is the user's.
        let build = |f: &[String]| {
            cron::Schedule::from_str(&f.join(" ")).map_err(|e| {
                let msg = e.to_string();
                let last = msg.lines().last().unwrap_or_default().trim().to_string();
                err(format!("not understood ({last})"))
            })
        };
        let inner = if restricted(&fields[3]) && restricted(&fields[5]) {
            let mut by_day = fields.clone();
            by_day[5] = "*".into();
            let mut by_weekday = fields.clone();
            by_weekday[3] = "*".into();
            vec![build(&by_day)?, build(&by_weekday)?]
        } else {
            vec![build(&fields)?]
        };
        let s = CronSchedule {
            written: trimmed.to_string(),
            inner,
        };
        if s.next_after(Utc::now()).is_none() {
            return Err(err("never fires".into()));
        }
        Ok(s)
    }

    /// The expression as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The first firing strictly after `after`. Only one slot is ever returned, so a daemon that
    /// was down for hours fetches once when it comes back, not once per missed slot.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.inner
            .iter()
            .filter_map(|s| s.after(&after).next())
            .min()
    }

    /// The typical gap between firings, used to bound jitter so it never swallows a period.
    pub fn period_hint(&self, from: DateTime<Utc>) -> Duration {
        let first = self.next_after(from);
        let second = first.and_then(|t| self.next_after(t));
        match (first, second) {
            (Some(a), Some(b)) => (b - a).to_std().unwrap_or(Duration::from_secs(60)),
            _ => Duration::from_secs(3600),
        }
    }
}

impl FromStr for CronSchedule {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(s)
    }
}

/// One field of a cron line: what it is called and which values it takes.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names allowed for values (months, weekdays), the first meaning `min`.
    names: &'static [&'static str],
    /// Whether `?` ("no specific value") may stand in it.
    question: bool,
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Seconds, then the five crontab fields, then an optional year.
const FIELDS: [Field; 7] = [
    Field::new("second", 0, 59),
    Field::new("minute", 0, 59),
    Field::new("hour", 0, 23),
    Field {
        question: true,
        ..Field::new("day-of-month", 1, 31)
    },
    Field {
        names: MONTHS,
        ..Field::new("month", 1, 12)
    },
    Field {
        names: WEEKDAYS,
        question: true,
        ..Field::new("weekday", 0, 7)
    },
    Field::new("year", 1970, 2099),
];

impl Field {
    const fn new(name: &'static str, min: u32, max: u32) -> Field {
        Field {
            name,
            min,
            max,
            names: &[],
            question: false,
        }
    }

    /// One value: a number in range or a name.
    fn value(&self, v: &str) -> Result<u32, String> {
        if let Ok(n) = v.parse::<u32>() {
            return if (self.min..=self.max).contains(&n) {
                Ok(n)
            } else {
                Err(format!(
                    "{} {n} is out of range ({}-{})",
                    self.name, self.min, self.max
                ))
            };
        }
        let lower = v.to_ascii_lowercase();
        match self.names.iter().position(|n| *n == lower) {
            Some(i) => Ok(self.min + i as u32),
            None if self.names.is_empty() => Err(format!(
                "{v:?} is not a {} (a number {}-{})",
                self.name, self.min, self.max
            )),
            None => Err(format!(
                "{v:?} is not a {} (a number {}-{}, or {}…{})",
                self.name,
                self.min,
                self.max,
                self.names[0],
                self.names[self.names.len() - 1]
            )),
        }
    }

    /// Checks one field: `*`, values, ranges and steps, in lists.
    fn check(&self, text: &str) -> Result<(), String> {
        if text == "?" && self.question {
            return Ok(());
        }
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(s) = step {
                match s.parse::<u32>() {
                    Ok(0) => return Err(format!("the {} step must be at least 1", self.name)),
                    Ok(_) => {}
                    Err(_) => {
                        return Err(format!("{s:?} is not a step in the {} field", self.name));
                    }
                }
            }
            if range == "*" {
                continue;
            }
            if range.is_empty() {
                return Err(format!("empty value in the {} field {text:?}", self.name));
            }
            match range.split_once('-') {
                Some((a, b)) => {
                    let (lo, hi) = (self.value(a)?, self.value(b)?);
                    if lo > hi {
                        return Err(format!("{} range {range} runs backwards", self.name));
                    }
                }
                None => {
                    self.value(range)?;
                }
            }
        }
        Ok(())
    }
}

/// Translates a crontab weekday field (0–7, Sunday = 0 or 7, names allowed, lists, ranges and
/// steps) into the cron crate's numbering (1–7, Sunday = 1) as an explicit list, which avoids
/// re-deriving range semantics across the two numberings.
fn crontab_weekdays(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok("*".into());
    }
    let mut days = [false; 7];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("bad step {s:?} in weekday field"))?;
                if step == 0 {
                    return Err("weekday step must be positive".into());
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (weekday_number(a)?, weekday_number(b)?)
        } else {
            let d = weekday_number(range)?;
            // "5/2" in crontab means "from 5 to the end, every 2".
            if step > 1 { (d, 7) } else { (d, d) }
        };
        if lo > hi {
            return Err(format!("weekday range {range:?} runs backwards"));
        }
        let mut d = lo;
        while d <= hi {
            days[(d % 7) as usize] = true;
            d += step;
        }
    }
    let list: Vec<String> = (0..7)
        .filter(|&d| days[d])
        .map(|d| (d + 1).to_string())
        .collect();
    Ok(list.join(","))
}

fn weekday_number(s: &str) -> Result<u32, String> {
    const NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if let Ok(n) = s.parse::<u32>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("weekday {n} out of range 0-7"))
        };
    }
    let lower = s.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|n| *n == lower)
        .map(|p| p as u32)
        .ok_or_else(|| format!("unknown weekday {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn five_field_crontab_fires_every_fifteen_minutes() {
        let s = CronSchedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 5, 10, 7)),
            Some(at(2026, 1, 5, 10, 15))
        );
    }

    #[test]
    fn six_field_form_with_seconds_is_accepted_unchanged() {
        let s = CronSchedule::parse("30 */10 * * * *").unwrap();
        let next = s.next_after(at(2026, 1, 5, 10, 1)).unwrap();
        assert_eq!((next.minute(), next.second()), (10, 30));
    }

    #[test]
    fn crontab_sunday_is_zero_and_seven() {
        // 2026-01-05 is a Monday.
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun"] {
            let next = CronSchedule::parse(expr)
                .unwrap()
                .next_after(at(2026, 1, 5, 0, 0))
                .unwrap();
            assert_eq!(next.weekday(), Weekday::Sun, "{expr}");
            assert_eq!(next.day(), 11, "{expr}");
        }
    }

    #[test]
    fn crontab_weekday_ranges_translate() {
        let s = CronSchedule::parse("0 9 * * 1-5").unwrap();
        // From Friday noon, the next weekday slot is Monday.
        let next = s.next_after(at(2026, 1, 9, 12, 0)).unwrap();
        assert_eq!(next.weekday(), Weekday::Mon);
        let s = CronSchedule::parse("0 9 * * 5-7").unwrap();
        let mut days = Vec::new();
        let mut t = at(2026, 1, 5, 0, 0);
        for _ in 0..3 {
            t = s.next_after(t).unwrap();
            days.push(t.weekday());
        }
        assert_eq!(days, [Weekday::Fri, Weekday::Sat, Weekday::Sun]);
    }

    #[test]
    fn crontab_weekday_step_and_list() {
        assert_eq!(crontab_weekdays("*/2").unwrap(), "1,3,5,7");
        assert_eq!(crontab_weekdays("1,3").unwrap(), "2,4");
        assert_eq!(crontab_weekdays("mon-fri").unwrap(), "2,3,4,5,6");
    }

    #[test]
    fn six_field_weekdays_use_crontab_numbering_too() {
        // 2026-01-05 is a Monday; "1" means Monday in both forms.
        let five = CronSchedule::parse("0 9 * * 1").unwrap();
        let six = CronSchedule::parse("0 0 9 * * 1").unwrap();
        let from = at(2026, 1, 6, 0, 0);
        assert_eq!(five.next_after(from), six.next_after(from));
        assert_eq!(six.next_after(from).unwrap().weekday(), Weekday::Mon);
    }

    #[test]
    fn day_of_month_and_weekday_together_mean_either() {
        // crontab: the 13th of the month OR any Friday.
        let s = CronSchedule::parse("0 9 13 * 5").unwrap();
        let next = s.next_after(at(2026, 1, 5, 0, 0)).unwrap();
        assert_eq!(
            next,
            at(2026, 1, 9, 9, 0),
            "the first Friday comes before the 13th"
        );
        let after = s.next_after(at(2026, 1, 10, 0, 0)).unwrap();
        assert_eq!(after, at(2026, 1, 13, 9, 0));
    }

    #[test]
    fn macros_work() {
        let s = CronSchedule::parse("@hourly").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 5, 10, 7)),
            Some(at(2026, 1, 5, 11, 0))
        );
    }

    #[test]
    fn errors_speak_of_the_users_own_field_and_range() {
        let reason = |e: &str| CronSchedule::parse(e).unwrap_err().reason;
        assert_eq!(reason("61 * * * *"), "minute 61 is out of range (0-59)");
        assert_eq!(reason("0 24 * * *"), "hour 24 is out of range (0-23)");
        assert_eq!(reason("0 0 0 * *"), "day-of-month 0 is out of range (1-31)");
        assert_eq!(reason("0 0 * 13 *"), "month 13 is out of range (1-12)");
        assert_eq!(reason("0 0 * * 8"), "weekday 8 is out of range (0-7)");
        assert_eq!(reason("60 0 * * * *"), "second 60 is out of range (0-59)");
        assert_eq!(reason("*/0 * * * *"), "the minute step must be at least 1");
        assert_eq!(reason("5-1 * * * *"), "minute range 5-1 runs backwards");
        assert_eq!(
            reason("0 0 * foo *"),
            "\"foo\" is not a month (a number 1-12, or jan…dec)"
        );
        let e = CronSchedule::parse("61 * * * *").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid cron expression \"61 * * * *\": minute 61 is out of range (0-59)"
        );
        assert!(!e.contains("0 61"), "no internal 6-field form: {e}");
        assert!(CronSchedule::parse("0-59/5 0,12 1-31 jan-dec mon-fri").is_ok());
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for expr in [
            "*/15 * * *",
            "61 * * * *",
            "0 9 * * 8",
            "banana",
            "@often",
            "",
        ] {
            let e = CronSchedule::parse(expr).unwrap_err();
            assert!(!e.reason.is_empty(), "{expr}");
        }
    }
}
