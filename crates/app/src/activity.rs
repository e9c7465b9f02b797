//! The activity log: every event about the caller's tasks, as the
//! CloudEvents they were published as, newest first, filtered by task,
//! type and time.

use chrono::DateTime;
use dueflow_domain::event::EventType;
use dueflow_store::{ActivityQuery, User};

use crate::paging::{cut, decode_cursor, page_size};
use crate::{App, AppError};

/// Which activity a caller asks for, before it is parsed.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Only events about this task id.
    pub task: Option<String>,
    /// Only this event type, e.g. `task.completed` or `dueflow.task.completed.v1`.
    pub kind: Option<String>,
    /// Only events at or after this RFC 3339 instant.
    pub since: Option<String>,
    /// Only events before this RFC 3339 instant.
    pub until: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

fn instant(field: &str, v: Option<&str>) -> Result<Option<i64>, AppError> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|_| AppError::invalid(field, format!("'{s}' is not an RFC 3339 date-time")))
    })
    .transpose()
}

impl App {
    /// A page of CloudEvents documents, newest first, and the cursor of
    /// the next.
    pub async fn activity(
        &self,
        user: &User,
        f: &ActivityFilter,
    ) -> Result<(Vec<serde_json::Value>, Option<String>), AppError> {
        let limit = page_size(f.limit)?;
        let kind = f
            .kind
            .as_deref()
            .map(|k| {
                EventType::parse(k)
                    .map(|t| t.as_str().to_owned())
                    .ok_or_else(|| {
                        AppError::invalid(
                            "type",
                            format!("unknown event type '{k}'; e.g. task.created, task.completed"),
                        )
                    })
            })
            .transpose()?;
        let q = ActivityQuery {
            task: f.task.clone(),
            kind,
            since_ms: instant("since", f.since.as_deref())?,
            until_ms: instant("until", f.until.as_deref())?,
            before: decode_cursor(f.cursor.as_deref())?,
            limit: limit + 1,
        };
        let rows = self.store.list_activity(&user.id, &q).await?;
        let (rows, next) = cut(rows, limit, |(t, id, _)| (*t, id.as_str()));
        let items = rows
            .into_iter()
            .map(|(_, _, payload)| serde_json::from_str(&payload))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                tracing::error!(error = %e, "a stored event is unreadable");
                AppError::Internal
            })?;
        Ok((items, next))
    }
}
