//! The activity log: every event as it was published, recorded once, and
//! its query, shared by both backends: filters by task, type and time,
//! newest first, keyset-paged on (time, id).

use async_trait::async_trait;
use dueflow_domain::event::Event;

use crate::listing::{Builder, Dialect, SqlValue};
use crate::row::RowAccess;
use crate::{ActivityQuery, Result};

#[async_trait]
pub trait Activity: Send + Sync {
    /// Record events (each with its CloudEvents JSON) in the activity log,
    /// in one transaction; events recorded already are left as they are.
    async fn record_activity(&self, events: &[(Event, String)]) -> Result<()>;
    /// A user's activity, newest first, as stored CloudEvents JSON:
    /// (time in ms, event id, payload).
    async fn list_activity(
        &self,
        user_id: &str,
        q: &ActivityQuery,
    ) -> Result<Vec<(i64, String, String)>>;
}

pub fn list_sql(dialect: Dialect, user_id: &str, q: &ActivityQuery) -> (String, Vec<SqlValue>) {
    let mut b = Builder::new(dialect);
    let mut wh = format!("user_id = {}", b.bind(SqlValue::Text(user_id.to_owned())));
    if let Some(t) = &q.task {
        wh += &format!(" AND subject = {}", b.bind(SqlValue::Text(t.clone())));
    }
    if let Some(k) = &q.kind {
        wh += &format!(" AND type = {}", b.bind(SqlValue::Text(k.clone())));
    }
    if let Some(s) = q.since_ms {
        wh += &format!(" AND time >= {}", b.bind(SqlValue::Int(s)));
    }
    if let Some(u) = q.until_ms {
        wh += &format!(" AND time < {}", b.bind(SqlValue::Int(u)));
    }
    if let Some((time, id)) = &q.before {
        let t = b.bind(SqlValue::Int(*time));
        let i = b.bind(SqlValue::Text(id.clone()));
        wh += &format!(" AND (time < {t} OR (time = {t} AND id < {i}))");
    }
    // A bounded integer, written into the SQL (a bound LIMIT makes SQLite
    // recompile the cached statement every time).
    let limit = q.limit.min(1_000);
    (
        format!(
            "SELECT time, id, payload FROM activity WHERE {wh} ORDER BY time DESC, id DESC LIMIT {limit}"
        ),
        b.params,
    )
}

/// Reads a row of [`list_sql`]: time, event id, payload.
pub(crate) fn entry<R: RowAccess>(row: &R) -> Result<(i64, String, String), R::Error> {
    Ok((row.at(0)?, row.at(1)?, row.at(2)?))
}
