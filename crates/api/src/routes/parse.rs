//! `/api/v1/parse`: what quick add understands in a line — the title left,
//! the due, recurrence, priority, tags and reminders, and where each phrase
//! stands — without creating anything, so that a client can show it while
//! the line is typed.

use axum::extract::State;
use dueflow_domain::quickadd::Parsed;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseRequest {
    /// The line, e.g. `dentist next friday at 3pm #health remind me 1 hour before`.
    #[schema(max_length = 2000)]
    text: String,
    /// The instant relative dates are read from; now when left out.
    #[schema(value_type = Option<String>, format = DateTime)]
    now: Option<String>,
    /// The zone dates and times are read in; yours when left out.
    #[schema(schema_with = dueflow_domain::zone::zone_schema)]
    tz: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/parse", tag = "tasks", operation_id = "parse_quick_add",
    request_body = ParseRequest,
    responses((status = 200, body = Parsed, description = "what the line says; spans count Unicode code points"),
        (status = 400, description = "the line is too long, or `now` or `tz` is invalid")),
    security(("bearer" = [])))]
pub async fn parse(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(r): Json<ParseRequest>,
) -> Result<axum::Json<Parsed>, ApiError> {
    let parsed = state
        .app
        .parse_quick_add(&user, &r.text, r.now.as_deref(), r.tz.as_deref())?;
    Ok(axum::Json(parsed))
}
