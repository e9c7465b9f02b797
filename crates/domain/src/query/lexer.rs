//! Splits query text into tokens: parentheses, negation, the `AND`/`OR`/`NOT`
//! keywords and finished terms (field values are validated here, where their
//! position is known). Works on chars, so positions are char offsets and no
//! input can make it slice inside a UTF-8 sequence.

use chrono::{DateTime, NaiveDate};

use super::ast::{Cmp, DateValue, MAX_RELATIVE_MINUTES, Term};
use super::parser::QueryError;
use crate::priority::Priority;
use crate::status::Status;
use crate::tags;

/// Most terms one query may hold.
pub const MAX_TERMS: usize = 64;

/// The filter names, in the order error messages list them.
pub const FILTERS: [&str; 7] = [
    "status", "priority", "tag", "due", "created", "updated", "overdue",
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    /// A `-` directly in front of a term or group.
    Minus,
    Not,
    And,
    Or,
    Term(Term),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Char offset of the token's first char.
    pub pos: usize,
}

/// Chars that end a bare word (besides whitespace).
pub(crate) fn is_delimiter(c: char) -> bool {
    matches!(c, '(' | ')' | '"')
}

fn is_op_char(c: char) -> bool {
    matches!(c, ':' | '<' | '>' | '=')
}

/// If `chars` starts with an ASCII identifier directly followed by an
/// operator char (`:`, `<`, `>`, `=`), the identifier's length. Such a token
/// is always read as a filter, so a word of that shape must be quoted.
pub(crate) fn field_prefix_len(chars: &[char]) -> Option<usize> {
    let first = chars.first()?;
    if !(first.is_ascii_alphabetic() || *first == '_') {
        return None;
    }
    let len = chars
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .count();
    chars.get(len).filter(|c| is_op_char(**c)).map(|_| len)
}

pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
    terms: usize,
}

fn err(position: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        position,
        message: message.into(),
    }
}

impl Lexer {
    pub fn new(input: &str) -> Self {
        Self {
            chars: input.chars().collect(),
            pos: 0,
            terms: 0,
        }
    }

    /// Length of the input in chars (the position reported for "end").
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    fn peek_char(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The next token, or `None` at the end of the input.
    pub fn next_token(&mut self) -> Result<Option<Token>, QueryError> {
        while self.peek_char().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(None);
        };
        let tok = match c {
            '(' => {
                self.pos += 1;
                Tok::LParen
            }
            ')' => {
                self.pos += 1;
                Tok::RParen
            }
            '-' => {
                self.pos += 1;
                match self.peek_char() {
                    Some(n) if !n.is_whitespace() => Tok::Minus,
                    _ => return Err(err(start, "nothing to negate after '-'")),
                }
            }
            '"' => {
                let words = self.quoted()?;
                let mut words = words.into_iter().map(|w| w.to_lowercase());
                let term = match (words.next(), words.next()) {
                    (Some(w), None) => Term::Word(w),
                    (Some(a), Some(b)) => Term::Phrase([a, b].into_iter().chain(words).collect()),
                    (None, _) => {
                        return Err(err(
                            start,
                            "empty quotes: put a word or phrase between them",
                        ));
                    }
                };
                self.term(term, start)?
            }
            _ => {
                if let Some(len) = field_prefix_len(&self.chars[start..]) {
                    let term = self.field(len)?;
                    self.term(term, start)?
                } else {
                    let word = self.bare();
                    match word.as_str() {
                        "AND" => Tok::And,
                        "OR" => Tok::Or,
                        "NOT" => Tok::Not,
                        w if w.eq_ignore_ascii_case("overdue") => {
                            self.term(Term::Overdue, start)?
                        }
                        w => self.term(Term::Word(w.to_lowercase()), start)?,
                    }
                }
            }
        };
        Ok(Some(Token { tok, pos: start }))
    }

    /// Count a term against [`MAX_TERMS`].
    fn term(&mut self, term: Term, start: usize) -> Result<Tok, QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(err(
                start,
                format!("too many terms: a query has at most {MAX_TERMS}"),
            ));
        }
        Ok(Tok::Term(term))
    }

    /// A bare run of chars up to whitespace, a parenthesis or a quote.
    fn bare(&mut self) -> String {
        let start = self.pos;
        while self
            .peek_char()
            .is_some_and(|c| !c.is_whitespace() && !is_delimiter(c))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// The whitespace-separated words between a pair of quotes; the cursor is
    /// on the opening quote.
    fn quoted(&mut self) -> Result<Vec<String>, QueryError> {
        let open = self.pos;
        let body_start = open + 1;
        let Some(len) = self.chars[body_start..].iter().position(|c| *c == '"') else {
            return Err(err(open, "unterminated quote: add the closing '\"'"));
        };
        let body: String = self.chars[body_start..body_start + len].iter().collect();
        self.pos = body_start + len + 1;
        Ok(body.split_whitespace().map(str::to_owned).collect())
    }

    /// A filter term; the cursor is on its name, which is `name_len` chars
    /// long and followed by an operator char.
    fn field(&mut self, name_len: usize) -> Result<Term, QueryError> {
        let name_pos = self.pos;
        let name: String = self.chars[name_pos..name_pos + name_len].iter().collect();
        self.pos += name_len;
        let op_pos = self.pos;
        let cmp = match self.peek_char() {
            Some(':') => {
                self.pos += 1;
                Cmp::Eq
            }
            Some('<' | '>') => {
                let less = self.peek_char() == Some('<');
                self.pos += 1;
                let or_equal = self.peek_char() == Some('=');
                if or_equal {
                    self.pos += 1;
                }
                match (less, or_equal) {
                    (true, false) => Cmp::Lt,
                    (true, true) => Cmp::Le,
                    (false, false) => Cmp::Gt,
                    (false, true) => Cmp::Ge,
                }
            }
            _ => {
                // '=' (field_prefix_len only stops before an operator char).
                let lower = name.to_ascii_lowercase();
                if FILTERS.contains(&lower.as_str()) && lower != "overdue" {
                    return Err(err(
                        op_pos,
                        format!(
                            "'=' is not an operator; use ':' as in {lower}:{}",
                            example(&lower)
                        ),
                    ));
                }
                Cmp::Eq
            }
        };
        let field = name.to_ascii_lowercase();
        if !FILTERS.contains(&field.as_str()) {
            return Err(err(
                name_pos,
                format!(
                    "unknown filter '{name}'; known filters: {}",
                    FILTERS.join(", ")
                ),
            ));
        }
        if field == "overdue" {
            return Err(err(
                op_pos,
                "overdue takes no value; write just overdue (or -overdue)",
            ));
        }
        if cmp != Cmp::Eq && matches!(field.as_str(), "status" | "tag") {
            return Err(err(
                op_pos,
                format!(
                    "{field} cannot be compared with '{}'; write {field}:{}",
                    cmp.as_str(),
                    example(&field)
                ),
            ));
        }
        let value_pos = self.pos;
        let value = if self.peek_char() == Some('"') {
            self.quoted()?.join(" ")
        } else {
            self.bare()
        };
        if value.is_empty() {
            return Err(err(
                value_pos,
                format!(
                    "{field} needs a value, as in {field}{}{}",
                    cmp.as_str(),
                    example(&field)
                ),
            ));
        }
        let bad = |message: String| err(value_pos, message);
        match field.as_str() {
            "status" => value
                .parse::<Status>()
                .map(Term::Status)
                .map_err(|_| bad("status must be one of open, done".into())),
            "priority" => value
                .parse::<Priority>()
                .map(|p| Term::Priority(cmp, p))
                .map_err(|_| bad("priority must be one of none, low, medium, high, urgent".into())),
            "tag" => tags::normalise("tag", &value)
                .map(Term::Tag)
                .map_err(|e| bad(format!("bad tag: {}", e.message))),
            _ => {
                if value.eq_ignore_ascii_case("none") {
                    return if field == "due" && cmp == Cmp::Eq {
                        Ok(Term::DueNone)
                    } else if field == "due" {
                        Err(bad("none only works with ':', as in due:none".into()))
                    } else {
                        Err(bad(format!(
                            "{field} is always set; none only works as due:none"
                        )))
                    };
                }
                let date = parse_date(&value).map_err(|why| bad(format!("{field} {why}")))?;
                Ok(match field.as_str() {
                    "due" => Term::Due(cmp, date),
                    "created" => Term::Created(cmp, date),
                    _ => Term::Updated(cmp, date),
                })
            }
        }
    }
}

/// A value to show in "as in field:value" hints.
fn example(field: &str) -> &'static str {
    match field {
        "status" => "open",
        "priority" => "high",
        "tag" => "work",
        _ => "today",
    }
}

/// Parse a date value; the error completes a sentence starting with the
/// field name.
pub(crate) fn parse_date(s: &str) -> Result<DateValue, String> {
    match s.to_ascii_lowercase().as_str() {
        "today" => return Ok(DateValue::Today),
        "tomorrow" => return Ok(DateValue::Tomorrow),
        "yesterday" => return Ok(DateValue::Yesterday),
        _ => {}
    }
    if let Some(rel) = parse_relative(s) {
        return rel.map(|minutes| DateValue::Relative { minutes });
    }
    if let Some(day) = parse_day(s) {
        return day.map(DateValue::Day);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(DateValue::Instant(t));
    }
    Err(format!(
        "must be a date (YYYY-MM-DD), a date-time with offset (2026-12-01T09:00:00+01:00), \
         today, tomorrow, yesterday or an offset from now such as 7d, -2w, 12h, 30m; got '{s}'"
    ))
}

/// `[+-]digits(m|h|d|w)`: `None` if `s` has another shape.
fn parse_relative(s: &str) -> Option<Result<i64, String>> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let per_unit: i64 = match rest.as_bytes().last()? {
        b'm' => 1,
        b'h' => 60,
        b'd' => 24 * 60,
        b'w' => 7 * 24 * 60,
        _ => return None,
    };
    // The unit is one ASCII byte, so this slice ends on a char boundary.
    let digits = &rest[..rest.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let too_far = || Err("offset is too far: at most 36525 days (about 100 years)".to_string());
    let Ok(n) = digits.parse::<i64>() else {
        return Some(too_far());
    };
    match n.checked_mul(per_unit) {
        Some(m) if m <= MAX_RELATIVE_MINUTES => Some(Ok(if negative { -m } else { m })),
        _ => Some(too_far()),
    }
}

/// Strict `YYYY-MM-DD`: `None` if `s` has another shape.
fn parse_day(s: &str) -> Option<Result<NaiveDate, String>> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let year = i32::try_from(num(0..4)).unwrap_or(0);
    Some(
        NaiveDate::from_ymd_opt(year, num(5..7), num(8..10))
            .ok_or_else(|| format!("has no such day: '{s}'")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let mut l = Lexer::new(s);
        let mut out = vec![];
        while let Some(t) = l.next_token().unwrap() {
            out.push(t.tok);
        }
        out
    }

    #[test]
    fn splits_tokens_with_char_positions() {
        let mut l = Lexer::new("é (x) -\"a b\" OR");
        let mut got = vec![];
        while let Some(t) = l.next_token().unwrap() {
            got.push(t.pos);
        }
        assert_eq!(got, vec![0, 2, 3, 4, 6, 7, 13]);
        assert_eq!(
            toks("f(x)"),
            vec![
                Tok::Term(Term::Word("f".into())),
                Tok::LParen,
                Tok::Term(Term::Word("x".into())),
                Tok::RParen
            ]
        );
    }

    #[test]
    fn field_prefix() {
        let p = |s: &str| field_prefix_len(&s.chars().collect::<Vec<_>>());
        assert_eq!(p("due<3"), Some(3));
        assert_eq!(p("a_1:x"), Some(3));
        assert_eq!(p("12:30"), None);
        assert_eq!(p("é:x"), None);
        assert_eq!(p("abc"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn relative_offsets() {
        assert_eq!(parse_relative("7d"), Some(Ok(7 * 1440)));
        assert_eq!(parse_relative("-2w"), Some(Ok(-2 * 10080)));
        assert_eq!(parse_relative("+12h"), Some(Ok(720)));
        assert_eq!(parse_relative("30m"), Some(Ok(30)));
        assert_eq!(parse_relative("0m"), Some(Ok(0)));
        assert_eq!(parse_relative("d"), None);
        assert_eq!(parse_relative("-"), None);
        assert_eq!(parse_relative("7y"), None);
        assert_eq!(parse_relative("7D"), None);
        assert_eq!(parse_relative("1é"), None);
        assert!(matches!(parse_relative("36526d"), Some(Err(_))));
        assert!(matches!(
            parse_relative("99999999999999999999999m"),
            Some(Err(_))
        ));
        assert_eq!(parse_relative("36525d"), Some(Ok(MAX_RELATIVE_MINUTES)));
    }

    #[test]
    fn days() {
        assert_eq!(
            parse_day("2026-02-28"),
            Some(Ok(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()))
        );
        assert!(matches!(parse_day("2026-02-30"), Some(Err(_))));
        assert_eq!(parse_day("2026-2-28"), None);
        assert_eq!(parse_day("2026-02-28T"), None);
        assert_eq!(parse_day("20é6-02-2"), None);
    }
}
