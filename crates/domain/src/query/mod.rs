//! The task query language users type into the search box and send as
//! `GET /api/v1/tasks?q=…`: free text plus filters (`status:open`,
//! `priority>=high`, `tag:work`, `due<=7d`, `overdue`, …) combined with
//! implicit AND, `OR`, `-`/`NOT` and parentheses. Parsing, printing and date
//! resolution live here so that every storage backend reads a query the same
//! way. The reference is `docs/query-language.md`.

mod ast;
mod lexer;
mod parser;
mod print;
mod resolve;
mod suggest;

pub use ast::*;
pub use lexer::{FILTERS, MAX_TERMS};
pub use parser::{MAX_DEPTH, MAX_QUERY_CHARS, QueryError};
pub use resolve::{Bound, Context, resolve};
pub use suggest::{MAX_SUGGESTIONS, Suggestion, Suggestions, suggest};

/// Parse query text into an [`Expr`] in normal form. An empty or
/// whitespace-only query is `Expr::And(vec![])`, which matches everything.
/// Never panics, whatever the input.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    parser::parse(input)
}

impl std::str::FromStr for Expr {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::priority::Priority;
    use crate::status::Status;
    use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn w(s: &str) -> Expr {
        Expr::Term(Term::Word(s.into()))
    }
    fn t(term: Term) -> Expr {
        Expr::Term(term)
    }
    fn not(e: Expr) -> Expr {
        Expr::Not(Box::new(e))
    }
    fn ok(s: &str) -> Expr {
        match parse(s) {
            Ok(e) => e,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }
    /// Assert `s` fails at `position` with a message containing `needle`.
    fn fails(s: &str, position: usize, needle: &str) {
        match parse(s) {
            Ok(e) => panic!("{s:?} should fail, got {e:?}"),
            Err(e) => {
                assert_eq!(e.position, position, "{s:?}: {e}");
                assert!(e.message.contains(needle), "{s:?}: {e}");
            }
        }
    }
    fn day(s: &str) -> DateValue {
        DateValue::Day(s.parse::<NaiveDate>().unwrap())
    }

    #[test]
    fn empty_matches_everything() {
        assert_eq!(ok(""), Expr::And(vec![]));
        assert_eq!(ok(" \t\n "), Expr::And(vec![]));
        assert_eq!(ok("").to_string(), "");
    }

    #[test]
    fn words_and_phrases() {
        assert_eq!(ok("Milk"), w("milk"));
        assert_eq!(
            ok("buy  MILK\ttoday"),
            Expr::And(vec![w("buy"), w("milk"), w("today")])
        );
        assert_eq!(
            ok("\"Deep  Work\" x"),
            Expr::And(vec![
                t(Term::Phrase(vec!["deep".into(), "work".into()])),
                w("x")
            ])
        );
        // A quoted single word is a word, which escapes syntax.
        assert_eq!(ok("\"OR\""), w("or"));
        assert_eq!(ok("\"-x\""), w("-x"));
        assert_eq!(ok("\"a:b\""), w("a:b"));
        assert_eq!(ok("\" overdue \""), w("overdue"));
        // Lower-case keywords are words; digits before ':' are not a filter.
        assert_eq!(
            ok("or and not"),
            Expr::And(vec![w("or"), w("and"), w("not")])
        );
        assert_eq!(ok("12:30 e-mail"), Expr::And(vec![w("12:30"), w("e-mail")]));
        assert_eq!(ok("f(x)"), Expr::And(vec![w("f"), w("x")]));
        assert_eq!(ok("ÉTÉ"), w("été"));
    }

    #[test]
    fn status_priority_tag() {
        assert_eq!(ok("status:open"), t(Term::Status(Status::Open)));
        assert_eq!(ok("STATUS:Done"), t(Term::Status(Status::Done)));
        assert_eq!(
            ok("priority:high"),
            t(Term::Priority(Cmp::Eq, Priority::High))
        );
        assert_eq!(
            ok("priority>=medium"),
            t(Term::Priority(Cmp::Ge, Priority::Medium))
        );
        assert_eq!(
            ok("Priority>low"),
            t(Term::Priority(Cmp::Gt, Priority::Low))
        );
        assert_eq!(
            ok("priority<urgent"),
            t(Term::Priority(Cmp::Lt, Priority::Urgent))
        );
        assert_eq!(
            ok("priority<=NONE"),
            t(Term::Priority(Cmp::Le, Priority::None))
        );
        assert_eq!(ok("tag:Work"), t(Term::Tag("work".into())));
        assert_eq!(
            ok("tag:\"home/garden\""),
            t(Term::Tag("home/garden".into()))
        );
        assert_eq!(
            ok("-(tag:a)"),
            not(t(Term::Tag("a".into()))),
            "a value ends at ')'"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            ok("due<2026-12-01"),
            t(Term::Due(Cmp::Lt, day("2026-12-01")))
        );
        assert_eq!(
            ok("due:2026-12-01"),
            t(Term::Due(Cmp::Eq, day("2026-12-01")))
        );
        assert_eq!(ok("due>=today"), t(Term::Due(Cmp::Ge, DateValue::Today)));
        assert_eq!(
            ok("due>Tomorrow"),
            t(Term::Due(Cmp::Gt, DateValue::Tomorrow))
        );
        assert_eq!(
            ok("due<=yesterday"),
            t(Term::Due(Cmp::Le, DateValue::Yesterday))
        );
        let rel = |minutes| DateValue::Relative { minutes };
        assert_eq!(ok("due<=7d"), t(Term::Due(Cmp::Le, rel(7 * 1440))));
        assert_eq!(ok("created>-7d"), t(Term::Created(Cmp::Gt, rel(-7 * 1440))));
        assert_eq!(ok("updated<+2w"), t(Term::Updated(Cmp::Lt, rel(2 * 10080))));
        assert_eq!(ok("updated>=12h"), t(Term::Updated(Cmp::Ge, rel(720))));
        assert_eq!(ok("created<30m"), t(Term::Created(Cmp::Lt, rel(30))));
        let at = FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .unwrap();
        assert_eq!(
            ok("due>2026-12-01T09:00:00+01:00"),
            t(Term::Due(Cmp::Gt, DateValue::Instant(at)))
        );
        assert_eq!(ok("due:none"), t(Term::DueNone));
        assert_eq!(ok("DUE:None"), t(Term::DueNone));
        assert_eq!(ok("overdue"), t(Term::Overdue));
        assert_eq!(ok("Overdue"), t(Term::Overdue));
        assert_eq!(ok("due:\"today\""), t(Term::Due(Cmp::Eq, DateValue::Today)));
    }

    #[test]
    fn negation() {
        assert_eq!(ok("-tag:home"), not(t(Term::Tag("home".into()))));
        assert_eq!(ok("-urgent"), not(w("urgent")));
        assert_eq!(ok("-(a OR b)"), not(Expr::Or(vec![w("a"), w("b")])));
        assert_eq!(ok("-(a b)"), not(Expr::And(vec![w("a"), w("b")])));
        assert_eq!(ok("NOT overdue"), not(t(Term::Overdue)));
        assert_eq!(ok("NOT(a)"), not(w("a")));
        assert_eq!(ok("--a"), w("a"), "double negation cancels");
        assert_eq!(ok("NOT -a"), w("a"));
        assert_eq!(ok("-(-a)"), w("a"));
        assert_eq!(ok("---a"), not(w("a")));
        assert_eq!(
            ok("-\"a b\""),
            not(t(Term::Phrase(vec!["a".into(), "b".into()])))
        );
        assert_eq!(ok("-7d"), not(w("7d")));
    }

    #[test]
    fn precedence_and_grouping() {
        assert_eq!(ok("a AND b"), Expr::And(vec![w("a"), w("b")]));
        assert_eq!(
            ok("a b OR c"),
            Expr::Or(vec![Expr::And(vec![w("a"), w("b")]), w("c")])
        );
        assert_eq!(
            ok("a (b OR c)"),
            Expr::And(vec![w("a"), Expr::Or(vec![w("b"), w("c")])])
        );
        assert_eq!(
            ok("a OR (b OR c) OR d"),
            Expr::Or(vec![w("a"), w("b"), w("c"), w("d")])
        );
        assert_eq!(
            ok("a (b c) AND (d)"),
            Expr::And(vec![w("a"), w("b"), w("c"), w("d")])
        );
        assert_eq!(ok("((a))"), w("a"));
        assert_eq!(
            ok("-a OR NOT b c"),
            Expr::Or(vec![not(w("a")), Expr::And(vec![not(w("b")), w("c")])])
        );
        assert_eq!(ok("\"a\"b"), Expr::And(vec![w("a"), w("b")]));
    }

    #[test]
    fn prints_canonical_text() {
        let cases = [
            ("A  AND b", "a b"),
            ("a b OR c", "a b OR c"),
            ("a (b OR c)", "a (b OR c)"),
            ("NOT (a OR b) -(c d)", "-(a OR b) -(c d)"),
            (
                "\"-x\" \"a:b\" \"overdue\" \"(\" \":x\"",
                "\"-x\" \"a:b\" \"overdue\" \"(\" :x",
            ),
            ("\"Deep   work\"", "\"deep work\""),
            (
                "STATUS:done Priority>=HIGH tag:\"Work\"",
                "status:done priority>=high tag:work",
            ),
            (
                "due<=10080m created>-1440m updated<90m",
                "due<=1w created>-1d updated<90m",
            ),
            ("due:+0m due>-0d", "due:0m due>0m"),
            ("due:none OVERDUE", "due:none overdue"),
            (
                "due:2026-01-05 due<2026-12-01T09:00:00+01:00",
                "due:2026-01-05 due<2026-12-01T09:00:00+01:00",
            ),
            (
                "due<2026-12-01t08:00:00.250+00:00",
                "due<2026-12-01T08:00:00.250Z",
            ),
            (
                "due<TODAY due>tomorrow due>=yesterday",
                "due<today due>tomorrow due>=yesterday",
            ),
        ];
        for (input, printed) in cases {
            let e = ok(input);
            assert_eq!(e.to_string(), printed, "{input:?}");
            assert_eq!(parse(printed), Ok(e), "{printed:?}");
        }
    }

    #[test]
    fn last_word_is_left_to_right() {
        assert_eq!(
            ok("tag:x milk (eg OR -bread) due:today").last_word(),
            Some("bread")
        );
        assert_eq!(ok("status:open").last_word(), None);
        assert_eq!(ok("").last_word(), None);
    }

    #[test]
    fn error_display_and_from_str() {
        let e = parse("foo:bar").unwrap_err();
        assert_eq!(
            e.to_string(),
            "at position 0: unknown filter 'foo'; known filters: status, priority, tag, due, \
             created, updated, overdue"
        );
        let _: &dyn std::error::Error = &e;
        assert_eq!("a b".parse::<Expr>(), parse("a b"));
    }

    #[test]
    fn filter_errors() {
        fails(
            "x Foo:bar",
            2,
            "unknown filter 'Foo'; known filters: status, priority",
        );
        fails("a<b", 0, "unknown filter 'a'");
        fails("http://x", 0, "unknown filter 'http'");
        fails("é foo:bar", 2, "unknown filter"); // positions count chars, not bytes
        fails("status:maybe", 7, "status must be one of open, done");
        fails("status<open", 6, "status cannot be compared with '<'");
        fails("tag>=x", 3, "tag cannot be compared with '>='");
        fails(
            "priority:huge",
            9,
            "priority must be one of none, low, medium, high, urgent",
        );
        fails("priority=high", 8, "'=' is not an operator; use ':'");
        fails("tag:a:b", 4, "bad tag: 'a:b' contains ':'");
        fails("tag: work", 4, "tag needs a value");
        fails("due:", 4, "due needs a value");
        fails("(status:)", 8, "status needs a value");
        fails("tag:\"\"", 4, "tag needs a value");
        fails("due:soon", 4, "due must be a date (YYYY-MM-DD)");
        fails("due:2026-02-30", 4, "due has no such day");
        fails("created>2026-12-01T09:00:00", 8, "created must be a date");
        fails("due<none", 4, "none only works with ':'");
        fails("created:none", 8, "created is always set");
        fails("due<=36526d", 5, "offset is too far");
        fails("updated>99999999999999999999w", 8, "offset is too far");
        fails("overdue:yes", 7, "overdue takes no value");
    }

    #[test]
    fn structure_errors() {
        fails("(a OR b", 0, "unclosed '('");
        fails("a (", 2, "unclosed '('");
        fails("a)", 1, "unmatched ')'");
        fails(") a", 0, "unmatched ')'");
        fails("a ()", 2, "empty parentheses");
        fails("a OR", 2, "OR needs a term on each side");
        fails("OR a", 0, "OR needs a term on each side");
        fails("a OR OR b", 2, "OR needs a term on each side");
        fails("(a OR) b", 3, "OR needs a term on each side");
        fails("a AND", 2, "AND needs a term on each side");
        fails("AND a", 0, "AND needs a term on each side");
        fails("a AND OR b", 2, "AND needs a term on each side");
        fails("a - b", 2, "nothing to negate after '-'");
        fails("a -", 2, "nothing to negate after '-'");
        fails("(a -)", 3, "nothing to negate after '-'");
        fails("-OR a", 0, "nothing to negate after '-'");
        fails("a NOT", 2, "nothing to negate after NOT");
        fails("\"abc", 0, "unterminated quote");
        fails("x tag:\"abc", 6, "unterminated quote");
        fails("a \"  \"", 2, "empty quotes");
    }

    #[test]
    fn limit_errors() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        fails(
            &long,
            MAX_QUERY_CHARS,
            "query is too long: at most 2000 characters",
        );
        let fine = "é".repeat(MAX_QUERY_CHARS);
        assert_eq!(ok(&fine), w(&fine), "the limit counts chars, not bytes");

        let terms = vec!["x"; MAX_TERMS].join(" ");
        assert_eq!(ok(&terms).term_count(), MAX_TERMS);
        fails(
            &format!("{terms} y"),
            2 * MAX_TERMS,
            "too many terms: a query has at most 64",
        );
        fails(&format!("{terms} overdue"), 2 * MAX_TERMS, "too many terms");

        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(ok(&deep(MAX_DEPTH)), w("a"));
        fails(
            &deep(MAX_DEPTH + 1),
            MAX_DEPTH,
            "nested too deeply: at most 16 levels",
        );
        // Long negation chains do not recurse.
        assert_eq!(ok(&format!("{}a", "-".repeat(1999))), not(w("a")));
    }

    // ---- property tests -------------------------------------------------

    /// Words that look like syntax, to check the printer quotes them.
    const TRICKY: &[&str] = &[
        "or",
        "OR",
        "and",
        "AND",
        "not",
        "NOT",
        "-x",
        "-",
        "--",
        "a:b",
        "(",
        ")",
        "x)",
        "(y",
        "overdue",
        "OVERDUE",
        "status:open",
        "due<3",
        "p=1",
        "_a:b",
        ":x",
        "12:30",
        "a-b",
        "é",
        "日本",
        "'",
        "\\",
        "tag",
        "7d",
        "-7d",
        "today",
    ];

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(TRICKY).prop_map(str::to_owned),
            "[a-z0-9:()<>=_'.\\-é]{1,6}",
        ]
        .prop_map(|w| w.to_lowercase())
    }

    fn cmp() -> impl Strategy<Value = Cmp> {
        proptest::sample::select(vec![Cmp::Eq, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge])
    }

    fn date_value() -> impl Strategy<Value = DateValue> {
        // 1900-01-01 to 2199-12-31.
        let secs = -2_208_988_800i64..7_258_118_399;
        prop_oneof![
            (0i64..300 * 365).prop_map(|d| DateValue::Day(
                NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(d)
            )),
            (secs, 0u32..1_000_000_000, -14 * 60..=14 * 60i32, 0..3usize).prop_map(
                |(s, nanos, off, prec)| {
                    // Whole seconds, milliseconds or nanoseconds.
                    let nanos = [0, nanos / 1_000_000 * 1_000_000, nanos][prec];
                    let offset = FixedOffset::east_opt(off * 60).unwrap();
                    let utc = DateTime::from_timestamp(s, nanos).unwrap();
                    DateValue::Instant(utc.with_timezone(&offset))
                }
            ),
            Just(DateValue::Today),
            Just(DateValue::Tomorrow),
            Just(DateValue::Yesterday),
            (-MAX_RELATIVE_MINUTES..=MAX_RELATIVE_MINUTES)
                .prop_map(|minutes| DateValue::Relative { minutes }),
            proptest::sample::select(vec![0i64, 60, -1440, 10080, 30])
                .prop_map(|minutes| DateValue::Relative { minutes }),
        ]
    }

    fn term() -> impl Strategy<Value = Term> {
        prop_oneof![
            4 => word().prop_map(Term::Word),
            1 => proptest::collection::vec(word(), 2..4).prop_map(Term::Phrase),
            1 => proptest::sample::select(vec![Status::Open, Status::Done]).prop_map(Term::Status),
            1 => (cmp(), proptest::sample::select(Priority::ALL.to_vec()))
                .prop_map(|(c, p)| Term::Priority(c, p)),
            1 => "[a-zé0-9][a-z0-9_./\\-]{0,8}".prop_map(Term::Tag),
            1 => (cmp(), date_value()).prop_map(|(c, v)| Term::Due(c, v)),
            1 => Just(Term::DueNone),
            1 => Just(Term::Overdue),
            1 => (cmp(), date_value()).prop_map(|(c, v)| Term::Created(c, v)),
            1 => (cmp(), date_value()).prop_map(|(c, v)| Term::Updated(c, v)),
        ]
    }

    /// Normalised expressions within the parser's limits.
    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = term().prop_map(Expr::Term);
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
                proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::Or),
                inner.prop_map(|e| Expr::Not(Box::new(e))),
            ]
        })
        .prop_map(Expr::normalised)
        .prop_filter("within the limits", |e| {
            e.term_count() <= MAX_TERMS && e.to_string().chars().count() <= MAX_QUERY_CHARS
        })
    }

    proptest! {
        #[test]
        fn printed_expressions_parse_back(e in expr()) {
            prop_assert!(e.is_normalised(), "{:?}", e);
            let text = e.to_string();
            prop_assert_eq!(parse(&text), Ok(e), "{}", text);
        }

        #[test]
        fn any_string_parses_or_fails_cleanly(s in any::<String>()) {
            check_no_panic_and_round_trip(&s)?;
        }

        #[test]
        fn syntax_soup_parses_or_fails_cleanly(s in "[a-z:()<>=\"\\- ORANDT0-9é+]{0,60}") {
            check_no_panic_and_round_trip(&s)?;
        }
    }

    /// Parsing never panics; whatever parses is normalised, keeps char
    /// positions in range on error, and prints to text that parses back.
    fn check_no_panic_and_round_trip(s: &str) -> Result<(), TestCaseError> {
        match parse(s) {
            Ok(e) => {
                prop_assert!(e.is_normalised(), "{:?} -> {:?}", s, e);
                let text = e.to_string();
                prop_assert_eq!(parse(&text), Ok(e), "{:?} printed as {:?}", s, text);
            }
            Err(err) => {
                prop_assert!(err.position <= s.chars().count(), "{:?}: {}", s, err);
                prop_assert!(!err.message.is_empty());
            }
        }
        Ok(())
    }
}
