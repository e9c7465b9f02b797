//! `/api/v1/reminders`: the caller's scheduled reminders (one per task and
//! instant), soonest first, and the two things a person does with one that
//! fired or is about to: snooze it to a later instant, or dismiss it.

use axum::extract::{Path, State};
use dueflow_app::SnoozeFor;
use dueflow_domain::reminder::schedule::ScheduledReminder;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReminderParams {
    /// Only this task's reminders.
    task: Option<String>,
    /// Only reminders in this state: pending, fired or dismissed.
    state: Option<String>,
    /// How many, 1–200 (default 50).
    limit: Option<u32>,
}

/// Exactly one of the two: an instant, or a duration from now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    /// RFC 3339 instant in the future.
    until: Option<String>,
    /// ISO 8601 duration from now, e.g. `PT10M`, `PT1H`, `P1D`.
    #[serde(rename = "for")]
    #[schema(rename = "for")]
    duration: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", params(ReminderParams),
    responses((status = 200, body = Vec<ScheduledReminder>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<ReminderParams>,
) -> Result<axum::Json<Vec<ScheduledReminder>>, ApiError> {
    let reminders = state
        .app
        .reminders(&user, p.task, p.state.as_deref(), p.limit)
        .await?;
    Ok(axum::Json(reminders))
}

#[utoipa::path(post, path = "/api/v1/reminders/{id}/snooze", tag = "reminders",
    params(("id" = String, Path)), request_body = Snooze,
    responses((status = 200, body = ScheduledReminder), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn snooze(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Json(s): Json<Snooze>,
) -> Result<axum::Json<ScheduledReminder>, ApiError> {
    let snooze = match (s.until, s.duration) {
        (Some(t), None) => SnoozeFor::Until(t),
        (None, Some(d)) => SnoozeFor::For(d),
        _ => {
            return Err(ApiError::Invalid {
                field: None,
                detail: "give either 'until' (an instant) or 'for' (a duration such as PT10M)"
                    .into(),
            });
        }
    };
    Ok(axum::Json(
        state.app.snooze_reminder(&user, &id, &snooze).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/reminders/{id}/dismiss", tag = "reminders",
    params(("id" = String, Path)),
    responses((status = 200, body = ScheduledReminder), (status = 404)), security(("bearer" = [])))]
pub async fn dismiss(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ScheduledReminder>, ApiError> {
    Ok(axum::Json(state.app.dismiss_reminder(&user, &id).await?))
}
