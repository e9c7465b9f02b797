//! `/api/v1/webhooks`: the caller's webhook endpoints (Standard Webhooks:
//! the signing secret is generated, or given, and shown once), their
//! delivery logs, and manual redelivery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::webhook::{check_url, format_secret, parse_event, secret_key};
use dueflow_store::{Delivery, Webhook};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page::page_size;
use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;

/// Endpoints one user may register.
const MAX_ENDPOINTS: usize = 20;
const URL_MAX: usize = 2_000;

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

fn validate(n: &NewWebhook, allow_private: bool) -> Result<(Vec<String>, String), ApiError> {
    if n.url.len() > URL_MAX {
        return Err(ApiError::invalid(
            "url",
            format!("a URL has at most {URL_MAX} characters"),
        ));
    }
    check_url(&n.url, allow_private).map_err(|e| ApiError::invalid("url", e))?;
    if n.events.is_empty() {
        return Err(ApiError::invalid(
            "events",
            "name at least one event type, e.g. reminder.due",
        ));
    }
    let mut events = Vec::with_capacity(n.events.len());
    for (i, e) in n.events.iter().enumerate() {
        let kind =
            parse_event(e.trim()).map_err(|m| ApiError::invalid(&format!("events[{i}]"), m))?;
        let short = kind.short().to_owned();
        if !events.contains(&short) {
            events.push(short);
        }
    }
    Ok((events, signing_secret(n.secret.as_deref())?))
}

/// The `whsec_…` secret given, checked, or a new random one.
fn signing_secret(given: Option<&str>) -> Result<String, ApiError> {
    match given {
        Some(s) => {
            secret_key(s).map_err(|e| ApiError::invalid("secret", e))?;
            Ok(s.to_owned())
        }
        None => {
            let mut key = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut key);
            Ok(format_secret(&key))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = NewWebhookInfo), (status = 400)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(n): Json<NewWebhook>,
) -> Result<(StatusCode, axum::Json<NewWebhookInfo>), ApiError> {
    let (events, secret) = validate(&n, state.config.webhooks_allow_private)?;
    if state.store.list_webhooks(&[&user.id]).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::Conflict(format!(
            "a user has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
        )));
    }
    let w = Webhook {
        id: new_id(IdKind::Webhook),
        user_id: user.id.clone(),
        url: n.url,
        events,
        secret: secret.clone(),
        enabled: true,
        disabled_reason: None,
        created_at: Utc::now(),
    };
    state.store.insert_webhook(&w).await?;
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
    let hooks = state.store.list_webhooks(&[&user.id]).await?;
    Ok(axum::Json(hooks.into_iter().map(Into::into).collect()))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_webhook(&user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// How long the previous secret keeps signing after a rotation.
const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

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
    let secret = signing_secret(n.secret.as_deref())?;
    let until = Utc::now() + ROTATION_OVERLAP;
    if !state
        .store
        .rotate_webhook_secret(&user.id, &id, &secret, until)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    Ok(axum::Json(RotatedSecret {
        secret,
        previous_valid_until: until,
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
    let limit = page_size(p.limit)?;
    state
        .store
        .list_deliveries(&user.id, &id, limit)
        .await?
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, description = "queued to be sent again now"), (status = 404)), security(("bearer" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .redeliver(&user.id, &id, &delivery_id, Utc::now())
        .await?
    {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::NotFound)
    }
}
