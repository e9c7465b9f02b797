//! The parsed shape of a query. Storage backends compile this tree, never the
//! text, so it is the contract between the parser and every backend; it also
//! defines the normal form that [`parse`](super::parse) produces and
//! `Display` prints.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use crate::priority::Priority;
use crate::status::Status;
use crate::tags;

/// Longest relative date offset accepted (`36525d`, about 100 years), in
/// minutes either way from now.
pub const MAX_RELATIVE_MINUTES: i64 = 36_525 * 24 * 60;

/// A boolean combination of terms.
///
/// `And(vec![])` is the empty query and matches everything.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

/// One condition on a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A full-text word: lower-case, non-empty, no whitespace, no `"`.
    Word(String),
    /// A quoted phrase: at least two words, each like a [`Term::Word`].
    Phrase(Vec<String>),
    Status(Status),
    Priority(Cmp, Priority),
    /// A normalised tag name (see [`crate::tags::normalise`]).
    Tag(String),
    Due(Cmp, DateValue),
    DueNone,
    Overdue,
    Created(Cmp, DateValue),
    Updated(Cmp, DateValue),
}

/// How a field is compared with its value; `:` is [`Cmp::Eq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// The operator as written in a query: `:`, `<`, `<=`, `>`, `>=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => ":",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A date as written in a query; turned into instants by
/// [`resolve`](super::resolve) once "now" and the user's zone are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateValue {
    /// A whole calendar day in the user's zone.
    Day(NaiveDate),
    /// An exact instant (RFC 3339 with offset).
    Instant(DateTime<FixedOffset>),
    Today,
    Tomorrow,
    Yesterday,
    /// Now plus (or minus) this many minutes.
    Relative {
        minutes: i64,
    },
}

impl Expr {
    /// The empty query, which matches every task.
    pub const fn everything() -> Self {
        Expr::And(Vec::new())
    }

    /// The same query with the tag `from` named `to`, as after a rename.
    pub fn renaming_tag(self, from: &str, to: &str) -> Expr {
        let each = |v: Vec<Expr>| v.into_iter().map(|e| e.renaming_tag(from, to)).collect();
        match self {
            Expr::And(v) => Expr::And(each(v)),
            Expr::Or(v) => Expr::Or(each(v)),
            Expr::Not(e) => Expr::Not(Box::new(e.renaming_tag(from, to))),
            Expr::Term(Term::Tag(t)) if t == from => Expr::Term(Term::Tag(to.to_owned())),
            term => term,
        }
    }

    /// Whether this is the empty query (matches every task).
    pub fn matches_everything(&self) -> bool {
        matches!(self, Expr::And(v) if v.is_empty())
    }

    /// The last [`Term::Word`] in left-to-right order, negated or not. The
    /// list endpoint prefix-matches it so results follow the user's typing.
    pub fn last_word(&self) -> Option<&str> {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().rev().find_map(Expr::last_word),
            Expr::Not(e) => e.last_word(),
            Expr::Term(Term::Word(w)) => Some(w),
            Expr::Term(_) => None,
        }
    }

    /// How many terms (leaves) the expression has.
    pub fn term_count(&self) -> usize {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().map(Expr::term_count).sum(),
            Expr::Not(e) => e.term_count(),
            Expr::Term(_) => 1,
        }
    }

    /// AND of `children` in normal form: nested ANDs are flattened and a
    /// single child stands for itself.
    pub fn and(children: Vec<Expr>) -> Expr {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Expr::And(v) => out.extend(v),
                c => out.push(c),
            }
        }
        if out.len() == 1 {
            out.pop().unwrap_or_else(Expr::everything)
        } else {
            Expr::And(out)
        }
    }

    /// OR of `children` in normal form: nested ORs are flattened, a single
    /// child stands for itself, and an OR with a match-everything branch
    /// matches everything. An empty list gives an empty `Or`, which matches
    /// nothing and has no textual form.
    pub fn or(children: Vec<Expr>) -> Expr {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Expr::Or(v) => out.extend(v),
                c if c.matches_everything() => return Expr::everything(),
                c => out.push(c),
            }
        }
        if out.len() == 1 {
            out.pop().unwrap_or_else(Expr::everything)
        } else {
            Expr::Or(out)
        }
    }

    /// The negation of `self`; a double negation cancels out.
    pub fn negate(self) -> Expr {
        match self {
            Expr::Not(inner) => *inner,
            e => Expr::Not(Box::new(e)),
        }
    }

    /// Rebuild the tree bottom-up with [`Expr::and`], [`Expr::or`] and
    /// [`Expr::negate`], giving the normal form for any tree built by hand
    /// (terms are not changed).
    pub fn normalised(self) -> Expr {
        match self {
            Expr::And(v) => Expr::and(v.into_iter().map(Expr::normalised).collect()),
            Expr::Or(v) => Expr::or(v.into_iter().map(Expr::normalised).collect()),
            Expr::Not(e) => e.normalised().negate(),
            t @ Expr::Term(_) => t,
        }
    }

    /// Whether the expression is in the normal form that `parse` produces
    /// and `Display` round-trips (see `docs/query-language.md`).
    pub fn is_normalised(&self) -> bool {
        self.matches_everything() || self.is_normal_node()
    }

    fn is_normal_node(&self) -> bool {
        match self {
            Expr::And(v) => {
                v.len() >= 2
                    && v.iter()
                        .all(|c| !matches!(c, Expr::And(_)) && c.is_normal_node())
            }
            Expr::Or(v) => {
                v.len() >= 2
                    && v.iter()
                        .all(|c| !matches!(c, Expr::Or(_)) && c.is_normal_node())
            }
            Expr::Not(e) => !matches!(**e, Expr::Not(_)) && e.is_normal_node(),
            Expr::Term(t) => t.is_normalised(),
        }
    }
}

impl Term {
    /// Whether the term's values are in normal form (see [`Expr::is_normalised`]).
    pub fn is_normalised(&self) -> bool {
        match self {
            Term::Word(w) => is_normal_word(w),
            Term::Phrase(ws) => ws.len() >= 2 && ws.iter().all(|w| is_normal_word(w)),
            Term::Tag(t) => tags::normalise("tag", t).is_ok_and(|n| n == *t),
            Term::Due(_, v) | Term::Created(_, v) | Term::Updated(_, v) => v.is_normalised(),
            Term::Status(_) | Term::Priority(..) | Term::DueNone | Term::Overdue => true,
        }
    }
}

impl DateValue {
    /// Whether the value can be written in a query: four-digit years, whole
    /// minute offsets, relative offsets within [`MAX_RELATIVE_MINUTES`].
    pub fn is_normalised(&self) -> bool {
        match self {
            DateValue::Day(d) => (0..=9999).contains(&d.year()),
            DateValue::Instant(t) => {
                (0..=9999).contains(&t.year()) && t.offset().local_minus_utc() % 60 == 0
            }
            DateValue::Relative { minutes } => minutes.abs() <= MAX_RELATIVE_MINUTES,
            DateValue::Today | DateValue::Tomorrow | DateValue::Yesterday => true,
        }
    }
}

/// Lower-case (as `str::to_lowercase` leaves it), non-empty, and free of
/// whitespace and `"`.
pub(crate) fn is_normal_word(w: &str) -> bool {
    !w.is_empty() && !w.chars().any(|c| c.is_whitespace() || c == '"') && w.to_lowercase() == w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Expr {
        Expr::Term(Term::Word(s.into()))
    }

    #[test]
    fn constructors_normalise() {
        assert_eq!(Expr::and(vec![w("a")]), w("a"));
        assert_eq!(
            Expr::and(vec![w("a"), Expr::And(vec![w("b"), w("c")])]),
            Expr::And(vec![w("a"), w("b"), w("c")])
        );
        assert_eq!(
            Expr::or(vec![Expr::Or(vec![w("a"), w("b")]), w("c")]),
            Expr::Or(vec![w("a"), w("b"), w("c")])
        );
        assert_eq!(
            Expr::or(vec![w("a"), Expr::everything()]),
            Expr::everything()
        );
        assert_eq!(w("a").negate().negate(), w("a"));
        let messy = Expr::Not(Box::new(Expr::Not(Box::new(Expr::And(vec![
            Expr::And(vec![w("a")]),
            Expr::Or(vec![w("b")]),
        ])))));
        let clean = messy.clone().normalised();
        assert!(!messy.is_normalised());
        assert!(clean.is_normalised());
        assert_eq!(clean, Expr::And(vec![w("a"), w("b")]));
    }

    #[test]
    fn last_word_and_counts() {
        let e = Expr::And(vec![
            w("first"),
            Expr::Or(vec![w("second"), Expr::Term(Term::Overdue)]),
            Expr::Term(Term::Tag("x".into())),
        ]);
        assert_eq!(e.last_word(), Some("second"));
        assert_eq!(e.term_count(), 4);
        assert_eq!(Expr::Term(Term::DueNone).last_word(), None);
        assert!(Expr::everything().matches_everything());
        assert!(Expr::everything().is_normalised());
    }

    #[test]
    fn normal_terms() {
        assert!(Term::Word("ok".into()).is_normalised());
        assert!(!Term::Word("Up".into()).is_normalised());
        assert!(!Term::Word("".into()).is_normalised());
        assert!(!Term::Word("a b".into()).is_normalised());
        assert!(!Term::Phrase(vec!["one".into()]).is_normalised());
        assert!(!Term::Tag("Work".into()).is_normalised());
        assert!(Term::Tag("home/garden".into()).is_normalised());
        let far = DateValue::Relative {
            minutes: MAX_RELATIVE_MINUTES + 1,
        };
        assert!(!far.is_normalised());
        assert_eq!(Cmp::Ge.as_str(), ">=");
    }
}
