//! `/api/v1/activity`: the caller's activity log — every event about their
//! tasks, as CloudEvents — newest first, filtered by task, type and time.

use axum::extract::State;
use dueflow_app::ActivityFilter;
use dueflow_domain::event::EventType;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
