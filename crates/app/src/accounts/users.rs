//! Users: creating one (by registration or by the operator), finding one
//! by name, and changing one's profile (time zone, date order and e-mail
//! address).

use chrono::Utc;
use dueflow_domain::ids::{IdKind, new_id};
use dueflow_domain::quickadd::DateOrder;
use dueflow_domain::zone::parse_zone;
use dueflow_store::{Preferences, StoreError, User};

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

/// Read a date order: `dmy`, `mdy` or `ymd`.
fn date_order(raw: &str) -> Result<DateOrder, AppError> {
    DateOrder::parse(raw).ok_or_else(|| {
        AppError::invalid(
            "date_order",
            format!(
                "'{}' is not a date order; use dmy (31/12/2026), mdy (12/31/2026) \
                 or ymd (2026/12/31)",
                raw.trim()
            ),
        )
    })
}

/// What a profile change sets; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileChange<'a> {
    /// An IANA zone name.
    pub tz: Option<&'a str>,
    /// `dmy`, `mdy` or `ymd`.
    pub date_order: Option<&'a str>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<&'a str>>,
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
    /// goes through [`App::register`]) in zone `tz` (UTC when left out)
    /// writing dates in `order` (day first when left out).
    pub async fn create_user(
        &self,
        name: &str,
        pass: String,
        tz: Option<&str>,
        order: Option<&str>,
    ) -> Result<User, AppError> {
        let name = user_name(name)?;
        password::check_policy(&pass)?;
        let tz = tz
            .map(|t| parse_zone("tz", t))
            .transpose()?
            .unwrap_or(chrono_tz::UTC);
        let date_order = order.map(date_order).transpose()?.unwrap_or_default();
        let hash = password::hash(pass).await?;
        let user = User {
            id: new_id(IdKind::User),
            name,
            tz,
            created_at: Utc::now(),
            email: None,
            email_verified: false,
            date_order,
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
        order: Option<&str>,
    ) -> Result<User, AppError> {
        if !self.config.open_registration {
            return Err(AppError::Forbidden(
                "registration is closed on this server; ask its operator for an account".into(),
            ));
        }
        self.create_user(name, pass, tz, order).await
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

    /// Change the time zone, the date order and the e-mail address (a new
    /// one is stored unverified and mailed a code). Everything is checked
    /// before anything changes.
    pub async fn update_profile(
        &self,
        user: &User,
        change: ProfileChange<'_>,
    ) -> Result<User, AppError> {
        let preferences = Preferences {
            tz: change.tz.map(|t| parse_zone("tz", t)).transpose()?,
            date_order: change.date_order.map(date_order).transpose()?,
        };
        let email = change
            .email
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
        if preferences != Preferences::default() {
            user = self
                .store
                .set_preferences(&user.id, preferences)
                .await?
                .ok_or(AppError::NotFound)?;
        }
        Ok(user)
    }
}
