//! Prints an [`Expr`] back as canonical query text, so a normalised query can
//! be shown to the user, stored (saved searches) and parsed again to the same
//! tree: `parse(&e.to_string()) == Ok(e)` for every normalised `e`.
//!
//! Canonical form: terms joined by single spaces (implicit AND), ` OR `
//! between alternatives, parentheses only around an OR inside an AND and
//! around a negated group, `-` for negation, lower-case field names, `:` for
//! equality, and a word quoted only when it would otherwise read as syntax.

use std::fmt;

use chrono::SecondsFormat;

use super::ast::{Cmp, DateValue, Expr, Term};
use super::lexer::{field_prefix_len, is_delimiter};

/// Whether a word must be quoted to be read back as a plain word: it would
/// otherwise be negation, a keyword, a filter, or split at a delimiter.
pub(crate) fn needs_quotes(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    chars.is_empty()
        || chars.iter().any(|c| c.is_whitespace() || is_delimiter(*c))
        || chars[0] == '-'
        || matches!(word, "AND" | "OR" | "NOT")
        || word.eq_ignore_ascii_case("overdue")
        || field_prefix_len(&chars).is_some()
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for DateValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateValue::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateValue::Instant(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            DateValue::Today => f.write_str("today"),
            DateValue::Tomorrow => f.write_str("tomorrow"),
            DateValue::Yesterday => f.write_str("yesterday"),
            DateValue::Relative { minutes } => {
                let sign = if *minutes < 0 { "-" } else { "" };
                let m = minutes.unsigned_abs();
                let (n, unit) = [(7 * 24 * 60, 'w'), (24 * 60, 'd'), (60, 'h')]
                    .into_iter()
                    .find(|(size, _)| m != 0 && m.is_multiple_of(*size))
                    .map_or((m, 'm'), |(size, unit)| (m / size, unit));
                write!(f, "{sign}{n}{unit}")
            }
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Word(w) if needs_quotes(w) => write!(f, "\"{w}\""),
            Term::Word(w) => f.write_str(w),
            Term::Phrase(ws) => write!(f, "\"{}\"", ws.join(" ")),
            Term::Status(s) => write!(f, "status:{s}"),
            Term::Priority(c, p) => write!(f, "priority{c}{p}"),
            Term::Tag(t) => write!(f, "tag:{t}"),
            Term::Due(c, v) => write!(f, "due{c}{v}"),
            Term::DueNone => f.write_str("due:none"),
            Term::Overdue => f.write_str("overdue"),
            Term::Created(c, v) => write!(f, "created{c}{v}"),
            Term::Updated(c, v) => write!(f, "updated{c}{v}"),
        }
    }
}

/// Write `children` separated by `sep`, parenthesising those for which
/// `group` says so.
fn join(
    f: &mut fmt::Formatter<'_>,
    children: &[Expr],
    sep: &str,
    group: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    for (i, c) in children.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if group(c) {
            write!(f, "({c})")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(v) => join(f, v, " ", |c| matches!(c, Expr::And(_) | Expr::Or(_))),
            Expr::Or(v) => join(f, v, " OR ", |c| matches!(c, Expr::Or(_))),
            Expr::Not(e) => match **e {
                Expr::And(_) | Expr::Or(_) => write!(f, "-({e})"),
                _ => write!(f, "-{e}"),
            },
            Expr::Term(t) => write!(f, "{t}"),
        }
    }
}
