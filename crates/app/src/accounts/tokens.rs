//! API tokens and login sessions: a token is 256 random bits shown once
//! and stored as a digest; a session is a token that a login issues and
//! that expires. Logging in counts every attempt against the limits in
//! [`super::limiter`] before the password is checked.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_store::{TokenKind, TokenRecord, User};

use super::users::user_name;
use super::{password, secret};
use crate::{App, AppError};

/// Longest token name, in characters.
const NAME_MAX: usize = 100;

/// What a successful login gives: the session's secret (shown once), until
/// when it lasts, and whose it is.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

impl App {
    /// Issue a new API token named `name` for `user_id`; the secret is in
    /// the answer only.
    pub async fn issue_token(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<(TokenRecord, String), AppError> {
        // Counted as sent, spaces around it too (as the published schema
        // says); kept without them.
        if name.trim().is_empty() || name.chars().count() > NAME_MAX {
            return Err(AppError::invalid(
                "name",
                format!("a token name has 1–{NAME_MAX} characters"),
            ));
        }
        let record = TokenRecord {
            id: new_id(IdKind::Token),
            user_id: user_id.to_owned(),
            name: name.trim().to_owned(),
            kind: TokenKind::Api,
            created_at: Utc::now(),
            expires_at: None,
        };
        let token = secret::generate();
        self.store
            .insert_token(&record, &secret::digest(&token))
            .await?;
        Ok((record, token))
    }

    /// The user's API tokens and sessions, without their secrets.
    pub async fn tokens(&self, user: &User) -> Result<Vec<TokenRecord>, AppError> {
        Ok(self.store.list_tokens(&user.id).await?)
    }

    /// Revoke one of the user's tokens or sessions.
    pub async fn revoke_token(&self, user: &User, token_id: &str) -> Result<(), AppError> {
        if self.store.revoke_token(&user.id, token_id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Check a name and password from `address` and start a session.
    pub async fn log_in(
        &self,
        name: &str,
        pass: String,
        address: IpAddr,
    ) -> Result<Session, AppError> {
        // A name no account can have is refused before it is counted (the
        // limiter keeps the names it counts) or hashed; the naming rule is
        // public, so this tells nothing.
        let Ok(name) = user_name(name) else {
            return Err(AppError::BadCredentials);
        };
        // Counted before the check, so that parallel guesses meet the limit.
        let attempt = self
            .limiter
            .attempt(&name, address)
            .map_err(|retry_after_secs| AppError::TooManyRequests {
                detail: format!("too many failed attempts; try again in {retry_after_secs} s"),
                retry_after_secs,
            })?;
        let found = match self.store.user_credentials(&name).await {
            Ok(found) => found,
            Err(e) => {
                self.limiter.withdraw(attempt);
                return Err(e.into());
            }
        };
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, None),
        };
        let matched = match password::verify(pass, hash).await {
            Ok(matched) => matched,
            Err(busy) => {
                self.limiter.withdraw(attempt);
                return Err(busy);
            }
        };
        // Dropped unreported, the attempt stays counted as a failure.
        let Some(user) = user.filter(|_| matched) else {
            return Err(AppError::BadCredentials);
        };
        self.limiter.succeeded(attempt);
        let now = Utc::now();
        let expires_at = now + Duration::days(self.config.session_days);
        let record = TokenRecord {
            id: new_id(IdKind::Token),
            user_id: user.id.clone(),
            name: "web session".into(),
            kind: TokenKind::Session,
            created_at: now,
            expires_at: Some(expires_at),
        };
        let token = secret::generate();
        self.store
            .insert_token(&record, &secret::digest(&token))
            .await?;
        Ok(Session {
            token,
            expires_at,
            user,
        })
    }
}
