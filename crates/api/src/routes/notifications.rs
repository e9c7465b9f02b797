//! `/api/v1/notifications`: the caller's in-app notifications (one per
//! fired reminder), newest first, and marking one read; and
//! `/api/v1/me/reminder-channels`, where the caller's reminders go.

use axum::extract::{Path, State};
use dueflow_store::{Notification, ReminderChannels};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread ones.
    unread: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page, as it was given (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    items: Vec<Notification>,
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", operation_id = "list_notifications",
    params(NotificationParams),
    responses((status = 200, body = NotificationPage, description = "newest first"),
        (status = 400, description = "a parameter or the cursor is invalid")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<NotificationParams>,
) -> Result<axum::Json<NotificationPage>, ApiError> {
    let (items, next_cursor) = state
        .app
        .notifications(
            &user,
            p.unread.unwrap_or(false),
            p.limit,
            p.cursor.as_deref(),
        )
        .await?;
    Ok(axum::Json(NotificationPage { items, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    operation_id = "mark_notification_read", params(("id" = String, Path, description = "notification id")),
    responses((status = 200, body = Notification), (status = 404, description = "no such notification")),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<Notification>, ApiError> {
    Ok(axum::Json(state.app.read_notification(&user, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/me/reminder-channels", tag = "notifications", operation_id = "get_reminder_channels",
    responses((status = 200, body = ReminderChannels, description = "every channel for a user who never chose")),
    security(("bearer" = [])))]
pub async fn channels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<axum::Json<ReminderChannels>, ApiError> {
    Ok(axum::Json(state.app.reminder_channels(&user).await?))
}

#[utoipa::path(put, path = "/api/v1/me/reminder-channels", tag = "notifications", operation_id = "set_reminder_channels",
    request_body = ReminderChannels,
    responses((status = 200, body = ReminderChannels, description = "used from the next reminder that fires")),
    security(("bearer" = [])))]
pub async fn set_channels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(c): Json<ReminderChannels>,
) -> Result<axum::Json<ReminderChannels>, ApiError> {
    Ok(axum::Json(state.app.set_reminder_channels(&user, c).await?))
}
