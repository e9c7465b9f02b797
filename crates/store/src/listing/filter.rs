//! Compiles the query-language AST into a SQL condition. Text terms become
//! full-text matches (SQLite FTS5, PostgreSQL tsquery over a tsvector), the
//! rest plain comparisons; every value is a bound parameter. SQLite matches
//! are scoped to the owner's token in the index, so one user's search never
//! walks another user's matches.

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

/// One item as tsquery text; `weight` limits it to lexemes of that weight
/// (`A`: the title).
fn tsquery_item(item: &TextItem, weight: Option<char>) -> String {
    let label = match (item.prefix, weight) {
        (true, Some(w)) => format!(":*{w}"),
        (true, None) => ":*".to_owned(),
        (false, Some(w)) => format!(":{w}"),
        (false, None) => String::new(),
    };
    let last = item.tokens.len().saturating_sub(1);
    item.tokens
        .iter()
        .enumerate()
        .map(|(i, t)| match weight {
            Some(w) if i < last => format!("'{t}':{w}"),
            _ if i < last => format!("'{t}'"),
            _ => format!("'{t}'{label}"),
        })
        .collect::<Vec<_>>()
        .join(" <-> ")
}

/// All `items` ANDed, as FTS5 query text (tokens are alphanumeric, so
/// quoting cannot be escaped from).
pub fn fts5_items(items: &[TextItem]) -> String {
    items
        .iter()
        .map(fts5_item)
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// FTS5 MATCH text: `owner`'s tasks where `columns` (a column filter such
/// as `{title notes}`) match all `items`. The owner column holds the user id
/// without its `usr_` prefix (migration 0006); it only narrows the match,
/// the caller still checks `user_id`.
pub fn fts5_match(owner: &str, columns: &str, items: &[TextItem]) -> String {
    let text = fts5_items(items);
    let owner = tokens(&[owner.get(4..).unwrap_or_default()]);
    if owner.is_empty() {
        format!("{columns} : ({text})")
    } else {
        format!("owner : \"{}\" AND {columns} : ({text})", owner.join(" "))
    }
}

/// tsquery text for all top-level items.
pub fn tsquery(items: &[TextItem], weight: Option<char>) -> String {
    items
        .iter()
        .map(|i| tsquery_item(i, weight))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// What every node of one filter is compiled against.
struct Scope<'a> {
    ctx: &'a Context,
    owner: &'a str,
    last: Option<*const String>,
}

/// The SQL condition for `expr` over `owner`'s tasks. With `skip_top_text`,
/// the top-level text terms are left out because the relevance window
/// already enforces them.
pub fn compile_filter(
    b: &mut Builder,
    expr: &Expr,
    ctx: &Context,
    owner: &str,
    skip_top_text: bool,
) -> String {
    let sc = Scope {
        ctx,
        owner,
        last: last_word(expr),
    };
    let is_text = |e: &Expr| matches!(e, Expr::Term(Term::Word(_) | Term::Phrase(_)));
    match expr {
        Expr::And(v) if skip_top_text => {
            let parts: Vec<&Expr> = v.iter().filter(|e| !is_text(e)).collect();
            join(b, &parts, " AND ", &sc)
        }
        e if skip_top_text && is_text(e) => "1=1".into(),
        e => node(b, e, &sc),
    }
}

fn join(b: &mut Builder, parts: &[&Expr], op: &str, sc: &Scope<'_>) -> String {
    if parts.is_empty() {
        return if op == " AND " {
            "1=1".into()
        } else {
            "1=0".into()
        };
    }
    let compiled: Vec<String> = parts.iter().map(|e| node(b, e, sc)).collect();
    format!("({})", compiled.join(op))
}

fn node(b: &mut Builder, expr: &Expr, sc: &Scope<'_>) -> String {
    match expr {
        Expr::And(v) => join(b, &v.iter().collect::<Vec<_>>(), " AND ", sc),
        Expr::Or(v) => join(b, &v.iter().collect::<Vec<_>>(), " OR ", sc),
        Expr::Not(e) => format!("NOT {}", node(b, e, sc)),
        Expr::Term(t) => term(b, t, sc),
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

fn term(b: &mut Builder, t: &Term, sc: &Scope<'_>) -> String {
    let ctx = sc.ctx;
    match t {
        Term::Word(_) | Term::Phrase(_) => {
            let Some(item) = text_item(t, sc.last).filter(|i| !i.tokens.is_empty()) else {
                return "1=1".into();
            };
            match b.dialect {
                Dialect::Sqlite => {
                    let p = b.bind(SqlValue::Text(fts5_match(
                        sc.owner,
                        "{title notes}",
                        &[item],
                    )));
                    format!("t.seq IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {p})")
                }
                Dialect::Postgres => {
                    let p = b.bind(SqlValue::Text(tsquery_item(&item, None)));
                    format!("t.search @@ to_tsquery('dueflow', {p})")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_match_is_scoped_to_the_owner_and_to_title_and_notes() {
        let items = [
            TextItem {
                tokens: vec!["deep".into(), "work".into()],
                prefix: false,
            },
            TextItem {
                tokens: vec!["rep".into()],
                prefix: true,
            },
        ];
        assert_eq!(
            fts5_match("usr_0a1B", "{title notes}", &items),
            "owner : \"0a1b\" AND {title notes} : (\"deep work\" AND \"rep\"*)"
        );
        assert_eq!(
            fts5_match("", "{title}", &items[1..]),
            "{title} : (\"rep\"*)"
        );
        assert_eq!(tsquery(&items, None), "'deep' <-> 'work' & 'rep':*");
        assert_eq!(
            tsquery(&items, Some('A')),
            "'deep':A <-> 'work':A & 'rep':*A"
        );
    }
}
