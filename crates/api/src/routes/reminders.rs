//! `/api/v1/reminders`: the caller's scheduled reminders (one per task and
//! instant), soonest first, and the two things a person does with one that
//! fired or is about to: snooze it to a later instant, or dismiss it.

use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use dueflow_domain::reminder::Offset;
use dueflow_domain::reminder::schedule::{ReminderState, ScheduledReminder};
use dueflow_store::ReminderQuery;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::page::page_size;
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

impl Snooze {
    fn until(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
        let at = match (&self.until, &self.duration) {
            (Some(t), None) => DateTime::parse_from_rfc3339(t)
                .map_err(|_| {
                    ApiError::invalid("until", format!("'{t}' is not an RFC 3339 date-time"))
                })?
                .with_timezone(&Utc),
            (None, Some(d)) => {
                let offset: Offset = d.parse().map_err(|e| ApiError::invalid("for", e))?;
                now + Duration::days(i64::from(offset.days()))
                    + Duration::seconds(i64::from(offset.seconds()))
            }
            _ => {
                return Err(ApiError::Invalid {
                    field: None,
                    detail: "give either 'until' (an instant) or 'for' (a duration such as PT10M)"
                        .into(),
                });
            }
        };
        if at <= now {
            return Err(ApiError::invalid(
                if self.until.is_some() { "until" } else { "for" },
                "a snooze ends in the future",
            ));
        }
        Ok(at)
    }
}

#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", params(ReminderParams),
    responses((status = 200, body = Vec<ScheduledReminder>), (status = 400)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(p): Query<ReminderParams>,
) -> Result<axum::Json<Vec<ScheduledReminder>>, ApiError> {
    let limit = page_size(p.limit)?;
    let state_filter = p
        .state
        .as_deref()
        .map(|s| {
            ReminderState::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "state",
                    format!("unknown state '{s}'; use pending, fired or dismissed"),
                )
            })
        })
        .transpose()?;
    let q = ReminderQuery {
        task: p.task,
        state: state_filter,
        limit,
    };
    Ok(axum::Json(state.store.list_reminders(&user.id, &q).await?))
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
    let now = Utc::now();
    let until = s.until(now)?;
    state
        .store
        .snooze_reminder(&user.id, &id, until, now)
        .await?
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/reminders/{id}/dismiss", tag = "reminders",
    params(("id" = String, Path)),
    responses((status = 200, body = ScheduledReminder), (status = 404)), security(("bearer" = [])))]
pub async fn dismiss(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ScheduledReminder>, ApiError> {
    state
        .store
        .dismiss_reminder(&user.id, &id, Utc::now())
        .await?
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}
