//! `/api/v1/tags`: the caller's tags with how many tasks (and open tasks) carry each.

use axum::extract::State;
use dueflow_store::TagCount;

use crate::auth::CurrentUser;
use crate::problem::ApiError;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/tags", tag = "tasks", operation_id = "list_tags", responses((status = 200, body = Vec<TagCount>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<TagCount>>, ApiError> {
    Ok(axum::Json(state.app.tags(&user).await?))
}
