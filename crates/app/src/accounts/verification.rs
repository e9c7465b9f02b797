//! E-mail address verification. Setting an address mails it a secret and
//! leaves it unverified; product mail goes to it only after the secret
//! comes back, which needs no login: the secret proves the mailbox, and it
//! verifies only the address it was mailed to. A new mail can be asked for
//! as often as the store's limit allows.

use chrono::{DateTime, Duration, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::verification::{MAIL_GAP_MS, MAILS_PER_DAY};
use dueflow_store::{Requested, User, VerificationMail};

use super::secret;
use crate::{App, AppError};

/// How long a mailed secret verifies its address.
const VALID_HOURS: i64 = 24;

/// A verification mail on its way.
pub struct VerificationSent {
    /// The address the mail goes to.
    pub email: String,
    /// Until when the mailed code verifies it.
    pub expires_at: DateTime<Utc>,
}

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

fn no_mail_server() -> AppError {
    AppError::Conflict(
        "this server sends no mail (its operator has configured no SMTP server), so an \
         e-mail address cannot be verified and would receive nothing; nothing was changed"
            .into(),
    )
}

fn limited(retry_after_secs: u64, daily: bool) -> AppError {
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
    AppError::TooManyRequests {
        detail,
        retry_after_secs,
    }
}

impl App {
    /// Make `address` the user's, unverified, and mail it a secret; the
    /// user's address already changes nothing.
    pub(crate) async fn change_address(
        &self,
        user: &User,
        address: &str,
    ) -> Result<User, AppError> {
        if user.email.as_deref() == Some(address) {
            return Ok(user.clone());
        }
        if !self.config.mail {
            return Err(no_mail_server());
        }
        let now = Utc::now();
        match self
            .store
            .request_verification(&user.id, Some(address), &mail(user, now), now)
            .await?
        {
            Requested::Queued(user) | Requested::Unchanged(user) => Ok(user),
            Requested::Limited {
                retry_after_secs,
                daily,
            } => Err(limited(retry_after_secs, daily)),
            Requested::NoAddress | Requested::NoUser => Err(AppError::NotFound),
        }
    }

    /// Mail a new verification code to the user's unverified address.
    pub async fn send_email_verification(&self, user: &User) -> Result<VerificationSent, AppError> {
        if !self.config.mail {
            return Err(no_mail_server());
        }
        let now = Utc::now();
        let mail = mail(user, now);
        match self
            .store
            .request_verification(&user.id, None, &mail, now)
            .await?
        {
            Requested::Queued(user) => Ok(VerificationSent {
                email: user.email.unwrap_or_default(),
                expires_at: mail.expires_at,
            }),
            Requested::Unchanged(user) => Err(AppError::Conflict(format!(
                "{} is verified already",
                user.email.unwrap_or_default()
            ))),
            Requested::NoAddress => Err(AppError::Conflict(
                "you have no e-mail address to verify; set one with PATCH /api/v1/me {\"email\": …}"
                    .into(),
            )),
            Requested::Limited {
                retry_after_secs,
                daily,
            } => Err(limited(retry_after_secs, daily)),
            Requested::NoUser => Err(AppError::NotFound),
        }
    }

    /// Verify the address `code` was mailed to; the user, verified.
    pub async fn verify_email(&self, code: &str) -> Result<User, AppError> {
        self.store
            .verify_email(&secret::digest(code.trim()), Utc::now())
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "token",
                    format!(
                        "this code is unknown, used or expired (a code works once, for \
                         {VALID_HOURS} hours, for the address it was mailed to); nothing was \
                         changed; ask for a new mail with POST /api/v1/me/email/verification"
                    ),
                )
            })
    }
}
