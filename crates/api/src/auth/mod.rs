//! Who is calling: a bearer token (API token or login session) or the web
//! session cookie, resolved to a user through the token's fast digest (and
//! [`cache`], which spares the database most of those lookups).

pub mod cache;
pub mod client_address;
pub mod origin;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use dueflow_app::accounts::secret;
use dueflow_store::User;

use crate::problem::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "dueflow_session";

/// The authenticated user of a request.
pub struct CurrentUser(pub User);

/// The authenticated user of a request and the credential it came with.
pub struct Caller {
    pub user: User,
    /// The id of the token or session the request was made with.
    pub token_id: String,
    /// Its digest.
    pub digest: [u8; 32],
}

/// The request's token, and whether it came in the session cookie (the
/// `Authorization` header wins when both are sent).
fn credential(parts: &Parts) -> Option<(&str, bool)> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| (token.trim(), false));
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .map(|token| (token, true))
}

/// Who is calling. A request authenticated by the session cookie must also
/// come from this server's own pages when it changes something or opens a
/// live stream ([`origin`]).
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
    opens_stream: bool,
) -> Result<Caller, ApiError> {
    let (token, cookie) = credential(parts).ok_or(ApiError::Unauthorized)?;
    if cookie && origin::needs_check(&parts.method, opens_stream) {
        origin::check(parts, state.config.public_url.as_ref())?;
    }
    let digest = secret::digest(token);
    let now = chrono::Utc::now().timestamp_millis();
    let owner = match state.tokens.get(&digest, now) {
        Some(owner) => owner,
        None => {
            let ticket = state.tokens.ticket();
            let owner = state
                .store
                .user_by_token(&digest, now)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            state.tokens.put(ticket, digest, owner.clone());
            owner
        }
    };
    Ok(Caller {
        user: owner.user,
        token_id: owner.token_id,
        digest,
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, false).await
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(CurrentUser(authenticate(parts, state, false).await?.user))
    }
}

/// The session cookie holding `token` for `max_age_secs` (0: remove it).
/// HttpOnly: page scripts never read it. SameSite=Lax rather than Strict: a
/// link followed from another site (a reminder e-mail, a chat message) must
/// arrive logged in, and Lax withholds the cookie only from other sites'
/// subrequests and unsafe methods; whatever it still lets through is
/// refused unless its `Origin` is this server's ([`origin`]).
pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> HeaderValue {
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

/// Revoke one of `user`'s tokens or sessions, forget it here, and close
/// the live streams opened with it (other replicas stop accepting it
/// within their cache's lifetime).
pub async fn revoke(state: &AppState, user: &User, token_id: &str) -> Result<(), ApiError> {
    state.app.revoke_token(user, token_id).await?;
    state.tokens.forget_user(&user.id);
    state.streams.close_token(token_id);
    Ok(())
}
