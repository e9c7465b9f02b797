//! The SQL text of one task list, with its bound values, for one dialect.

use dueflow_domain::query::Context;
use dueflow_domain::sort::{SortField, SortKey};

use dueflow_domain::task::Task;

use super::cursor::{Cursor, KeyValue};
use super::filter::{compile_filter, top_level_text};
use super::order::{KeyKind, SortExpr, id_descending, keyset_condition, sort_exprs};
use super::relevance;
use super::{ListQuery, Page};
use crate::StoreError;
use crate::codec::TASK_COLUMNS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Real(f64),
    Text(String),
}

/// Accumulates parameters, numbering placeholders per dialect.
pub struct Builder {
    pub dialect: Dialect,
    pub params: Vec<SqlValue>,
}

impl Builder {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            params: Vec::with_capacity(8),
        }
    }

    pub fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }
}

/// One query of a list, with its bound values. Each row is a task's
/// columns followed by its sort keys.
pub struct Part {
    pub sql: String,
    pub params: Vec<SqlValue>,
    /// A cheaper query over the same values that looks only at the newest
    /// of the user's tasks: when it returns as many rows as the page still
    /// needs, those are the part's first rows and `sql` is not run.
    pub probe: Option<String>,
}

/// A compiled list: its parts run in turn until a page is full, and their
/// rows follow each other in the list's order.
pub struct Statement {
    pub parts: Vec<Part>,
    /// The kinds of the sort-key columns that follow the task columns.
    pub key_kinds: Vec<KeyKind>,
    /// The effective sort, for the next cursor.
    pub sort: Vec<SortField>,
    pub now_ms: i64,
}

/// Whole task rows for the rows and keys that `page` selected (`pid`, then
/// `k0`…, and what `on` joins by: `t.seq = p.pid`), in the order `order`
/// (`p.k0 ASC, …`) then `p.pid id_dir`. Lists sort and cut the page on ids
/// and keys alone, so the sorter never carries notes and tags.
pub fn whole_rows(page: &str, on: &str, keys: usize, order: &str, id_dir: &str) -> String {
    let outer_keys: String = (0..keys).map(|i| format!(", p.k{i}")).collect();
    format!(
        "SELECT {TASK_COLUMNS}{outer_keys} FROM ({page}) p JOIN tasks t ON {on} \
         ORDER BY {order}p.pid {id_dir}"
    )
}

/// Compile a list query for `user_id`. Fetches `limit + 1` rows so the caller
/// can tell whether another page follows.
pub fn build(dialect: Dialect, user_id: &str, q: &ListQuery) -> Result<Statement, StoreError> {
    let now_ms = q
        .cursor
        .as_ref()
        .map_or(q.now.timestamp_millis(), |c| c.now_ms);
    let ctx = Context {
        now: crate::codec::ms(now_ms)?,
        tz: q.tz,
    };
    let text = top_level_text(&q.filter);
    let mut sort = if q.sort.is_empty() {
        if text.is_empty() {
            vec![
                SortField {
                    key: SortKey::Due,
                    descending: false,
                },
                SortField {
                    key: SortKey::Priority,
                    descending: true,
                },
            ]
        } else {
            vec![SortField {
                key: SortKey::Relevance,
                descending: false,
            }]
        }
    } else {
        q.sort.clone()
    };
    if sort.iter().any(|f| f.key == SortKey::Relevance) && text.is_empty() {
        return Err(StoreError::BadQuery(
            "sort by relevance needs search words in q".into(),
        ));
    }
    // Relevance orders fully (see `relevance`): keys after it never decide.
    let tiered = sort
        .first()
        .is_some_and(|f| f.key == SortKey::Relevance && !f.descending);
    if tiered {
        sort.truncate(1);
    }
    if let Some(c) = &q.cursor
        && c.sort != sort_spec(&sort)
    {
        return Err(StoreError::BadQuery(
            "this cursor belongs to another sort order; start again without a cursor".into(),
        ));
    }
    // The page size is a validated integer, written into the SQL rather than
    // bound: SQLite recompiles a cached statement whose LIMIT is a parameter.
    let limit = i64::from(q.limit.min(super::MAX_LIMIT)) + 1;
    if tiered {
        return Ok(Statement {
            parts: relevance::tiers(dialect, user_id, q, &text, &ctx, limit)?,
            key_kinds: vec![KeyKind::Int],
            sort,
            now_ms,
        });
    }

    let mut b = Builder::new(dialect);
    let user = b.bind(SqlValue::Text(user_id.to_owned()));
    let exprs: Vec<SortExpr> = sort_exprs(&mut b, &sort, user_id, &text, now_ms);
    let filter = compile_filter(&mut b, &q.filter, &ctx, user_id, false);
    // Ties go by id in the direction of the last key: ids are time-ordered,
    // so `-created` lists same-millisecond tasks newest first too.
    let id_dir = if id_descending(&exprs) { "DESC" } else { "ASC" };
    let keys: String = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| format!(", {} AS k{i}", e.expr))
        .collect();
    // `k0 ASC, k1 DESC, ` with each key name after `prefix`.
    let order = |prefix: &str| -> String {
        exprs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                format!(
                    "{prefix}k{i} {}, ",
                    if e.descending { "DESC" } else { "ASC" }
                )
            })
            .collect()
    };
    let mut wh = format!("t.user_id = {user} AND {filter}");
    if let Some(c) = &q.cursor {
        wh.push_str(" AND ");
        wh.push_str(&keyset_condition(&mut b, &exprs, "t.id", &c.keys, &c.id)?);
    }
    let sql = if dialect == Dialect::Postgres && index_ordered(&sort) {
        // An index holds this order, so PostgreSQL walks it and stops at
        // the page: the whole rows are read as they are met, and a second
        // lookup of each by id would only add to it (9,300 against 15,000
        // such lists a second in pgbench).
        format!(
            "SELECT {TASK_COLUMNS}{keys} FROM tasks t WHERE {wh} \
             ORDER BY {}t.id {id_dir} LIMIT {limit}",
            order("")
        )
    } else {
        // SQLite finds a whole row by its number, one index lookup fewer
        // than by id.
        let (row, on) = match dialect {
            Dialect::Sqlite => (", t.seq AS rn", "t.seq = p.rn"),
            Dialect::Postgres => ("", "t.id = p.pid"),
        };
        let page = format!(
            "SELECT t.id AS pid{row}{keys} FROM tasks t WHERE {wh} \
             ORDER BY {}t.id {id_dir} LIMIT {limit}",
            order("")
        );
        whole_rows(&page, on, exprs.len(), &order("p."), id_dir)
    };
    Ok(Statement {
        parts: vec![Part {
            sql,
            params: b.params,
            probe: None,
        }],
        key_kinds: exprs.iter().map(|e| e.kind).collect(),
        sort,
        now_ms,
    })
}

/// Whether PostgreSQL has an index in the order of `sort`'s first key (its
/// migrations 0004 and 0007 and the index on `updated_at`), so that a list
/// sorted by it is read in order rather than sorted.
fn index_ordered(sort: &[SortField]) -> bool {
    sort.first().is_some_and(|f| match f.key {
        SortKey::Due => !f.descending,
        SortKey::Created | SortKey::Updated => true,
        _ => false,
    })
}

/// The canonical text of a sort, stored in cursors.
pub fn sort_spec(sort: &[SortField]) -> String {
    sort.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Statement {
    /// The page of at most `limit` rows, with the cursor that continues
    /// after its last row when more rows were fetched.
    pub fn page(&self, mut rows: Vec<(Task, Vec<KeyValue>)>, limit: u32) -> Page {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = match rows.last() {
            Some((task, keys)) if more => Some(
                Cursor {
                    sort: sort_spec(&self.sort),
                    now_ms: self.now_ms,
                    keys: keys.clone(),
                    id: task.id.clone(),
                }
                .encode(),
            ),
            _ => None,
        };
        Page {
            items: rows.into_iter().map(|(t, _)| t).collect(),
            next_cursor,
        }
    }
}
