//! E-mail address verification over HTTP: `POST /auth/verify-email` takes
//! back the code mailed to an address (no login: the code proves the
//! mailbox), and `POST /me/email/verification` mails a new one. Setting an
//! address (`PATCH /me`) mails the first.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::json::Json;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct VerificationSent {
    /// The address the mail goes to.
    email: String,
    /// Until when the mailed code verifies it.
    expires_at: DateTime<Utc>,
}

/// Mail a new verification code to the caller's address.
#[utoipa::path(post, path = "/api/v1/me/email/verification", tag = "accounts",
    operation_id = "send_email_verification",
    responses(
        (status = 202, body = VerificationSent, description = "a mail with a new code is on its way"),
        (status = 401, body = Problem, content_type = "application/problem+json",
            description = "no valid token or session"),
        (status = 409, body = Problem, content_type = "application/problem+json",
            description = "no address to verify, the address is verified already, or this server sends no mail"),
        (status = 429, body = Problem, content_type = "application/problem+json",
            description = "a mail went out less than a minute ago, or the day's mails are used up",
            headers(("Retry-After" = u64, description = "seconds until a mail can be sent"))),
    ),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<(StatusCode, axum::Json<VerificationSent>), ApiError> {
    let sent = state.app.send_email_verification(&user).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(VerificationSent {
            email: sent.email,
            expires_at: sent.expires_at,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The `dfv_…` code from the verification mail.
    token: String,
}

#[derive(Serialize, ToSchema)]
pub struct EmailVerified {
    /// The address now verified: reminders are mailed to it.
    email: String,
    email_verified: bool,
}

/// Verify the address a code was mailed to (no login needed: the code
/// proves the mailbox).
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "accounts",
    operation_id = "verify_email_address", request_body = VerifyEmail,
    responses(
        (status = 200, body = EmailVerified, description = "the address is verified"),
        (status = 400, body = Problem, content_type = "application/problem+json",
            description = "the code is unknown, used or expired, or its address is no longer the account's: ask for a new mail"),
        (status = 413, body = Problem, content_type = "application/problem+json",
            description = "the body is too large"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Json(v): Json<VerifyEmail>,
) -> Result<axum::Json<EmailVerified>, ApiError> {
    let user = state.app.verify_email(&v.token).await?;
    // So that no cached lookup shows the address unverified.
    state.tokens.forget_user(&user.id);
    Ok(axum::Json(EmailVerified {
        email: user.email.unwrap_or_default(),
        email_verified: user.email_verified,
    }))
}
