//! Sort keys as SQL expressions, and the keyset condition that continues a
//! list after the last row served, for any mix of directions.

use dueflow_domain::sort::{SortField, SortKey};
use dueflow_domain::urgency;

use super::cursor::KeyValue;
use super::filter::TextItem;
use super::relevance;
use super::sql::{Builder, Dialect, SqlValue};
use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Int,
    Real,
    Text,
}

pub struct SortExpr {
    pub expr: String,
    pub descending: bool,
    pub kind: KeyKind,
}

fn real(d: Dialect, e: &str) -> String {
    match d {
        Dialect::Sqlite => format!("CAST({e} AS REAL)"),
        Dialect::Postgres => format!("CAST({e} AS DOUBLE PRECISION)"),
    }
}

/// Urgency in SQL, the same formula as [`urgency::score`].
fn urgency_sql(b: &mut Builder, now_ms: i64) -> String {
    let now = b.bind(SqlValue::Int(now_ms));
    let d = b.dialect;
    let day = urgency::MS_PER_DAY;
    let p = urgency::PRIORITY;
    let (due, overdue, age, tags) = (urgency::DUE, urgency::OVERDUE, urgency::AGE, urgency::TAGS);
    let until = real(d, &format!("t.due_at - {now}"));
    let aged = real(d, &format!("{now} - t.created_at"));
    let sum = format!(
        "(CASE t.priority WHEN 1 THEN {} WHEN 2 THEN {} WHEN 3 THEN {} WHEN 4 THEN {} ELSE 0.0 END) \
         + (CASE WHEN t.due_at IS NULL THEN 0.0 \
                 WHEN {until} >= {d14} THEN {due} * 0.2 \
                 WHEN {until} <= {dm7} THEN {due} * 1.0 \
                 ELSE {due} * (0.2 + (14.0 - {until} / {day:.1}) * 0.8 / 21.0) END) \
         + (CASE WHEN t.overdue_at IS NOT NULL AND t.overdue_at <= {now} THEN {overdue:.1} ELSE 0.0 END) \
         + {age:.1} * (CASE WHEN {aged} >= {d365} THEN 1.0 WHEN {aged} <= 0.0 THEN 0.0 ELSE {aged} / {d365} END) \
         + {tags:.1} * (CASE WHEN t.tag_count >= 3 THEN 3.0 ELSE {tc} END) / 3.0",
        p[1],
        p[2],
        p[3],
        p[4],
        d14 = 14.0 * day,
        dm7 = -7.0 * day,
        d365 = 365.0 * day,
        tc = real(d, "t.tag_count"),
    );
    real(d, &format!("({sum})"))
}

pub fn sort_exprs(
    b: &mut Builder,
    sort: &[SortField],
    owner: &str,
    text: &[TextItem],
    now_ms: i64,
) -> Vec<SortExpr> {
    sort.iter()
        .map(|f| {
            let (expr, kind) = match f.key {
                SortKey::Due if f.descending => (
                    "COALESCE(t.due_at, -9223372036854775807)".into(),
                    KeyKind::Int,
                ),
                SortKey::Due => (
                    "COALESCE(t.due_at, 9223372036854775807)".into(),
                    KeyKind::Int,
                ),
                SortKey::Priority => ("t.priority".into(), KeyKind::Int),
                SortKey::Created => ("t.created_at".into(), KeyKind::Int),
                SortKey::Updated => ("t.updated_at".into(), KeyKind::Int),
                SortKey::Title => match b.dialect {
                    Dialect::Sqlite => ("t.title COLLATE NOCASE".into(), KeyKind::Text),
                    Dialect::Postgres => ("lower(t.title)".into(), KeyKind::Text),
                },
                SortKey::Urgency => (urgency_sql(b, now_ms), KeyKind::Real),
                SortKey::Relevance => (relevance::key_expr(b, owner, text), KeyKind::Int),
            };
            SortExpr {
                expr,
                descending: f.descending,
                kind,
            }
        })
        .collect()
}

/// Whether the final tie-break on id runs descending (as the last key does).
pub fn id_descending(exprs: &[SortExpr]) -> bool {
    exprs.last().is_some_and(|e| e.descending)
}

/// Rows strictly after (`keys`, `id`) in the order of `exprs`, then `id_expr`.
pub fn keyset_condition(
    b: &mut Builder,
    exprs: &[SortExpr],
    id_expr: &str,
    keys: &[KeyValue],
    id: &str,
) -> Result<String, StoreError> {
    let bad = || StoreError::BadQuery("cursor does not match this sort order".into());
    if keys.len() != exprs.len() {
        return Err(bad());
    }
    let mut values = Vec::with_capacity(keys.len());
    for (e, k) in exprs.iter().zip(keys) {
        let v = match (e.kind, k) {
            (KeyKind::Int, KeyValue::Int(i)) => SqlValue::Int(*i),
            (KeyKind::Real, KeyValue::Real(r)) => SqlValue::Real(*r),
            (KeyKind::Real, KeyValue::Int(i)) => SqlValue::Real(*i as f64),
            (KeyKind::Text, KeyValue::Text(s)) => SqlValue::Text(s.clone()),
            _ => return Err(bad()),
        };
        values.push(b.bind(v));
    }
    let id = b.bind(SqlValue::Text(id.to_owned()));
    let mut ors = Vec::with_capacity(exprs.len() + 1);
    for i in 0..=exprs.len() {
        let mut ands: Vec<String> = (0..i)
            .map(|j| format!("{} = {}", exprs[j].expr, values[j]))
            .collect();
        if i < exprs.len() {
            let op = if exprs[i].descending { "<" } else { ">" };
            ands.push(format!("{} {op} {}", exprs[i].expr, values[i]));
        } else {
            let op = if id_descending(exprs) { "<" } else { ">" };
            ands.push(format!("{id_expr} {op} {id}"));
        }
        ors.push(format!("({})", ands.join(" AND ")));
    }
    Ok(format!("({})", ors.join(" OR ")))
}
