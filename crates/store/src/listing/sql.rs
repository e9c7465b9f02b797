//! The SQL text of one task list, with its bound values, for one dialect.

use dueflow_domain::query::Context;
use dueflow_domain::sort::{SortField, SortKey};

use dueflow_domain::task::Task;

use super::cursor::{Cursor, KeyValue};
use super::filter::{compile_filter, top_level_text};
use super::order::{KeyKind, SortExpr, id_descending, keyset_condition, sort_exprs};
use super::window;
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

/// Accumulates SQL and its parameters, numbering placeholders per dialect.
pub struct Builder {
    pub dialect: Dialect,
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Builder {
    pub fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }
}

pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
    /// The kinds of the sort-key columns that follow the task columns.
    pub key_kinds: Vec<KeyKind>,
    /// The effective sort, for the next cursor.
    pub sort: Vec<SortField>,
    pub now_ms: i64,
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
    let sort = if q.sort.is_empty() {
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
    let wants_relevance = sort.iter().any(|f| f.key == SortKey::Relevance);
    if wants_relevance && text.is_empty() {
        return Err(StoreError::BadQuery(
            "sort by relevance needs search words in q".into(),
        ));
    }
    if let Some(c) = &q.cursor
        && c.sort != sort_spec(&sort)
    {
        return Err(StoreError::BadQuery(
            "this cursor belongs to another sort order; start again without a cursor".into(),
        ));
    }

    let mut b = Builder {
        dialect,
        sql: String::with_capacity(512),
        params: Vec::with_capacity(8),
    };
    let user = b.bind(SqlValue::Text(user_id.to_owned()));
    let exprs: Vec<SortExpr> = sort_exprs(&mut b, &sort, &text, now_ms);
    let filter = compile_filter(&mut b, &q.filter, &ctx, user_id, wants_relevance);
    // The page size is a validated integer, written into the SQL rather than
    // bound: SQLite recompiles a cached statement whose LIMIT is a parameter.
    let limit = i64::from(q.limit.min(super::MAX_LIMIT)) + 1;
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
    // Sort and cut the page on ids and keys alone, then fetch whole rows
    // for that page only: the sorter never carries notes and tags.
    let page_sql = if wants_relevance {
        // Rank inside the window, then page over its rows by their keys.
        let source = window::source(&mut b, user_id, &user, &text, &filter, now_ms);
        let columns: Vec<SortExpr> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| SortExpr {
                expr: format!("w.k{i}"),
                descending: e.descending,
                kind: e.kind,
            })
            .collect();
        let after = match &q.cursor {
            Some(c) => format!(
                " WHERE {}",
                keyset_condition(&mut b, &columns, "w.pid", &c.keys, &c.id)?
            ),
            None => String::new(),
        };
        let picked: String = (0..exprs.len()).map(|i| format!(", w.k{i}")).collect();
        format!(
            "SELECT w.pid{picked} FROM (SELECT t.id AS pid{keys} {source}) w{after} \
             ORDER BY {}w.pid {id_dir} LIMIT {limit}",
            order("w.")
        )
    } else {
        let mut wh = format!("t.user_id = {user} AND {filter}");
        if let Some(c) = &q.cursor {
            wh.push_str(" AND ");
            wh.push_str(&keyset_condition(&mut b, &exprs, "t.id", &c.keys, &c.id)?);
        }
        format!(
            "SELECT t.id AS pid{keys} FROM tasks t WHERE {wh} \
             ORDER BY {}t.id {id_dir} LIMIT {limit}",
            order("")
        )
    };
    let outer_keys: String = (0..exprs.len()).map(|i| format!(", p.k{i}")).collect();
    b.sql = format!(
        "SELECT {TASK_COLUMNS}{outer_keys} FROM ({page_sql}) p JOIN tasks t ON t.id = p.pid \
         ORDER BY {}p.pid {id_dir}",
        order("p.")
    );
    Ok(Statement {
        sql: b.sql,
        params: b.params,
        key_kinds: exprs.iter().map(|e| e.kind).collect(),
        sort,
        now_ms,
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
