//! `${NAME}` in string values: the environment variable NAME, so that secrets need not sit
//! in the file (under systemd: `password_file = "${CREDENTIALS_DIRECTORY}/feed-password"`).
//!
//! Done on the parsed document, before serde sees it, so every string value of every table
//! gets it and spans still point into the file: an unset variable is reported at its own
//! `file:line:col`. `$${` writes a literal `${`.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostics::{Diagnostic, Locator};

/// What interpolation put where: for each string value (by the start of its span) the
/// values it substituted. A value that reached a source's URL this way is treated as secret.
#[derive(Debug, Default)]
pub(super) struct Substituted {
    by_span: HashMap<usize, Vec<String>>,
}

impl Substituted {
    /// The values substituted into the string value at this span.
    pub(super) fn at(&self, span: &Range<usize>) -> &[String] {
        self.by_span
            .get(&span.start)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Replaces `${NAME}` in every string value of `table` with `lookup(NAME)`; a variable that
/// is not set (or a malformed `${`) is a problem located where it is written.
pub(super) fn interpolate(
    table: &mut DeTable<'_>,
    text: &str,
    loc: &Locator,
    lookup: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Diagnostic>,
) -> Substituted {
    let mut out = Substituted::default();
    for (_, value) in table.iter_mut() {
        walk(value, text, loc, lookup, problems, &mut out);
    }
    out
}

fn walk(
    value: &mut Spanned<DeValue<'_>>,
    text: &str,
    loc: &Locator,
    lookup: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Diagnostic>,
    out: &mut Substituted,
) {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains("${") => match expand(s, lookup) {
            Ok((expanded, values)) => {
                *s = expanded.into();
                if !values.is_empty() {
                    out.by_span.insert(span.start, values);
                }
            }
            Err(e) => {
                // Point at the `${` itself when the literal shows it as written.
                let written = text.get(span.clone()).unwrap_or_default();
                let at = written
                    .find(&e.needle)
                    .map_or(span.start, |i| span.start + i);
                problems.push(loc.at(Some(at..at), e.message));
            }
        },
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                walk(item, text, loc, lookup, problems, out);
            }
        }
        DeValue::Table(t) => {
            for (_, v) in t.iter_mut() {
                walk(v, text, loc, lookup, problems, out);
            }
        }
        _ => {}
    }
}

/// Why a string could not be expanded, and the text to point at.
#[derive(Debug, PartialEq)]
struct ExpandError {
    needle: String,
    message: String,
}

/// Expands one string: the result and the values substituted, in order.
fn expand(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), ExpandError> {
    let mut out = String::with_capacity(s.len());
    let mut values = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            // `$${` is a literal `${`.
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(ExpandError {
                needle: "${".into(),
                message: "unterminated `${` (write `$${` for a literal `${`)".into(),
            });
        };
        let name = &after[..end];
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ExpandError {
                needle: format!("${{{name}}}"),
                message: format!(
                    "`${{{name}}}` is not a variable name (letters, digits and _; write `$${{` for a literal `${{`)"
                ),
            });
        }
        match lookup(name) {
            Some(v) => {
                out.push_str(&v);
                values.push(v);
            }
            None => {
                return Err(ExpandError {
                    needle: format!("${{{name}}}"),
                    message: format!(
                        "environment variable {name} is not set (used as `${{{name}}}`)"
                    ),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PW" => Some("hunter2".into()),
            "CREDENTIALS_DIRECTORY" => Some("/run/credentials/wirefeed.service".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn variables_expand_and_are_recorded() {
        assert_eq!(
            expand("${CREDENTIALS_DIRECTORY}/pw and ${PW}!", &env).unwrap(),
            (
                "/run/credentials/wirefeed.service/pw and hunter2!".to_string(),
                vec![
                    "/run/credentials/wirefeed.service".to_string(),
                    "hunter2".to_string()
                ]
            )
        );
        assert_eq!(expand("${EMPTY}x", &env).unwrap().0, "x");
        assert_eq!(
            expand("no vars, $5 and {x}", &env).unwrap().0,
            "no vars, $5 and {x}"
        );
    }

    #[test]
    fn a_doubled_dollar_is_a_literal() {
        assert_eq!(
            expand("$${PW} is ${PW}", &env).unwrap().0,
            "${PW} is hunter2"
        );
    }

    #[test]
    fn unset_and_malformed_variables_are_errors_naming_them() {
        let e = expand("Bearer ${NOPE}", &env).unwrap_err();
        assert_eq!(e.needle, "${NOPE}");
        assert!(e.message.contains("environment variable NOPE is not set"));
        assert!(
            expand("${unclosed", &env)
                .unwrap_err()
                .message
                .contains("unterminated")
        );
        assert!(
            expand("${a b}", &env)
                .unwrap_err()
                .message
                .contains("not a variable name")
        );
    }

    #[test]
    fn problems_point_at_the_variable_in_the_file() {
        let text = "[server]\ntoken = \"abc-${MISSING}\"\nlisten = \"${PW}\"\n";
        let mut doc = DeTable::parse(text).unwrap();
        let loc = Locator::new(std::path::Path::new("/x.toml"), text);
        let mut problems = Vec::new();
        interpolate(doc.get_mut(), text, &loc, &env, &mut problems);
        let p: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            p,
            vec!["/x.toml:2:14: environment variable MISSING is not set (used as `${MISSING}`)"]
        );
    }
}
