//! `/api/v1/activity`: the caller's activity log — every event about their
//! tasks, as CloudEvents — newest first, filtered by task, type and time.

use axum::extract::State;
use chrono::DateTime;
use dueflow_domain::event::EventType;
use dueflow_store::ActivityQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page::{decode_cursor, encode_cursor, page_size};
use crate::auth::CurrentUser;
use crate::json::Query;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Only events about this task id.
    task: Option<String>,
    /// Only this event type, by its short name or its full type.
    #[serde(rename = "type")]
    #[param(schema_with = event_type_names)]
    kind: Option<String>,
    /// Only events at or after this RFC 3339 instant.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only events before this RFC 3339 instant.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page, as it was given (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

/// Every event type, short (`task.completed`) and full (`dueflow.task.completed.v1`).
fn event_type_names() -> utoipa::openapi::schema::Object {
    let names = EventType::ALL
        .into_iter()
        .flat_map(|t| [t.short(), t.as_str()]);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .build()
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    /// CloudEvents 1.0 documents, newest first.
    items: Vec<serde_json::Value>,
    next_cursor: Option<String>,
}

fn instant(field: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|_| ApiError::invalid(field, format!("'{s}' is not an RFC 3339 date-time")))
    })
    .transpose()
}

#[utoipa::path(get, path = "/api/v1/activity", tag = "activity", operation_id = "list_activity",
    params(ActivityParams),
    responses((status = 200, body = ActivityPage),
        (status = 400, description = "a parameter or the cursor is invalid")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<ActivityParams>,
) -> Result<axum::Json<ActivityPage>, ApiError> {
    let limit = page_size(p.limit)?;
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            EventType::parse(k)
                .map(|t| t.as_str().to_owned())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "type",
                        format!("unknown event type '{k}'; e.g. task.created, task.completed"),
                    )
                })
        })
        .transpose()?;
    let q = ActivityQuery {
        task: p.task,
        kind,
        since_ms: instant("since", p.since.as_deref())?,
        until_ms: instant("until", p.until.as_deref())?,
        before: p
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit: limit + 1,
    };
    let mut rows = state.store.list_activity(&user.id, &q).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|(t, id, _)| encode_cursor(*t, id));
    let items = rows
        .into_iter()
        .map(|(_, _, payload)| serde_json::from_str(&payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::Internal(format!("stored event unreadable: {e}")))?;
    Ok(axum::Json(ActivityPage { items, next_cursor }))
}
