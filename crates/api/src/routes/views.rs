//! `/api/v1/views`: the caller's saved views, each a name for a query and
//! a sort (the web app lists them in its sidebar).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use dueflow_app::ViewFields;
use dueflow_store::SavedView;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    /// 1–80 characters, unique among the caller's views.
    #[schema(min_length = 1, max_length = 80, pattern = r"\S")]
    name: String,
    /// The query language, as `q` of `GET /api/v1/tasks`; empty (the
    /// default) lists every task.
    #[schema(format = "dueflow-query")]
    query: Option<String>,
    /// Sort keys, as `sort` of `GET /api/v1/tasks`; empty (the default)
    /// is the list's own order.
    #[schema(format = "dueflow-sort")]
    sort: Option<String>,
}

/// A change to a view: absent (or `null`) fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewPatch {
    /// 1–80 characters, unique among the caller's views.
    #[schema(min_length = 1, max_length = 80, pattern = r"\S")]
    name: Option<String>,
    /// The query language; empty lists every task.
    #[schema(format = "dueflow-query")]
    query: Option<String>,
    /// Sort keys; empty is the list's own order.
    #[schema(format = "dueflow-sort")]
    sort: Option<String>,
}

impl From<NewView> for ViewFields {
    fn from(b: NewView) -> Self {
        ViewFields {
            name: Some(b.name),
            query: b.query,
            sort: b.sort,
        }
    }
}

impl From<ViewPatch> for ViewFields {
    fn from(b: ViewPatch) -> Self {
        ViewFields {
            name: b.name,
            query: b.query,
            sort: b.sort,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/views", tag = "tasks", operation_id = "list_views",
    responses((status = 200, body = Vec<SavedView>, description = "by name")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<SavedView>>, ApiError> {
    Ok(axum::Json(state.app.saved_views(&user).await?))
}

#[utoipa::path(post, path = "/api/v1/views", tag = "tasks", operation_id = "create_view",
    request_body = NewView,
    responses((status = 201, body = SavedView),
        (status = 400, description = "the name is blank or too long, or the query or sort does not parse"),
        (status = 409, description = "a view of that name exists, or the caller has 100 views")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(b): Json<NewView>,
) -> Result<(StatusCode, axum::Json<SavedView>), ApiError> {
    let view = state.app.create_saved_view(&user, b.into()).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(get, path = "/api/v1/views/{id}", tag = "tasks", operation_id = "get_view",
    params(("id" = String, Path, description = "view id")),
    responses((status = 200, body = SavedView), (status = 404, description = "no such view")),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<SavedView>, ApiError> {
    Ok(axum::Json(state.app.saved_view(&user, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/views/{id}", tag = "tasks", operation_id = "update_view",
    params(("id" = String, Path, description = "view id")), request_body = ViewPatch,
    responses((status = 200, body = SavedView, description = "the view as changed"),
        (status = 400, description = "a field is invalid; nothing was changed"),
        (status = 404, description = "no such view"),
        (status = 409, description = "another view has that name")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<ViewPatch>,
) -> Result<axum::Json<SavedView>, ApiError> {
    Ok(axum::Json(
        state.app.update_saved_view(&user, &id, b.into()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "tasks", operation_id = "delete_view",
    params(("id" = String, Path, description = "view id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such view")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_saved_view(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
