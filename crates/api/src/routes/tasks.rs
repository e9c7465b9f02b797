//! `/api/v1/tasks`: create, read, list with the query language, change with
//! optimistic concurrency, delete, complete (the recurring role then creates
//! a recurring task's next occurrence, once), reopen, and preview upcoming
//! occurrences.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dueflow_app::{AppError, Expected, TaskListing};
use dueflow_domain::task::{NewTask, Task, TaskPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::trace::RequestTrace;

fn with_etag(task: &Task, status: StatusCode) -> Response {
    let mut res = (status, axum::Json(task)).into_response();
    res.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", task.version)).expect("etag"),
    );
    res
}

#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = NewTask,
    responses((status = 201, body = Task), (status = 400, description = "invalid field")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Json(input): Json<NewTask>,
) -> Result<Response, ApiError> {
    let task = state.app.create_task(&user, input, trace).await?;
    let mut res = with_etag(&task, StatusCode::CREATED);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id)).expect("location"),
    );
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "task id")),
    responses((status = 200, body = Task), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let task = state.app.task(&user, &id).await?;
    Ok(with_etag(&task, StatusCode::OK))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Query language, e.g. `priority>=high tag:work -tag:home due<=7d "weekly report"`.
    q: Option<String>,
    /// Sort keys, comma-separated, `-` for descending: due, priority, created, updated, title, urgency, relevance.
    sort: Option<String>,
    /// Page size, 1–500 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    items: Vec<Task>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListParams),
    responses((status = 200, body = TaskPage), (status = 400, description = "bad query, sort or cursor")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<TaskPage>, ApiError> {
    let listing = TaskListing {
        q: p.q.unwrap_or_default(),
        sort: p.sort.unwrap_or_default(),
        limit: p.limit,
        cursor: p.cursor,
    };
    let page = state.app.list_tasks(&user, &listing).await?;
    Ok(axum::Json(TaskPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`).
fn if_match(v: &HeaderValue) -> Result<Expected, ApiError> {
    let raw = v.to_str().unwrap_or("").trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    raw.parse().map(Expected).map_err(|_| {
        ApiError::invalid(
            "If-Match",
            "If-Match carries the task's version, e.g. \"3\"",
        )
    })
}

#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskPatch,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "version the change is based on")),
    responses((status = 200, body = Task), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<TaskPatch>,
) -> Result<Response, ApiError> {
    let (expected, header) = match headers.get(header::IF_MATCH) {
        Some(v) => (Some(if_match(v)?), true),
        None => (patch.version.map(Expected), false),
    };
    match state
        .app
        .update_task(&user, &id, patch, expected, trace)
        .await
    {
        Ok(task) => Ok(with_etag(&task, StatusCode::OK)),
        Err(e @ AppError::Stale { .. }) if header => Err(ApiError::PreconditionFailed(e.detail())),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_task(&user, &id, trace).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = Task, description = "done; completing a done task changes nothing. \
        The next occurrence of a recurring task follows from the recurring role, once."), (status = 404)),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let task = state.app.complete_task(&user, &id, trace).await?;
    Ok(with_etag(&task, StatusCode::OK))
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/reopen", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = Task), (status = 404)), security(("bearer" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let task = state.app.reopen_task(&user, &id, trace).await?;
    Ok(with_etag(&task, StatusCode::OK))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OccurrenceParams {
    /// How many upcoming due values, 1–100 (default 10).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}/occurrences", tag = "tasks",
    params(("id" = String, Path), OccurrenceParams),
    responses((status = 200, body = Vec<String>, description = "next due values after the current one"), (status = 404)),
    security(("bearer" = [])))]
pub async fn occurrences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<OccurrenceParams>,
) -> Result<axum::Json<Vec<String>>, ApiError> {
    Ok(axum::Json(
        state.app.occurrences(&user, &id, p.limit).await?,
    ))
}
