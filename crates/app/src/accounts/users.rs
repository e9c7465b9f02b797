//! Users: creating one (by registration or by the operator), finding one
//! by name, and changing one's profile (time zone and e-mail address).

use chrono::Utc;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::zone::parse_zone;
use dueflow_store::{StoreError, User};

use super::password;
use crate::{App, AppError};

/// Normalise and check a user name: 1–64 of a–z, 0–9, `.`, `_`, `-`.
pub fn user_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(name)
    } else {
        Err(AppError::invalid(
            "name",
            "a user name has 1–64 characters: letters a–z, digits, '.', '_' or '-'",
        ))
    }
}

/// Check an e-mail address enough to catch typos; the mail server has the
/// last word.
fn email_address(raw: &str) -> Result<String, AppError> {
    let e = raw.trim();
    let bad = || {
        AppError::invalid(
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

impl App {
    /// Create a user (the operator's `dueflow user add`; registration
    /// goes through [`App::register`]).
    pub async fn create_user(
        &self,
        name: &str,
        pass: String,
        tz: Option<&str>,
    ) -> Result<User, AppError> {
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
        match self.store.create_user(&user, &hash).await {
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(format!(
                "the name '{}' is taken",
                user.name
            ))),
            other => other.map(|()| user).map_err(Into::into),
        }
    }

    /// Create a user on their own request, where the server allows it.
    pub async fn register(
        &self,
        name: &str,
        pass: String,
        tz: Option<&str>,
    ) -> Result<User, AppError> {
        if !self.config.open_registration {
            return Err(AppError::Forbidden(
                "registration is closed on this server; ask its operator for an account".into(),
            ));
        }
        self.create_user(name, pass, tz).await
    }

    /// The user of a name (any case).
    pub async fn user_by_name(&self, name: &str) -> Result<User, AppError> {
        let name = name.trim().to_lowercase();
        self.store
            .user_credentials(&name)
            .await?
            .map(|(user, _)| user)
            .ok_or(AppError::NotFound)
    }

    /// Change the time zone and the e-mail address (`Some(None)` removes
    /// it; a new one is stored unverified and mailed a code). Everything
    /// is checked before anything changes.
    pub async fn update_profile(
        &self,
        user: &User,
        tz: Option<&str>,
        email: Option<Option<&str>>,
    ) -> Result<User, AppError> {
        let tz = tz.map(|t| parse_zone("tz", t)).transpose()?;
        let email = email
            .map(|e| e.map(email_address).transpose())
            .transpose()?;
        let mut user = user.clone();
        // The address first: it is the change that can be refused.
        match email {
            Some(Some(address)) => user = self.change_address(&user, &address).await?,
            Some(None) => {
                user = self
                    .store
                    .clear_email(&user.id)
                    .await?
                    .ok_or(AppError::NotFound)?;
            }
            None => {}
        }
        if let Some(tz) = tz {
            user = self
                .store
                .set_user_tz(&user.id, tz)
                .await?
                .ok_or(AppError::NotFound)?;
        }
        Ok(user)
    }
}
