//! Compiles the query-language AST into a SQL condition. Text terms become
//! full-text matches (SQLite FTS5, PostgreSQL tsquery over a tsvector), the
//! rest plain comparisons; every value is a bound parameter.

use dueflow_domain::query::{Bound, Cmp, Context, Expr, Term, resolve};

use super::sql::{Builder, Dialect, SqlValue};

/// A text term reduced to index tokens; `prefix` marks the last word typed.
#[derive(Debug, Clone, PartialEq)]
pub struct TextItem {
    pub tokens: Vec<String>,
    pub prefix: bool,
}

/// Split text the way the indexes do: runs of letters and digits, lower-case.
fn tokens(words: &[&str]) -> Vec<String> {
    words
        .iter()
        .flat_map(|w| w.split(|c: char| !c.is_alphanumeric()))
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn last_word(expr: &Expr) -> Option<*const String> {
    match expr {
        Expr::And(v) | Expr::Or(v) => v.iter().rev().find_map(last_word),
        Expr::Not(e) => last_word(e),
        Expr::Term(Term::Word(w)) => Some(w as *const String),
        Expr::Term(_) => None,
    }
}

fn text_item(term: &Term, last: Option<*const String>) -> Option<TextItem> {
    match term {
        Term::Word(w) => Some(TextItem {
            tokens: tokens(&[w]),
            prefix: last == Some(w as *const String),
        }),
        Term::Phrase(ws) => Some(TextItem {
            tokens: tokens(&ws.iter().map(String::as_str).collect::<Vec<_>>()),
            prefix: false,
        }),
        _ => None,
    }
}

/// The text terms every result must match (those ANDed at the top), which
/// also drive relevance ranking.
pub fn top_level_text(expr: &Expr) -> Vec<TextItem> {
    let last = last_word(expr);
    let terms: Vec<&Term> = match expr {
        Expr::Term(t) => vec![t],
        Expr::And(v) => v
            .iter()
            .filter_map(|e| match e {
                Expr::Term(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    terms
        .into_iter()
        .filter_map(|t| text_item(t, last))
        .filter(|i| !i.tokens.is_empty())
        .collect()
}

fn fts5_item(item: &TextItem) -> String {
    let mut s = format!("\"{}\"", item.tokens.join(" "));
    if item.prefix {
        s.push('*');
    }
    s
}

fn tsquery_item(item: &TextItem) -> String {
    let mut s = item
        .tokens
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(" <-> ");
    if item.prefix {
        s.push_str(":*");
    }
    s
}

/// FTS5 MATCH text for all top-level items (tokens are alphanumeric, so
/// quoting cannot be escaped from).
pub fn fts5_match(items: &[TextItem]) -> String {
    items
        .iter()
        .map(fts5_item)
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// tsquery text for all top-level items.
pub fn tsquery(items: &[TextItem]) -> String {
    items
        .iter()
        .map(tsquery_item)
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The SQL condition for `expr`. With `skip_top_text`, the top-level text
/// terms are left out because a relevance join already enforces them.
pub fn compile_filter(b: &mut Builder, expr: &Expr, ctx: &Context, skip_top_text: bool) -> String {
    let last = last_word(expr);
    let is_text = |e: &Expr| matches!(e, Expr::Term(Term::Word(_) | Term::Phrase(_)));
    match expr {
        Expr::And(v) if skip_top_text => {
            let parts: Vec<&Expr> = v.iter().filter(|e| !is_text(e)).collect();
            join(b, &parts, " AND ", ctx, last)
        }
        e if skip_top_text && is_text(e) => "1=1".into(),
        e => node(b, e, ctx, last),
    }
}

fn join(
    b: &mut Builder,
    parts: &[&Expr],
    op: &str,
    ctx: &Context,
    last: Option<*const String>,
) -> String {
    if parts.is_empty() {
        return if op == " AND " {
            "1=1".into()
        } else {
            "1=0".into()
        };
    }
    let compiled: Vec<String> = parts.iter().map(|e| node(b, e, ctx, last)).collect();
    format!("({})", compiled.join(op))
}

fn node(b: &mut Builder, expr: &Expr, ctx: &Context, last: Option<*const String>) -> String {
    match expr {
        Expr::And(v) => join(b, &v.iter().collect::<Vec<_>>(), " AND ", ctx, last),
        Expr::Or(v) => join(b, &v.iter().collect::<Vec<_>>(), " OR ", ctx, last),
        Expr::Not(e) => format!("NOT {}", node(b, e, ctx, last)),
        Expr::Term(t) => term(b, t, ctx, last),
    }
}

fn cmp_op(c: Cmp) -> &'static str {
    match c {
        Cmp::Eq => "=",
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
    }
}

fn bound(b: &mut Builder, column: &str, bound: Bound) -> String {
    match bound {
        Bound::Lt(v) => format!(
            "({column} IS NOT NULL AND {column} < {})",
            b.bind(SqlValue::Int(v))
        ),
        Bound::Ge(v) => format!(
            "({column} IS NOT NULL AND {column} >= {})",
            b.bind(SqlValue::Int(v))
        ),
        Bound::Range { start, end } => {
            let s = b.bind(SqlValue::Int(start));
            let e = b.bind(SqlValue::Int(end));
            format!("({column} IS NOT NULL AND {column} >= {s} AND {column} < {e})")
        }
    }
}

fn term(b: &mut Builder, t: &Term, ctx: &Context, last: Option<*const String>) -> String {
    match t {
        Term::Word(_) | Term::Phrase(_) => {
            let Some(item) = text_item(t, last).filter(|i| !i.tokens.is_empty()) else {
                return "1=1".into();
            };
            match b.dialect {
                Dialect::Sqlite => {
                    let p = b.bind(SqlValue::Text(fts5_item(&item)));
                    format!("t.seq IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {p})")
                }
                Dialect::Postgres => {
                    let p = b.bind(SqlValue::Text(tsquery_item(&item)));
                    format!("t.search @@ to_tsquery('simple', dueflow_unaccent({p}))")
                }
            }
        }
        Term::Status(s) => format!("t.status = {}", b.bind(SqlValue::Text(s.as_str().into()))),
        Term::Priority(c, p) => format!(
            "t.priority {} {}",
            cmp_op(*c),
            b.bind(SqlValue::Int(p.rank()))
        ),
        Term::Tag(name) => format!(
            "EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = t.id AND g.name = {})",
            b.bind(SqlValue::Text(name.clone()))
        ),
        Term::Due(c, v) => bound(b, "t.due_at", resolve(*c, *v, ctx)),
        Term::DueNone => "t.due_at IS NULL".into(),
        Term::Overdue => format!(
            "(t.status = 'open' AND t.overdue_at IS NOT NULL AND t.overdue_at <= {})",
            b.bind(SqlValue::Int(ctx.now.timestamp_millis()))
        ),
        Term::Created(c, v) => bound(b, "t.created_at", resolve(*c, *v, ctx)),
        Term::Updated(c, v) => bound(b, "t.updated_at", resolve(*c, *v, ctx)),
    }
}
