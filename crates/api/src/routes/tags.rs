//! `/api/v1/tags`: the caller's tags with how many tasks (and open tasks)
//! carry each; a tag's colour; renaming (or merging) and deleting a tag on
//! every task that carries it, each task changed with its own event.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use dueflow_app::TagChange;
use dueflow_store::TagCount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::trace::RequestTrace;

#[utoipa::path(get, path = "/api/v1/tags", tag = "tasks", operation_id = "list_tags", responses((status = 200, body = Vec<TagCount>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<TagCount>>, ApiError> {
    Ok(axum::Json(state.app.tags(&user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagPatch {
    /// A new name: every task carrying the tag gets it instead (a
    /// `task.updated` event each). A name that is a tag already merges the
    /// two.
    #[schema(pattern = r"^\s*[\w./-]{1,64}\s*$")]
    name: Option<String>,
    /// `#rrggbb`; `null` takes the colour away.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>, pattern = r"^[ \t\n\r]*#[0-9A-Fa-f]{6}[ \t\n\r]*$")]
    colour: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/tags/{name}", tag = "tasks", operation_id = "update_tag",
    params(("name" = String, Path, description = "the tag")), request_body = TagPatch,
    responses((status = 200, body = TagCount, description = "the tag as changed (under its new name)"),
        (status = 400, description = "the new name or the colour is invalid; nothing was changed"),
        (status = 404, description = "no task carries the tag")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(name): Path<String>,
    Json(p): Json<TagPatch>,
) -> Result<axum::Json<TagCount>, ApiError> {
    let change = TagChange {
        name: p.name,
        colour: p.colour,
    };
    let tag = state.app.update_tag(&user, &name, change, trace).await?;
    Ok(axum::Json(tag))
}

#[derive(Serialize, ToSchema)]
pub struct TagDeleted {
    /// How many tasks lost the tag.
    tasks: usize,
}

#[utoipa::path(delete, path = "/api/v1/tags/{name}", tag = "tasks", operation_id = "delete_tag",
    params(("name" = String, Path, description = "the tag")),
    responses((status = 200, body = TagDeleted, description = "the tag is gone from every task (the tasks stay)"),
        (status = 404, description = "no task carries the tag")),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestTrace(trace): RequestTrace,
    Path(name): Path<String>,
) -> Result<(StatusCode, axum::Json<TagDeleted>), ApiError> {
    let tasks = state.app.delete_tag(&user, &name, trace).await?;
    Ok((StatusCode::OK, axum::Json(TagDeleted { tasks })))
}
