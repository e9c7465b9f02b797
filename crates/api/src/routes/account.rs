//! Accounts: open registration (when enabled), login with a session cookie
//! and token, and the caller's own profile (`/me`, including the time zone
//! that all-day dates and relative filters are read in).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use dueflow_app::ProfileChange;
use dueflow_domain::quickadd::DateOrder;
use dueflow_store::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::client_address::ClientAddress;
use crate::auth::{Caller, CurrentUser, revoke, session_cookie};
use crate::json::Json;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Profile {
    id: String,
    name: String,
    /// IANA zone; all-day dates and relative filters are read in it.
    tz: String,
    /// The user's e-mail address. Setting it mails it a code; reminders
    /// are mailed to it once that code is back (`email_verified`).
    email: Option<String>,
    /// Whether `email` is verified: only then does mail go to it.
    email_verified: bool,
    /// How the user writes numeric dates: quick add reads `3/4` as 3 April
    /// (`dmy`) or 4 March (`mdy`, `ymd`).
    date_order: DateOrder,
    created_at: chrono::DateTime<Utc>,
}

impl From<User> for Profile {
    fn from(u: User) -> Self {
        Profile {
            id: u.id,
            name: u.name,
            tz: u.tz.name().to_owned(),
            email: u.email,
            email_verified: u.email_verified,
            date_order: u.date_order,
            created_at: u.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// 1–64 of a–z, 0–9, `.`, `_`, `-` (upper case is folded to lower case).
    #[schema(pattern = r"^\s*[A-Za-z0-9._-]{1,64}\s*$")]
    name: String,
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
    /// IANA zone name; UTC when left out.
    #[schema(schema_with = dueflow_domain::zone::zone_schema)]
    tz: Option<String>,
    /// How the user writes numeric dates; `dmy` when left out.
    #[schema(value_type = Option<DateOrder>)]
    date_order: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", operation_id = "register",
    request_body = Register,
    responses((status = 201, body = Profile),
        (status = 400, description = "a field is invalid"),
        (status = 403, description = "registration is closed"),
        (status = 409, description = "the name is taken")))]
pub async fn register(
    State(state): State<AppState>,
    Json(r): Json<Register>,
) -> Result<(StatusCode, axum::Json<Profile>), ApiError> {
    let user = state
        .app
        .register(
            &r.name,
            r.password,
            r.tz.as_deref(),
            r.date_order.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    name: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Bearer token for this session (also set as an HttpOnly cookie).
    token: String,
    expires_at: chrono::DateTime<Utc>,
    user: Profile,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", operation_id = "login",
    request_body = Login,
    responses((status = 200, body = Session, headers(("Set-Cookie" = String, description = "the session cookie"))),
        (status = 400, description = "the body is malformed"),
        (status = 401, description = "wrong name or password"),
        (status = 429, description = "too many failed attempts; see `Retry-After`")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(l): Json<Login>,
) -> Result<Response, ApiError> {
    let session = state.app.log_in(&l.name, l.password, address).await?;
    let cookie = session_cookie(
        &state,
        &session.token,
        state.config.app.session_days * 86_400,
    );
    let mut res = axum::Json(Session {
        token: session.token,
        expires_at: session.expires_at,
        user: session.user.into(),
    })
    .into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", operation_id = "log_out",
    description = "Revoke the credential of this request (the session cookie's, or the bearer \
        session or API token), close the live streams opened with it, and remove the cookie.",
    responses(
        (status = 204, description = "logged out; the session cookie is removed"),
        (status = 401, description = "no valid session or token", content_type = "application/problem+json"),
        (status = 403, description = "sent with the session cookie from another site's page", content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    revoke(&state, &caller.user, &caller.token_id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", operation_id = "get_profile", responses((status = 200, body = Profile)), security(("bearer" = [])))]
pub async fn me(CurrentUser(user): CurrentUser) -> axum::Json<Profile> {
    axum::Json(user.into())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// IANA zone name, e.g. Europe/Berlin.
    #[schema(schema_with = dueflow_domain::zone::zone_schema)]
    tz: Option<String>,
    /// How the user writes numeric dates: `dmy`, `mdy` or `ymd`.
    #[schema(value_type = Option<DateOrder>)]
    date_order: Option<String>,
    /// Address reminders are mailed to, once verified: a new address is
    /// mailed a code and is unverified until the code comes back
    /// (`POST /api/v1/auth/verify-email`); the current one changes
    /// nothing; `null` removes it and stops the mails.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    email: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", operation_id = "update_profile",
    request_body = ProfilePatch,
    responses(
        (status = 200, body = Profile, description = "the profile as changed"),
        (status = 400, body = Problem, content_type = "application/problem+json",
            description = "a field is invalid; nothing was changed"),
        (status = 401, body = Problem, content_type = "application/problem+json",
            description = "no valid token or session"),
        (status = 409, body = Problem, content_type = "application/problem+json",
            description = "a new address cannot be verified: this server sends no mail; nothing was changed"),
        (status = 413, body = Problem, content_type = "application/problem+json",
            description = "the body is too large"),
        (status = 429, body = Problem, content_type = "application/problem+json",
            description = "a verification mail went out less than a minute ago, or the day's mails are used up; nothing was changed",
            headers(("Retry-After" = u64, description = "seconds until a mail can be sent"))),
    ),
    security(("bearer" = [])))]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(p): Json<ProfilePatch>,
) -> Result<axum::Json<Profile>, ApiError> {
    let change = ProfileChange {
        tz: p.tz.as_deref(),
        date_order: p.date_order.as_deref(),
        email: p.email.as_ref().map(Option::as_deref),
    };
    let user = state.app.update_profile(&user, change).await?;
    // After the change, so that no lookup can put the old profile back.
    state.tokens.forget_user(&user.id);
    Ok(axum::Json(user.into()))
}
