//! E-mail address verification. Setting an address (`PATCH /me`) mails it
//! a secret and leaves it unverified; product mail goes to it only after
//! the secret comes back through `POST /auth/verify-email`, which needs no
//! login: the secret proves the mailbox, and it verifies only the address
//! it was mailed to. `POST /me/email/verification` mails a new one, as
//! often as the store's limit allows.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::verification::{MAIL_GAP_MS, MAILS_PER_DAY};
use dueflow_store::{Requested, User, VerificationMail};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, secret};
use crate::json::Json;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// How long a mailed secret verifies its address.
const VALID_HOURS: i64 = 24;

/// A verification mail for `user`: a new secret, kept only as its digest
/// (and in the mail's text until the mail is sent).
fn mail(user: &User, now: DateTime<Utc>) -> VerificationMail {
    let code = secret::generate_verification();
    VerificationMail {
        id: new_id(IdKind::Verification),
        digest: secret::digest(&code),
        subject: "Confirm your e-mail address for dueflow".into(),
        body: format!(
            "Hello {name},\n\n\
             this address was given for the dueflow account '{name}'. To receive\n\
             reminders here, confirm it within {VALID_HOURS} hours with this code:\n\n\
             \x20   {code}\n\n\
             by sending it to your dueflow server:\n\n\
             \x20   POST /api/v1/auth/verify-email\n\
             \x20   {{\"token\": \"{code}\"}}\n\n\
             If you did not ask for this, ignore this mail: no reminders are\n\
             sent to an address that is not confirmed.\n",
            name = user.name
        ),
        expires_at: now + Duration::hours(VALID_HOURS),
    }
}

fn no_mail_server() -> ApiError {
    ApiError::Conflict(
        "this server sends no mail (its operator has configured no SMTP server), so an \
         e-mail address cannot be verified and would receive nothing; nothing was changed"
            .into(),
    )
}

fn limited(retry_after_secs: u64, daily: bool) -> ApiError {
    let detail = if daily {
        format!(
            "at most {MAILS_PER_DAY} verification mails a day are sent for an account; \
             nothing was changed; try again in {retry_after_secs} s"
        )
    } else {
        format!(
            "a verification mail was asked for less than {} s ago (mail can take a few \
             minutes; look in the spam folder too); nothing was changed; try again in \
             {retry_after_secs} s",
            MAIL_GAP_MS / 1000
        )
    };
    ApiError::TooManyRequests {
        detail,
        retry_after_secs,
    }
}

/// Make `address` the user's, unverified, and mail it a secret; the
/// user's address already changes nothing.
pub async fn change_address(
    state: &AppState,
    user: &User,
    address: &str,
) -> Result<User, ApiError> {
    if user.email.as_deref() == Some(address) {
        return Ok(user.clone());
    }
    if !state.config.mail {
        return Err(no_mail_server());
    }
    let now = Utc::now();
    match state
        .store
        .request_verification(&user.id, Some(address), &mail(user, now), now)
        .await?
    {
        Requested::Queued(user) | Requested::Unchanged(user) => Ok(user),
        Requested::Limited {
            retry_after_secs,
            daily,
        } => Err(limited(retry_after_secs, daily)),
        Requested::NoAddress | Requested::NoUser => Err(ApiError::NotFound),
    }
}

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
    if !state.config.mail {
        return Err(no_mail_server());
    }
    let now = Utc::now();
    let mail = mail(&user, now);
    match state
        .store
        .request_verification(&user.id, None, &mail, now)
        .await?
    {
        Requested::Queued(user) => Ok((
            StatusCode::ACCEPTED,
            axum::Json(VerificationSent {
                email: user.email.unwrap_or_default(),
                expires_at: mail.expires_at,
            }),
        )),
        Requested::Unchanged(user) => Err(ApiError::Conflict(format!(
            "{} is verified already",
            user.email.unwrap_or_default()
        ))),
        Requested::NoAddress => Err(ApiError::Conflict(
            "you have no e-mail address to verify; set one with PATCH /api/v1/me {\"email\": …}"
                .into(),
        )),
        Requested::Limited {
            retry_after_secs,
            daily,
        } => Err(limited(retry_after_secs, daily)),
        Requested::NoUser => Err(ApiError::Unauthorized),
    }
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
    let user = state
        .store
        .verify_email(&secret::digest(v.token.trim()), Utc::now())
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "token",
                format!(
                    "this code is unknown, used or expired (a code works once, for \
                     {VALID_HOURS} hours, for the address it was mailed to); nothing was \
                     changed; ask for a new mail with POST /api/v1/me/email/verification"
                ),
            )
        })?;
    // So that no cached lookup shows the address unverified.
    state.tokens.forget_user(&user.id);
    Ok(axum::Json(EmailVerified {
        email: user.email.unwrap_or_default(),
        email_verified: user.email_verified,
    }))
}
