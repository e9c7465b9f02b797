//! Personal API tokens: created (the secret is shown once), listed without
//! secrets, and revoked (which also closes the live streams opened with
//! them). Login sessions are listed too and revoke the same way.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use dueflow_store::TokenRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, CurrentUser};
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TokenInfo {
    id: String,
    name: String,
    /// `api` or `session`.
    kind: String,
    created_at: chrono::DateTime<Utc>,
    expires_at: Option<chrono::DateTime<Utc>>,
}

impl From<TokenRecord> for TokenInfo {
    fn from(t: TokenRecord) -> Self {
        TokenInfo {
            id: t.id,
            name: t.name,
            kind: t.kind.as_str().to_owned(),
            created_at: t.created_at,
            expires_at: t.expires_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenInfo {
    #[serde(flatten)]
    info: TokenInfo,
    /// The secret; shown this once only.
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "laptop CLI": 1–100 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    name: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", operation_id = "create_token",
    request_body = NewToken,
    responses((status = 201, body = NewTokenInfo), (status = 400, description = "the name is invalid")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(n): Json<NewToken>,
) -> Result<(StatusCode, axum::Json<NewTokenInfo>), ApiError> {
    let (record, token) = state.app.issue_token(&user.id, &n.name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewTokenInfo {
            info: record.into(),
            token,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", operation_id = "list_tokens", responses((status = 200, body = Vec<TokenInfo>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<TokenInfo>>, ApiError> {
    let tokens = state.app.tokens(&user).await?;
    Ok(axum::Json(tokens.into_iter().map(Into::into).collect()))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", operation_id = "revoke_token",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such token")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth::revoke(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
