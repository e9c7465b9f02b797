//! `/api/v1/activity`: the caller's activity log — every event about their
//! tasks, as CloudEvents — newest first, filtered by task, type and time.

use axum::extract::State;
use dueflow_app::ActivityFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::json::Query;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivityParams {
    /// Only events about this task id.
    task: Option<String>,
    /// Only this event type, e.g. `task.completed` or `dueflow.task.completed.v1`.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Only events at or after this RFC 3339 instant.
    since: Option<String>,
    /// Only events before this RFC 3339 instant.
    until: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    /// CloudEvents 1.0 documents, newest first.
    items: Vec<serde_json::Value>,
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/activity", tag = "activity", params(ActivityParams),
    responses((status = 200, body = ActivityPage), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<ActivityParams>,
) -> Result<axum::Json<ActivityPage>, ApiError> {
    let filter = ActivityFilter {
        task: p.task,
        kind: p.kind,
        since: p.since,
        until: p.until,
        limit: p.limit,
        cursor: p.cursor,
    };
    let (items, next_cursor) = state.app.activity(&user, &filter).await?;
    Ok(axum::Json(ActivityPage { items, next_cursor }))
}
