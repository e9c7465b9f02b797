//! `/api/v1/tasks`: create (also from a line of plain language), read, list
//! with the query language, change with
//! optimistic concurrency, delete, complete (the recurring role then creates
//! a recurring task's next occurrence, once), reopen, and preview upcoming
//! occurrences.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dueflow_app::{AppError, Expected, TaskListing};
use dueflow_domain::task::{NewTask, Task, TaskPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, PartialSchema, ToSchema};

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

/// A new task as the document describes it: the fields of `NewTask`, with
/// a `due` whenever a recurrence or a reminder before the due is given.
struct NewTaskBody;

impl utoipa::PartialSchema for NewTaskBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::Ref;
        use utoipa::openapi::schema::{
            AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, SchemaType, Type,
        };
        let with_due = ObjectBuilder::new()
            .property("due", ObjectBuilder::new().schema_type(Type::String))
            .required("due");
        let absolute_reminders = ArrayBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
            .items(ObjectBuilder::new().required("at"));
        let without_due = ObjectBuilder::new()
            .property("due", ObjectBuilder::new().schema_type(Type::Null))
            .property("recurrence", ObjectBuilder::new().schema_type(Type::Null))
            .property("reminders", absolute_reminders);
        AllOfBuilder::new()
            .item(Ref::from_schema_name(NewTask::name()))
            .item(AnyOfBuilder::new().item(with_due).item(without_due))
            .description(Some(
                "A recurrence, or a reminder `before` the due, needs the task to have a due",
            ))
            .into()
    }
}

impl ToSchema for NewTaskBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((NewTask::name().into_owned(), NewTask::schema()));
        <NewTask as ToSchema>::schemas(schemas);
    }
}

#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", operation_id = "create_task",
    request_body = NewTaskBody,
    responses((status = 201, body = Task, headers(("ETag" = String, description = "the task's version, quoted"),
            ("Location" = String, description = "the new task's URL"))),
        (status = 400, description = "a field is invalid")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Json(input): Json<NewTask>,
) -> Result<Response, ApiError> {
    let task = state.app.create_task(&user, input, trace).await?;
    Ok(created(&task))
}

/// 201 with the new task, its version and its URL.
fn created(task: &Task) -> Response {
    let mut res = with_etag(task, StatusCode::CREATED);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id)).expect("location"),
    );
    res
}

/// A line of plain language to make a task of.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickAdd {
    /// E.g. `pay rent every month on the 1st at 9am #bills !high`; read as
    /// `POST /api/v1/parse` reads it, in your time zone.
    #[schema(max_length = 2000, pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
    text: String,
}

#[utoipa::path(post, path = "/api/v1/tasks/quick", tag = "tasks", operation_id = "quick_add_task",
    request_body = QuickAdd,
    responses((status = 201, body = Task, headers(("ETag" = String, description = "the task's version, quoted"),
            ("Location" = String, description = "the new task's URL"))),
        (status = 400, description = "the line is too long, or leaves no title once its phrases are read")),
    security(("bearer" = [])))]
pub async fn quick_add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Json(q): Json<QuickAdd>,
) -> Result<Response, ApiError> {
    let task = state.app.quick_add(&user, &q.text, trace).await?;
    Ok(created(&task))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", operation_id = "get_task",
    params(("id" = String, Path, description = "task id")),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "the task's version, quoted"))),
        (status = 404, description = "no such task")),
    security(("bearer" = [])))]
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
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Query language (docs/query-language.md), e.g. `priority>=high tag:work -tag:home due<=7d "weekly report"`.
    #[param(format = "dueflow-query")]
    q: Option<String>,
    /// Sort keys, comma-separated, `-` for descending: due, priority, created, updated, title, urgency, relevance (only with search words in `q`); each at most once, at most 6.
    #[param(format = "dueflow-sort")]
    sort: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page, as it was given (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    items: Vec<Task>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", operation_id = "list_tasks", params(ListParams),
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

/// The version an `If-Match` header names: `"3"`, `W/"3"` or `3`, as the
/// document says (1 to 18 digits).
fn if_match(v: &HeaderValue) -> Result<Expected, ApiError> {
    let raw = v.to_str().unwrap_or("").trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let digits = (1..=18).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
    raw.parse()
        .ok()
        .filter(|_| digits)
        .map(Expected)
        .ok_or_else(|| {
            ApiError::invalid(
                "If-Match",
                "If-Match carries the task's version, e.g. \"3\"",
            )
        })
}

#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", operation_id = "update_task",
    request_body = TaskPatch,
    params(("id" = String, Path, description = "task id"),
        ("If-Match" = Option<String>, Header, pattern = r#"^\s*(W/)?("[0-9]{1,18}"|[0-9]{1,18})\s*$"#,
            description = "the version the change is based on, e.g. \"3\" (the ETag)")),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "the task's version, quoted"))),
        (status = 400, description = "a field is invalid"),
        (status = 404, description = "no such task"),
        (status = 409, description = "the body's `version` is stale, or the task changes too fast"),
        (status = 412, description = "`If-Match` names a stale version")),
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

#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks", operation_id = "delete_task",
    params(("id" = String, Path, description = "task id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such task")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_task(&user, &id, trace).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", operation_id = "complete_task",
    params(("id" = String, Path, description = "task id")),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "the task's version, quoted")),
            description = "done; completing a done task changes nothing. \
        The next occurrence of a recurring task follows from the recurring role, once."),
        (status = 404, description = "no such task"),
        (status = 409, description = "the task changes too fast")),
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

#[utoipa::path(post, path = "/api/v1/tasks/{id}/reopen", tag = "tasks", operation_id = "reopen_task",
    params(("id" = String, Path, description = "task id")),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "the task's version, quoted")),
            description = "open; reopening an open task changes nothing"),
        (status = 404, description = "no such task"),
        (status = 409, description = "the task changes too fast")),
    security(("bearer" = [])))]
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
#[into_params(parameter_in = Query)]
pub struct OccurrenceParams {
    /// How many upcoming due values, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}/occurrences", tag = "tasks", operation_id = "list_task_occurrences",
    params(("id" = String, Path, description = "task id"), OccurrenceParams),
    responses((status = 200, body = Vec<String>, description = "next due values after the current one \
            (`YYYY-MM-DD` or RFC 3339, like the task's `due`); empty when the task does not recur"),
        (status = 400, description = "`limit` is out of range"),
        (status = 404, description = "no such task")),
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
