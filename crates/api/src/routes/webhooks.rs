//! `/api/v1/webhooks`: the caller's webhook endpoints (Standard Webhooks:
//! the signing secret is generated, or given, and shown once), their
//! delivery logs, and manual redelivery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dueflow_store::{Delivery, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST, `https://…` (or `http://…`).
    url: String,
    /// Event types to receive, e.g. `["reminder.due", "task.completed"]`.
    events: Vec<String>,
    /// `whsec_…` signing secret; generated when left out.
    secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookInfo {
    id: String,
    url: String,
    events: Vec<String>,
    enabled: bool,
    /// Why the server turned it off, e.g. the receiver answered 410 Gone.
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookInfo {
    fn from(w: Webhook) -> Self {
        WebhookInfo {
            id: w.id,
            url: w.url,
            events: w.events,
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            created_at: w.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NewWebhookInfo {
    #[serde(flatten)]
    info: WebhookInfo,
    /// The signing secret; shown this once only.
    secret: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// How many, newest first, 1–200 (default 50).
    limit: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = NewWebhookInfo), (status = 400)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(n): Json<NewWebhook>,
) -> Result<(StatusCode, axum::Json<NewWebhookInfo>), ApiError> {
    let w = state
        .app
        .create_webhook(&user, &n.url, &n.events, n.secret.as_deref())
        .await?;
    let secret = w.secret.clone();
    Ok((
        StatusCode::CREATED,
        axum::Json(NewWebhookInfo {
            info: w.into(),
            secret,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookInfo>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<WebhookInfo>>, ApiError> {
    let hooks = state.app.webhooks(&user).await?;
    Ok(axum::Json(hooks.into_iter().map(Into::into).collect()))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_webhook(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    /// `whsec_…` and base64 of 24–64 bytes; generated when left out.
    secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret; shown this once only.
    secret: String,
    /// Until then messages carry a signature with the previous secret too
    /// (space-separated in `webhook-signature`), so the receiver can switch.
    previous_valid_until: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks",
    params(("id" = String, Path)), request_body = NewSecret,
    responses((status = 200, body = RotatedSecret), (status = 404)), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(n): Json<NewSecret>,
) -> Result<axum::Json<RotatedSecret>, ApiError> {
    let (secret, previous_valid_until) = state
        .app
        .rotate_webhook_secret(&user, &id, n.secret.as_deref())
        .await?;
    Ok(axum::Json(RotatedSecret {
        secret,
        previous_valid_until,
    }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), DeliveryParams),
    responses((status = 200, body = Vec<Delivery>), (status = 404)), security(("bearer" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(p): Query<DeliveryParams>,
) -> Result<axum::Json<Vec<Delivery>>, ApiError> {
    Ok(axum::Json(
        state.app.webhook_deliveries(&user, &id, p.limit).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, description = "queued to be sent again now"), (status = 404)), security(("bearer" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.redeliver(&user, &id, &delivery_id).await?;
    Ok(StatusCode::ACCEPTED)
}
