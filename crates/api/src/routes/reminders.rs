//! `/api/v1/reminders`: the caller's scheduled reminders (one per task and
//! instant), soonest first, and the two things a person does with one that
//! fired or is about to: snooze it to a later instant, or dismiss it.

use axum::extract::{Path, State};
use dueflow_app::SnoozeFor;
use dueflow_domain::reminder::Offset;
use dueflow_domain::reminder::schedule::{ReminderState, ScheduledReminder};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::CurrentUser;
use crate::json::{Json, Query};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReminderParams {
    /// Only this task's reminders.
    task: Option<String>,
    /// Only reminders in this state.
    #[param(value_type = Option<ReminderState>)]
    state: Option<String>,
    /// How many, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Exactly one of the two: an instant, or a duration from now.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    until: Option<String>,
    #[serde(rename = "for")]
    duration: Option<String>,
}

/// `{"until": instant}` or `{"for": duration}`, exactly one key.
impl utoipa::PartialSchema for Snooze {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let until = ObjectBuilder::new()
            .property(
                "until",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    .description(Some("RFC 3339 instant in the future"))
                    .examples(["2026-12-01T09:00:00+01:00"]),
            )
            .required("until")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let duration = ObjectBuilder::new()
            .property("for", <Offset as utoipa::PartialSchema>::schema())
            .required("for")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
        .item(until)
        .item(duration)
        .description(Some(
            "Exactly one of the two: an instant (`until`), or a duration from now (`for`, more than zero)",
        ))
        .into()
    }
}

impl utoipa::ToSchema for Snooze {}

#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", operation_id = "list_reminders",
    params(ReminderParams),
    responses((status = 200, body = Vec<ScheduledReminder>, description = "soonest first"),
        (status = 400, description = "a parameter is invalid")),
    security(("bearer" = [])))]
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

#[utoipa::path(post, path = "/api/v1/reminders/{id}/snooze", tag = "reminders", operation_id = "snooze_reminder",
    params(("id" = String, Path, description = "reminder id")), request_body = Snooze,
    responses((status = 200, body = ScheduledReminder),
        (status = 400, description = "neither or both of `until` and `for`, or an end not in the future"),
        (status = 404, description = "no such reminder")),
    security(("bearer" = [])))]
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

#[utoipa::path(post, path = "/api/v1/reminders/{id}/dismiss", tag = "reminders", operation_id = "dismiss_reminder",
    params(("id" = String, Path, description = "reminder id")),
    responses((status = 200, body = ScheduledReminder), (status = 404, description = "no such reminder")),
    security(("bearer" = [])))]
pub async fn dismiss(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<ScheduledReminder>, ApiError> {
    Ok(axum::Json(state.app.dismiss_reminder(&user, &id).await?))
}
