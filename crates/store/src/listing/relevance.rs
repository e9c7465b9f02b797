//! Relevance, designed so that the first page of a search costs about as
//! much as its page size, however many tasks match. Tasks that match every
//! search word in the title (tier 0) come before those that need the notes
//! (tier 1), and within a tier the newest come first. The key is one integer
//! per task, `tier × TIER − position`. On SQLite the position is the row
//! number, so the key orders fully; on PostgreSQL it is the creation time,
//! and tasks created in the same millisecond go by id, highest first.
//!
//! Sorted by relevance first, a list is two parts run in turn: each walks
//! its tier's matches newest first and stops at the page size (SQLite's FTS5
//! walks its index in row order, seeking past the cursor). Elsewhere in a
//! sort, relevance is the same key computed per row.

use super::ListQuery;
use super::cursor::{Cursor, KeyValue};
use super::filter::{TextItem, compile_filter, fts5_match, tsquery};
use super::sql::{Builder, Dialect, Part, SqlValue, whole_rows};
use crate::StoreError;
use crate::codec::TASK_COLUMNS;
use dueflow_domain::query::Context;

/// The distance between the tiers' keys; larger than any position.
const TIER: i64 = 1 << 52;

/// How many of the newest tasks a PostgreSQL probe reads per row of the
/// page: a word in one task in 20 fills the page from the probe.
const PROBE_WINDOW: i64 = 20;

/// The row position (SQLite) or creation time (PostgreSQL) a key of the
/// tier at `base` stands for; a cursor's key no row could have is refused.
fn position(base: i64, key: i64) -> Result<i64, StoreError> {
    base.checked_sub(key)
        .ok_or_else(|| StoreError::BadQuery("cursor is not one this server issued".into()))
}

/// Which tier a relevance key belongs to.
fn tier_of(key: i64) -> i64 {
    i64::from(key > 0)
}

/// The full-text condition of `tier`, as the bound MATCH / tsquery text.
fn tier_match(dialect: Dialect, owner: &str, text: &[TextItem], tier: i64) -> String {
    match (dialect, tier) {
        (Dialect::Sqlite, 0) => fts5_match(owner, "{title}", text),
        (Dialect::Sqlite, _) => format!(
            "{} NOT {{title}} : ({})",
            fts5_match(owner, "{title notes}", text),
            super::filter::fts5_items(text)
        ),
        (Dialect::Postgres, 0) => tsquery(text, Some('A')),
        (Dialect::Postgres, _) => format!(
            "({}) & !({})",
            tsquery(text, None),
            tsquery(text, Some('A'))
        ),
    }
}

/// The relevance key of the row `t`, for sorts where relevance is not first.
pub fn key_expr(b: &mut Builder, owner: &str, text: &[TextItem]) -> String {
    let m = b.bind(SqlValue::Text(tier_match(b.dialect, owner, text, 0)));
    match b.dialect {
        Dialect::Sqlite => format!(
            "(CASE WHEN t.seq IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {m}) \
             THEN 0 ELSE {TIER} END - t.seq)"
        ),
        Dialect::Postgres => format!(
            "(CASE WHEN t.search @@ to_tsquery('dueflow', {m}) \
             THEN 0 ELSE {TIER} END - t.created_at)"
        ),
    }
}

/// The parts of a list sorted by relevance first: each tier's page, newest
/// first, after `q.cursor`. `limit` rows at most per part.
pub fn tiers(
    dialect: Dialect,
    user_id: &str,
    q: &ListQuery,
    text: &[TextItem],
    ctx: &Context,
    limit: i64,
) -> Result<Vec<Part>, StoreError> {
    let after = match &q.cursor {
        Some(Cursor { keys, .. }) => match keys.as_slice() {
            [KeyValue::Int(v)] => Some(*v),
            _ => {
                return Err(StoreError::BadQuery(
                    "cursor does not match this sort order".into(),
                ));
            }
        },
        None => None,
    };
    let mut parts = Vec::with_capacity(2);
    for tier in 0..2 {
        // A cursor in the second tier is past all of the first.
        if after.is_some_and(|v| tier_of(v) > tier) {
            continue;
        }
        let within = after.filter(|v| tier_of(*v) == tier);
        let mut b = Builder::new(dialect);
        let user = b.bind(SqlValue::Text(user_id.to_owned()));
        let filter = compile_filter(&mut b, &q.filter, ctx, user_id, true);
        let m = b.bind(SqlValue::Text(tier_match(dialect, user_id, text, tier)));
        let base = tier * TIER;
        let (page, on, id_dir, probe) = match dialect {
            Dialect::Sqlite => {
                // The key is unique, so "after the cursor" is a row bound
                // that FTS5 seeks to.
                let bound = match within {
                    Some(v) => {
                        format!(
                            " AND tasks_fts.rowid < {}",
                            b.bind(SqlValue::Int(position(base, v)?))
                        )
                    }
                    None => String::new(),
                };
                let page = format!(
                    "SELECT t.seq AS pid, {base} - t.seq AS k0 FROM tasks_fts \
                     CROSS JOIN tasks t ON t.seq = tasks_fts.rowid \
                     WHERE tasks_fts MATCH {m} AND t.user_id = {user} AND {filter}{bound} \
                     ORDER BY tasks_fts.rowid DESC LIMIT {limit}"
                );
                // Whole rows are found by row number, one lookup fewer.
                (page, "t.seq = p.pid", "ASC", None)
            }
            // Newest first is the order of the (user_id, created_at, id)
            // index (migration 0007). The planner cannot tell how common a
            // prefix-matched word is, and collects every match from the GIN
            // index (9 ms for a word in a fifth of 10,000 tasks), where
            // walking that index backwards finds the page in 0.2 ms. So the
            // probe walks the newest tasks in a window fenced off by its
            // own LIMIT; only a rarer word falls through to the full query,
            // whose GIN plan suits it.
            Dialect::Postgres => {
                let after = match (&q.cursor, within) {
                    (Some(c), Some(v)) => {
                        let created = b.bind(SqlValue::Int(position(base, v)?));
                        let id = b.bind(SqlValue::Text(c.id.clone()));
                        format!(
                            " AND (t.created_at < {created} \
                             OR (t.created_at = {created} AND t.id < {id}))"
                        )
                    }
                    _ => String::new(),
                };
                let matches = format!("t.search @@ to_tsquery('dueflow', {m})");
                let newest = "ORDER BY t.created_at DESC, t.id DESC";
                let probe = format!(
                    "SELECT {TASK_COLUMNS}, {base} - t.created_at AS k0 FROM (\
                     SELECT * FROM tasks t WHERE t.user_id = {user} AND {filter}{after} \
                     {newest} LIMIT {window}) t WHERE {matches} {newest} LIMIT {limit}",
                    window = limit * PROBE_WINDOW,
                );
                let page = format!(
                    "SELECT t.id AS pid, {base} - t.created_at AS k0 FROM tasks t \
                     WHERE t.user_id = {user} AND {matches} AND {filter}{after} \
                     {newest} LIMIT {limit}"
                );
                (page, "t.id = p.pid", "DESC", Some(probe))
            }
        };
        parts.push(Part {
            sql: whole_rows(&page, on, 1, "p.k0 ASC, ", id_dir),
            params: b.params,
            probe,
        });
    }
    Ok(parts)
}
