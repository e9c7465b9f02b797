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
    /// Where to POST, `https://…` (or `http://…`), at most 2000 characters.
    #[schema(
        format = "uri",
        min_length = 1,
        max_length = 2000,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\u0000]*$"
    )]
    url: String,
    /// Event types to receive, by short name.
    #[schema(min_items = 1, inline)]
    events: Vec<EventName>,
    /// `whsec_…` signing secret; generated when left out.
    #[schema(
        pattern = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/]{4}(?:[A-Za-z0-9+/][AQgw]==)?|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"
    )]
    secret: Option<String>,
}

/// An event type's short name, e.g. `reminder.due` or `task.completed`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct EventName(String);

impl utoipa::PartialSchema for EventName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(
                dueflow_domain::event::EventType::ALL
                    .into_iter()
                    .map(|t| t.short()),
            ))
            .into()
    }
}

impl ToSchema for EventName {}

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
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// How many, newest first, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = NewWebhook,
    responses((status = 201, body = NewWebhookInfo),
        (status = 400, description = "a field is invalid, or the URL is not an allowed target"),
        (status = 409, description = "the user has the most endpoints allowed")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(n): Json<NewWebhook>,
) -> Result<(StatusCode, axum::Json<NewWebhookInfo>), ApiError> {
    let events: Vec<String> = n.events.into_iter().map(|EventName(e)| e).collect();
    let w = state
        .app
        .create_webhook(&user, &n.url, &events, n.secret.as_deref())
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

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, body = Vec<WebhookInfo>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<Vec<WebhookInfo>>, ApiError> {
    let hooks = state.app.webhooks(&user).await?;
    Ok(axum::Json(hooks.into_iter().map(Into::into).collect()))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such webhook")),
    security(("bearer" = [])))]
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
    #[schema(
        pattern = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/]{4}(?:[A-Za-z0-9+/][AQgw]==)?|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"
    )]
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

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = String, Path, description = "webhook id")), request_body = NewSecret,
    responses((status = 200, body = RotatedSecret),
        (status = 400, description = "the secret given is not a `whsec_…` secret of 24–64 bytes"),
        (status = 404, description = "no such webhook")),
    security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = String, Path, description = "webhook id"), DeliveryParams),
    responses((status = 200, body = Vec<Delivery>, description = "newest first"),
        (status = 400, description = "`limit` is out of range"),
        (status = 404, description = "no such webhook")),
    security(("bearer" = [])))]
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
    operation_id = "redeliver_webhook_delivery",
    params(("id" = String, Path, description = "webhook id"), ("delivery_id" = String, Path, description = "delivery id")),
    responses((status = 202, description = "queued to be sent again now"),
        (status = 404, description = "no such webhook or delivery")),
    security(("bearer" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.app.redeliver(&user, &id, &delivery_id).await?;
    Ok(StatusCode::ACCEPTED)
}
