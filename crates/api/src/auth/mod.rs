//! Who is calling: a bearer token (API token or login session) or the web
//! session cookie, resolved to a user through the token's fast digest (and
//! [`cache`], which spares the database most of those lookups).

pub mod cache;
pub mod client_address;
pub mod limiter;
pub mod password;
pub mod secret;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use dueflow_store::User;

use crate::problem::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "dueflow_session";

/// The authenticated user of a request.
pub struct CurrentUser(pub User);

fn bearer(parts: &Parts) -> Option<&str> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let digest = secret::digest(token);
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(user) = state.tokens.get(&digest, now) {
            return Ok(CurrentUser(user));
        }
        let ticket = state.tokens.ticket();
        let owner = state
            .store
            .user_by_token(&digest, now)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let user = owner.user.clone();
        state.tokens.put(ticket, digest, owner);
        Ok(CurrentUser(user))
    }
}
