//! Accounts: open registration (when enabled), login with a session cookie
//! and token, and the caller's own profile (`/me`, including the time zone
//! that all-day dates and relative filters are read in).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::zone::parse_zone;
use dueflow_store::{TokenKind, TokenRecord, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, SESSION_COOKIE, password, secret};
use crate::json::Json;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Profile {
    id: String,
    name: String,
    /// IANA zone; all-day dates and relative filters are read in it.
    tz: String,
    /// Where reminders are mailed (when the server has an SMTP server).
    email: Option<String>,
    created_at: chrono::DateTime<Utc>,
}

impl From<User> for Profile {
    fn from(u: User) -> Self {
        Profile {
            id: u.id,
            name: u.name,
            tz: u.tz.name().to_owned(),
            email: u.email,
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
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(l): Json<Login>,
) -> Result<Response, ApiError> {
    let name = l.name.trim().to_lowercase();
    let address = addr.ip().to_string();
    if let Some(retry_after_secs) = state.limiter.blocked(&name, &address) {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let found = state.store.user_credentials(&name).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = password::verify(l.password, hash).await;
    let Some(user) = user.filter(|_| ok) else {
        state.limiter.record_failure(&name, &address);
        return Err(ApiError::Unauthorized);
    };
    state.limiter.record_success(&name);
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
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        state.config.session_days * 86_400,
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut res = axum::Json(Session {
        token,
        expires_at,
        user: user.into(),
    })
    .into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("cookie is ASCII"),
    );
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
    /// Address reminders are mailed to; `null` stops the mails.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    email: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", operation_id = "update_profile",
    request_body = ProfilePatch,
    responses((status = 200, body = Profile), (status = 400, description = "a field is invalid")),
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
    if let Some(tz) = tz {
        user = state
            .store
            .set_user_tz(&user.id, tz)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    if let Some(email) = email {
        user = state
            .store
            .set_user_email(&user.id, email.as_deref())
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    // After the change, so that no lookup can put the old profile back.
    state.tokens.forget_user(&user.id);
    Ok(axum::Json(user.into()))
}
