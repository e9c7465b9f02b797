//! Accounts: open registration (when enabled), login with a session cookie
//! and token, and the caller's own profile (`/me`, including the time zone
//! that all-day dates and relative filters are read in).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::zone::parse_zone;
use dueflow_store::{TokenKind, TokenRecord, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::client_address::ClientAddress;
use crate::auth::{Caller, CurrentUser, SESSION_COOKIE, password, secret};
use crate::json::Json;
use crate::problem::{ApiError, Problem};
use crate::routes::email_verification::change_address;
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
            created_at: u.created_at,
        }
    }
}

/// Check an e-mail address enough to catch typos; the mail server has the
/// last word.
fn email_address(raw: &str) -> Result<String, ApiError> {
    let e = raw.trim();
    let bad = || {
        ApiError::invalid(
            "email",
            format!("'{e}' is not an e-mail address like ann@example.com"),
        )
    };
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok = e.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    if ok { Ok(e.to_owned()) } else { Err(bad()) }
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Normalise and check a user name: 1–64 of a–z, 0–9, `.`, `_`, `-`.
pub fn user_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::invalid(
            "name",
            "a user name has 1–64 characters: letters a–z, digits, '.', '_' or '-'",
        ))
    }
}

/// Create a user (shared by registration and `dueflow user add`).
pub async fn create_user(
    state: &AppState,
    name: &str,
    pass: String,
    tz: Option<&str>,
) -> Result<User, ApiError> {
    let name = user_name(name)?;
    password::check_policy(&pass)?;
    let tz = tz
        .map(|t| parse_zone("tz", t))
        .transpose()?
        .unwrap_or(chrono_tz::UTC);
    let hash = password::hash(pass).await?;
    let user = User {
        id: new_id(IdKind::User),
        name,
        tz,
        created_at: Utc::now(),
        email: None,
        email_verified: false,
    };
    match state.store.create_user(&user, &hash).await {
        Err(dueflow_store::StoreError::Conflict(_)) => Err(ApiError::Conflict(format!(
            "the name '{}' is taken",
            user.name
        ))),
        other => other.map(|()| user).map_err(Into::into),
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
    if !state.config.open_registration {
        return Err(ApiError::Forbidden(
            "registration is closed on this server; ask its operator for an account".into(),
        ));
    }
    let user = create_user(&state, &r.name, r.password, r.tz.as_deref()).await?;
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
    let name = l.name.trim().to_lowercase();
    // Counted before the check, so that parallel guesses meet the limit.
    let attempt = state
        .limiter
        .attempt(&name, address)
        .map_err(|retry_after_secs| ApiError::TooManyRequests {
            detail: format!("too many failed attempts; try again in {retry_after_secs} s"),
            retry_after_secs,
        })?;
    let found = match state.store.user_credentials(&name).await {
        Ok(found) => found,
        Err(e) => {
            state.limiter.withdraw(attempt);
            return Err(e.into());
        }
    };
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = match password::verify(l.password, hash).await {
        Ok(ok) => ok,
        Err(busy) => {
            state.limiter.withdraw(attempt);
            return Err(busy);
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::Unauthorized);
    };
    state.limiter.succeeded(attempt);
    let token = secret::generate();
    let now = Utc::now();
    let expires_at = now + Duration::days(state.config.session_days);
    let record = TokenRecord {
        id: new_id(IdKind::Token),
        user_id: user.id.clone(),
        name: "web session".into(),
        kind: TokenKind::Session,
        created_at: now,
        expires_at: Some(expires_at),
    };
    state
        .store
        .insert_token(&record, &secret::digest(&token))
        .await?;
    let cookie = session_cookie(&state, &token, state.config.session_days * 86_400);
    let mut res = axum::Json(Session {
        token,
        expires_at,
        user: user.into(),
    })
    .into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(res)
}

/// The session cookie holding `token` for `max_age_secs` (0: remove it).
/// HttpOnly: page scripts never read it. SameSite=Lax rather than Strict: a
/// link followed from another site (a reminder e-mail, a chat message) must
/// arrive logged in, and Lax withholds the cookie only from other sites'
/// subrequests and unsafe methods; whatever it still lets through is
/// refused unless its `Origin` is this server's (`auth::origin`).
fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&cookie).expect("cookie is ASCII")
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
    state
        .store
        .revoke_token(&caller.user.id, &caller.token_id)
        .await?;
    state.tokens.forget_user(&caller.user.id);
    state.streams.close_token(&caller.token_id);
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
    /// Address reminders are mailed to, once verified: a new address is
    /// mailed a code and is unverified until the code comes back
    /// (`POST /api/v1/auth/verify-email`); the current one changes
    /// nothing; `null` removes it and stops the mails.
    #[serde(default, deserialize_with = "present")]
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
    // Everything is checked before anything changes.
    let tz = p.tz.as_deref().map(|t| parse_zone("tz", t)).transpose()?;
    let email = p
        .email
        .map(|e| e.as_deref().map(email_address).transpose())
        .transpose()?;
    let mut user = user;
    // The address first: it is the change that can be refused.
    match email {
        Some(Some(address)) => user = change_address(&state, &user, &address).await?,
        Some(None) => {
            user = state
                .store
                .clear_email(&user.id)
                .await?
                .ok_or(ApiError::NotFound)?;
        }
        None => {}
    }
    if let Some(tz) = tz {
        user = state
            .store
            .set_user_tz(&user.id, tz)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    // After the change, so that no lookup can put the old profile back.
    state.tokens.forget_user(&user.id);
    Ok(axum::Json(user.into()))
}
