//! The relevance window. Scoring every match of a common word costs one
//! score per match at every page, so a search sorted by relevance ranks only
//! the newest [`RELEVANCE_WINDOW`] tasks matching the whole query. The window
//! is taken as of the first page's "now" (carried in the cursor), so tasks
//! added while paging do not shift it, and pages within it stay exact.

use super::filter::{TextItem, fts5_match, tsquery};
use super::sql::{Builder, Dialect, SqlValue};

/// How many of the newest matches a relevance sort ranks.
pub const RELEVANCE_WINDOW: u32 = 1000;

/// `FROM … WHERE … ORDER BY … LIMIT` of the window: `user`'s newest matches
/// of `text` that satisfy `filter`, with the task as `t` (and, on SQLite,
/// `tasks_fts` positioned on it for `bm25`).
pub fn source(
    b: &mut Builder,
    user_id: &str,
    user: &str,
    text: &[TextItem],
    filter: &str,
    now_ms: i64,
) -> String {
    let now = b.bind(SqlValue::Int(now_ms));
    match b.dialect {
        // The owner-scoped MATCH walks the user's matches newest first (FTS5
        // rowid order is insertion order) and stops at the window's size, so
        // `bm25` runs for those rows only.
        Dialect::Sqlite => {
            let m = b.bind(SqlValue::Text(fts5_match(user_id, text)));
            format!(
                "FROM tasks_fts CROSS JOIN tasks t ON t.seq = tasks_fts.rowid \
                 WHERE tasks_fts MATCH {m} AND t.user_id = {user} AND t.created_at <= {now} \
                 AND {filter} ORDER BY tasks_fts.rowid DESC LIMIT {RELEVANCE_WINDOW}"
            )
        }
        // Ids are time-ordered, so the newest matches come first by id. The
        // limited subquery sorts ids only; `ts_rank` and the other keys are
        // computed on the window's rows. `created_at + 0` keeps the planner
        // on the (user_id, search) index rather than walking all of the
        // user's tasks by creation time.
        Dialect::Postgres => {
            let q = b.bind(SqlValue::Text(tsquery(text)));
            format!(
                "FROM (SELECT t.id AS wid FROM tasks t WHERE t.user_id = {user} \
                 AND t.search @@ to_tsquery('simple', dueflow_unaccent({q})) \
                 AND t.created_at + 0 <= {now} AND {filter} \
                 ORDER BY t.id DESC LIMIT {RELEVANCE_WINDOW}) c JOIN tasks t ON t.id = c.wid"
            )
        }
    }
}
